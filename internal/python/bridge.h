// The C half of the CPython bridge. Every entry point takes the GIL on entry
// and releases it before returning, on a thread state cached per OS thread,
// so Go never holds the GIL across goroutine switches.
#ifndef KSML_PYTHON_BRIDGE_H
#define KSML_PYTHON_BRIDGE_H

#include <stddef.h>
#include <stdint.h>

// ksml_buf is a growable byte buffer owned by C (malloc'ed).
typedef struct {
	char *data;
	size_t len;
	size_t cap;
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
              int64_t deadline_ns, int json_out, ksml_buf *out);
void ksml_decref(void *obj);
int ksml_obj_value(void *obj, int json, ksml_buf *out);
int ksml_watchdog(int64_t now_ns);
void ksml_buf_free(ksml_buf *b);
int ksml_buf_put(ksml_buf *b, const void *p, size_t n);

#endif
