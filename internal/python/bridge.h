// The C half of the CPython bridge. Every entry point takes the GIL on entry
// and releases it before returning, on a thread state cached per OS thread,
// so Go never holds the GIL across goroutine switches.
#ifndef KSML_PYTHON_BRIDGE_H
#define KSML_PYTHON_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

// ksml_buf is a growable byte buffer whose data is owned by C (malloc'ed);
// whoever holds the ksml_buf frees data with ksml_buf_free. A failed
// allocation sets failed, after which every put fails, so an encoder checks
// once at its end instead of after every byte.
typedef struct {
	char *data;
	size_t len;
	size_t cap;
	int failed;
} ksml_buf;

// Status codes returned by the entry points.
enum {
	KSML_OK = 0,
	KSML_PYERR = 1,   // a Python exception; out holds the encoded error tuple
	KSML_CONVERR = 2, // the result could not be converted; out holds a message
	KSML_FATAL = 3,   // the bridge itself failed; out holds a message
	KSML_ARGERR = 4   // an argument could not be made a Python object; out holds a message
};

// Guard flags (pythonContext settings) for the audit hook.
enum {
	KSML_ALLOW_FILE = 1 << 0,
	KSML_ALLOW_SOCKET = 1 << 1,
	KSML_ALLOW_NATIVE = 1 << 2,
	KSML_ALLOW_PROCESS = 1 << 3,
	KSML_ALLOW_THREAD = 1 << 4,
	KSML_GUARDS_ON = 1 << 8
};

int ksml_init(const char *bootstrap, ksml_buf *err);
void ksml_set_guards(int flags);
int ksml_helper(const char *name, const char *in, size_t inlen, int nargs, int64_t deadline_ns, ksml_buf *out);
// ksml_call calls fn; json_out selects the result form: 0 the value
// encoding, 1 JSON text, 2 the value encoding with dicts and lists kept as
// object references.
int ksml_call(void *fn, const char *in, size_t inlen, int nargs, uintptr_t ctx,
              int64_t deadline_ns, int64_t fn_id, int json_out, ksml_buf *out);
void ksml_decref(void *obj);
int ksml_obj_value(void *obj, int json, ksml_buf *out);
// ksml_watch_scan looks at every watched thread without the GIL: it wakes
// threads sleeping past their deadline and returns how many calls are due for
// a FunctionTimeout; calls still running grace_ns past their deadline are
// listed in stuck_fn/stuck_since (up to max; *nstuck is the full count).
int ksml_watch_scan(int64_t now_ns, int64_t grace_ns, int64_t *stuck_fn, int64_t *stuck_since, int max, int *nstuck);
// ksml_watch_fire takes the GIL and raises FunctionTimeout in every call past
// its deadline.
int ksml_watch_fire(int64_t now_ns);
// ksml_watched_threads is the number of OS threads with a watchdog slot.
int ksml_watched_threads(void);
// ksml_refs_live is the number of object references handed to Go and not
// yet released (a leak counter for tests).
int64_t ksml_refs_live(void);
void ksml_buf_free(ksml_buf *b);
int ksml_buf_put(ksml_buf *b, const void *p, size_t n);

#endif
