// The C half of the CPython bridge: interpreter setup, per-thread states,
// the value codec between Go's byte encoding and Python objects, a JSON
// writer, the host module that Python code calls back through, the audit
// hook that enforces pythonContext settings, and the timeout watchdog.

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "bridge.h"
#include "_cgo_export.h"

// ---------------------------------------------------------------- state

static PyInterpreterState *g_interp;
static PyObject *g_helpers;        // dict of the _ksml bootstrap module
static PyObject *g_format_exc;     // _ksml.format_exc
static PyObject *g_scan_once;      // json scanner for raw JSON input
static PyObject *g_timeout_exc;    // _ksml.FunctionTimeout
static atomic_int g_guards;

static __thread PyThreadState *t_ts;
static __thread int t_depth;       // GIL re-entrancy on this thread
static __thread uintptr_t t_ctx;   // Go handle of the current CallContext
static __thread int t_internal;    // >0 while bridge helpers run (no guards)

// enter takes the GIL on this OS thread, creating its thread state once.
static inline void enter(void) {
	if (t_depth++ > 0) return;
	if (t_ts == NULL) t_ts = PyThreadState_New(g_interp);
	PyEval_RestoreThread(t_ts);
}

static inline void leave(void) {
	if (--t_depth > 0) return;
	PyEval_SaveThread();
}

// ---------------------------------------------------------------- buffers

int ksml_buf_put(ksml_buf *b, const void *p, size_t n) {
	if (b->failed) return -1;
	if (b->len + n > b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 256;
		while (nc < b->len + n) nc *= 2;
		char *nd = realloc(b->data, nc);
		if (!nd) {
			b->failed = 1;
			return -1;
		}
		b->data = nd;
		b->cap = nc;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

void ksml_buf_free(ksml_buf *b) {
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}

// buf_reset empties b for a new result, keeping its allocation.
static inline void buf_reset(ksml_buf *b) {
	b->len = 0;
	b->failed = 0;
}

static inline int put_byte(ksml_buf *b, char c) { return ksml_buf_put(b, &c, 1); }
static inline int put_u32(ksml_buf *b, uint32_t v) { return ksml_buf_put(b, &v, 4); }
static inline int put_i64(ksml_buf *b, int64_t v) { return ksml_buf_put(b, &v, 8); }

// buf_check turns a failed allocation during encoding into a MemoryError
// (GIL held); it returns rc, or -1 when the buffer failed.
static int buf_check(ksml_buf *b, int rc) {
	if (b->failed) {
		if (!PyErr_Occurred()) PyErr_NoMemory();
		return -1;
	}
	return rc;
}

static void buf_msg(ksml_buf *b, const char *msg) {
	buf_reset(b);
	ksml_buf_put(b, msg, strlen(msg));
}

// refs records the references an encoding with allow_ptr handed out, so a
// failure half-way releases them again (GIL held).
typedef struct {
	PyObject **items;
	size_t len, cap;
} reflist;

static int refs_add(reflist *r, PyObject *o) {
	if (r->len == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 8;
		PyObject **ni = realloc(r->items, nc * sizeof(PyObject *));
		if (!ni) return -1;
		r->items = ni;
		r->cap = nc;
	}
	r->items[r->len++] = o;
	return 0;
}

// refs_done frees the list; with drop it also releases the references.
static void refs_done(reflist *r, int drop) {
	if (drop) {
		for (size_t i = 0; i < r->len; i++) Py_DECREF(r->items[i]);
	}
	free(r->items);
	r->items = NULL;
	r->len = r->cap = 0;
}

// g_refs_out and g_refs_back count the references handed to Go and the ones
// Go released, so tests can tell a leak from a live object.
static atomic_llong g_refs_out, g_refs_back;

int64_t ksml_refs_live(void) { return atomic_load(&g_refs_out) - atomic_load(&g_refs_back); }

// utf8_of returns the UTF-8 form of a str. A str that strict UTF-8 cannot
// encode (lone surrogates, as bytes.decode(..., "surrogateescape") makes)
// goes out unchanged byte for byte: surrogateescape gives back the original
// bytes, and other surrogates are written as they are (surrogatepass).
// *tmp holds a bytes object the caller releases.
static const char *utf8_of(PyObject *obj, Py_ssize_t *n, PyObject **tmp) {
	*tmp = NULL;
	const char *s = PyUnicode_AsUTF8AndSize(obj, n);
	if (s) return s;
	if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) return NULL;
	PyErr_Clear();
	PyObject *b = PyUnicode_AsEncodedString(obj, "utf-8", "surrogateescape");
	if (!b) {
		if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) return NULL;
		PyErr_Clear();
		b = PyUnicode_AsEncodedString(obj, "utf-8", "surrogatepass");
		if (!b) return NULL;
	}
	*tmp = b;
	*n = PyBytes_GET_SIZE(b);
	return PyBytes_AS_STRING(b);
}

// ---------------------------------------------------------------- decoding

typedef struct {
	const unsigned char *p;
	const unsigned char *end;
} reader;

static int rd_u32(reader *r, uint32_t *v) {
	if (r->end - r->p < 4) return -1;
	memcpy(v, r->p, 4);
	r->p += 4;
	return 0;
}

static int rd_i64(reader *r, int64_t *v) {
	if (r->end - r->p < 8) return -1;
	memcpy(v, r->p, 8);
	r->p += 8;
	return 0;
}

static PyObject *decode_json(const char *s, Py_ssize_t n) {
	PyObject *str = PyUnicode_DecodeUTF8(s, n, "replace");
	if (!str) return NULL;
	// Skip leading whitespace the scanner does not accept.
	Py_ssize_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
	PyObject *idx = PyLong_FromSsize_t(i);
	if (!idx) {
		Py_DECREF(str);
		return NULL;
	}
	PyObject *res = PyObject_CallFunctionObjArgs(g_scan_once, str, idx, NULL);
	Py_DECREF(idx);
	if (!res) {
		if (PyErr_ExceptionMatches(PyExc_StopIteration)) {
			PyErr_Clear();
			PyErr_SetString(PyExc_ValueError, "invalid JSON value");
		}
		Py_DECREF(str);
		return NULL;
	}
	Py_ssize_t end = PyLong_AsSsize_t(PyTuple_GET_ITEM(res, 1));
	Py_ssize_t len = PyUnicode_GET_LENGTH(str);
	Py_UCS4 ch;
	while (end < len && ((ch = PyUnicode_READ_CHAR(str, end)) == ' ' || ch == '\n' || ch == '\t' || ch == '\r')) end++;
	Py_DECREF(str);
	if (end != len) {
		Py_DECREF(res);
		PyErr_SetString(PyExc_ValueError, "invalid JSON value: extra data after the value");
		return NULL;
	}
	PyObject *obj = PyTuple_GET_ITEM(res, 0);
	Py_INCREF(obj);
	Py_DECREF(res);
	return obj;
}

static PyObject *decode(reader *r) {
	if (r->p >= r->end) {
		PyErr_SetString(PyExc_ValueError, "ksml: truncated value encoding");
		return NULL;
	}
	unsigned char tag = *r->p++;
	uint32_t n;
	int64_t i;
	double d;
	switch (tag) {
	case 'N': Py_RETURN_NONE;
	case 'T': Py_RETURN_TRUE;
	case 'F': Py_RETURN_FALSE;
	case 'I':
		if (rd_i64(r, &i)) break;
		return PyLong_FromLongLong(i);
	case 'D':
		if (rd_i64(r, &i)) break;
		memcpy(&d, &i, 8);
		return PyFloat_FromDouble(d);
	case 'S':
	case 'B':
	case 'J':
		if (rd_u32(r, &n) || (size_t)(r->end - r->p) < n) break;
		{
			const char *s = (const char *)r->p;
			r->p += n;
			// Invalid UTF-8 reads as Java's StringDeserializer reads it:
			// each malformed sequence becomes U+FFFD.
			if (tag == 'S') return PyUnicode_DecodeUTF8(s, n, "replace");
			if (tag == 'B') {
				// As upstream: bytes reach Python as a list of ints 0..255.
				PyObject *lst = PyList_New(n);
				if (!lst) return NULL;
				for (uint32_t k = 0; k < n; k++) {
					PyObject *b = PyLong_FromLong((unsigned char)s[k]);
					if (!b) {
						Py_DECREF(lst);
						return NULL;
					}
					PyList_SET_ITEM(lst, k, b);
				}
				return lst;
			}
			return decode_json(s, n);
		}
	case 'L':
	case 'U': {
		if (rd_u32(r, &n)) break;
		PyObject *c = tag == 'L' ? PyList_New(n) : PyTuple_New(n);
		if (!c) return NULL;
		for (uint32_t k = 0; k < n; k++) {
			PyObject *item = decode(r);
			if (!item) {
				Py_DECREF(c);
				return NULL;
			}
			if (tag == 'L') PyList_SET_ITEM(c, k, item);
			else PyTuple_SET_ITEM(c, k, item);
		}
		return c;
	}
	case 'M': {
		if (rd_u32(r, &n)) break;
		PyObject *dct = PyDict_New();
		if (!dct) return NULL;
		for (uint32_t k = 0; k < n; k++) {
			uint32_t kl;
			if (rd_u32(r, &kl) || (size_t)(r->end - r->p) < kl) {
				Py_DECREF(dct);
				goto trunc;
			}
			PyObject *key = PyUnicode_DecodeUTF8((const char *)r->p, kl, "replace");
			r->p += kl;
			if (!key) {
				Py_DECREF(dct);
				return NULL;
			}
			PyObject *val = decode(r);
			if (!val || PyDict_SetItem(dct, key, val) < 0) {
				Py_DECREF(key);
				Py_XDECREF(val);
				Py_DECREF(dct);
				return NULL;
			}
			Py_DECREF(key);
			Py_DECREF(val);
		}
		return dct;
	}
	case 'P':
		if (rd_i64(r, &i)) break;
		{
			PyObject *o = (PyObject *)(uintptr_t)i;
			Py_INCREF(o);
			return o;
		}
	default:
		PyErr_Format(PyExc_ValueError, "ksml: unknown value tag %d", (int)tag);
		return NULL;
	}
trunc:
	PyErr_SetString(PyExc_ValueError, "ksml: truncated value encoding");
	return NULL;
}

// ---------------------------------------------------------------- encoding

// encode writes obj in the value encoding. With refs, objects that have no
// value form are passed as new references ('P') recorded in refs; otherwise
// they fail with a Python TypeError naming the type. A failed allocation of
// the buffer shows in b->failed (see encode_value).
static int encode(ksml_buf *b, PyObject *obj, reflist *refs, int depth) {
	if (depth > 200) {
		PyErr_SetString(PyExc_ValueError, "value nests too deeply (recursive structure?)");
		return -1;
	}
	if (obj == Py_None) return put_byte(b, 'N');
	if (obj == Py_True) return put_byte(b, 'T');
	if (obj == Py_False) return put_byte(b, 'F');
	if (PyLong_Check(obj)) {
		int overflow = 0;
		long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
		if (overflow) {
			PyErr_SetString(PyExc_OverflowError, "integer does not fit in 64 bits");
			return -1;
		}
		if (v == -1 && PyErr_Occurred()) return -1;
		put_byte(b, 'I');
		return put_i64(b, v);
	}
	if (PyFloat_Check(obj)) {
		double d = PyFloat_AS_DOUBLE(obj);
		int64_t i;
		memcpy(&i, &d, 8);
		put_byte(b, 'D');
		return put_i64(b, i);
	}
	if (PyUnicode_Check(obj)) {
		Py_ssize_t n;
		PyObject *tmp;
		const char *s = utf8_of(obj, &n, &tmp);
		if (!s) return -1;
		put_byte(b, 'S');
		put_u32(b, (uint32_t)n);
		int rc = ksml_buf_put(b, s, n);
		Py_XDECREF(tmp);
		return rc;
	}
	if (PyBytes_Check(obj) || PyByteArray_Check(obj)) {
		const char *s = PyBytes_Check(obj) ? PyBytes_AS_STRING(obj) : PyByteArray_AS_STRING(obj);
		Py_ssize_t n = PyBytes_Check(obj) ? PyBytes_GET_SIZE(obj) : PyByteArray_GET_SIZE(obj);
		put_byte(b, 'B');
		put_u32(b, (uint32_t)n);
		return ksml_buf_put(b, s, n);
	}
	if (PyList_Check(obj) || PyTuple_Check(obj)) {
		int isList = PyList_Check(obj);
		Py_ssize_t n = isList ? PyList_GET_SIZE(obj) : PyTuple_GET_SIZE(obj);
		put_byte(b, isList ? 'L' : 'U');
		put_u32(b, (uint32_t)n);
		for (Py_ssize_t k = 0; k < n; k++) {
			// Lists may change size if user code is odd; re-check bounds.
			if (isList && k >= PyList_GET_SIZE(obj)) {
				PyErr_SetString(PyExc_RuntimeError, "list changed size during conversion");
				return -1;
			}
			PyObject *item = isList ? PyList_GET_ITEM(obj, k) : PyTuple_GET_ITEM(obj, k);
			if (encode(b, item, refs, depth + 1) < 0) return -1;
		}
		return 0;
	}
	if (PyDict_Check(obj)) {
		put_byte(b, 'M');
		size_t countAt = b->len;
		put_u32(b, 0);
		uint32_t count = 0;
		Py_ssize_t pos = 0;
		PyObject *k, *v;
		while (PyDict_Next(obj, &pos, &k, &v)) {
			if (!PyUnicode_Check(k)) {
				PyErr_Format(PyExc_TypeError, "dict keys must be str, found %.100s", Py_TYPE(k)->tp_name);
				return -1;
			}
			Py_ssize_t n;
			PyObject *tmp;
			const char *s = utf8_of(k, &n, &tmp);
			if (!s) return -1;
			// Schema markers are added on the way in and dropped on the way out.
			if (n > 0 && s[0] == '@' && (strcmp(s, "@type") == 0 || strcmp(s, "@schema") == 0)) {
				Py_XDECREF(tmp);
				continue;
			}
			put_u32(b, (uint32_t)n);
			ksml_buf_put(b, s, n);
			Py_XDECREF(tmp);
			if (encode(b, v, refs, depth + 1) < 0) return -1;
			count++;
		}
		if (b->failed) return -1;
		memcpy(b->data + countAt, &count, 4);
		return 0;
	}
	if (PyAnySet_Check(obj)) {
		PyObject *lst = PySequence_List(obj);
		if (!lst) return -1;
		int rc = encode(b, lst, refs, depth);
		Py_DECREF(lst);
		return rc;
	}
	if (refs) {
		if (refs_add(refs, obj) < 0) {
			PyErr_NoMemory();
			return -1;
		}
		Py_INCREF(obj);
		put_byte(b, 'P');
		return put_i64(b, (int64_t)(uintptr_t)obj);
	}
	if (PyCallable_Check(obj)) {
		PyErr_Format(PyExc_TypeError, "the code results in a function (%.100s) instead of a value", Py_TYPE(obj)->tp_name);
		return -1;
	}
	PyErr_Format(PyExc_TypeError, "cannot convert Python %.100s to a KSML value", Py_TYPE(obj)->tp_name);
	return -1;
}

// encode_value encodes obj as a whole: 0, or -1 with a Python exception set
// (MemoryError when the buffer could not grow). With refs, the references
// handed out are released again on failure and counted as live on success.
static int encode_value(ksml_buf *b, PyObject *obj, int allow_ptr) {
	reflist refs = {0};
	int rc = buf_check(b, encode(b, obj, allow_ptr ? &refs : NULL, 0));
	if (rc == 0) atomic_fetch_add(&g_refs_out, (long long)refs.len);
	refs_done(&refs, rc < 0);
	return rc;
}

// ---------------------------------------------------------------- JSON writer

static const char hexdig[] = "0123456789abcdef";

static int json_str(ksml_buf *b, const char *s, Py_ssize_t n) {
	put_byte(b, '"');
	Py_ssize_t start = 0;
	for (Py_ssize_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\') continue;
		ksml_buf_put(b, s + start, i - start);
		start = i + 1;
		switch (c) {
		case '"': ksml_buf_put(b, "\\\"", 2); break;
		case '\\': ksml_buf_put(b, "\\\\", 2); break;
		case '\n': ksml_buf_put(b, "\\n", 2); break;
		case '\r': ksml_buf_put(b, "\\r", 2); break;
		case '\t': ksml_buf_put(b, "\\t", 2); break;
		case '\b': ksml_buf_put(b, "\\b", 2); break;
		case '\f': ksml_buf_put(b, "\\f", 2); break;
		default: {
			char esc[6] = {'\\', 'u', '0', '0', hexdig[c >> 4], hexdig[c & 15]};
			ksml_buf_put(b, esc, 6);
		}
		}
	}
	ksml_buf_put(b, s + start, n - start);
	return put_byte(b, '"');
}

// json_double writes d as Java's Double.toString does (as the Go JSON
// writer of internal/types does): shortest digits, at least one fractional
// digit, scientific notation with 'E' outside [1e-3, 1e7).
static int json_double(ksml_buf *b, double d) {
	if (isnan(d)) return ksml_buf_put(b, "\"NaN\"", 5);
	if (isinf(d)) return d > 0 ? ksml_buf_put(b, "\"Infinity\"", 10) : ksml_buf_put(b, "\"-Infinity\"", 11);
	if (d == 0) return signbit(d) ? ksml_buf_put(b, "-0.0", 4) : ksml_buf_put(b, "0.0", 3);
	char *r = PyOS_double_to_string(d, 'r', 0, 0, NULL);
	if (!r) return -1;
	// Split the shortest repr into digits and the position of the point.
	char digits[40];
	int nd = 0, point = 0, seenPoint = 0, exp10 = 0;
	const char *p = r;
	int neg = *p == '-';
	if (neg) p++;
	for (; *p && *p != 'e' && nd < 39; p++) {
		if (*p == '.') {
			seenPoint = 1;
			continue;
		}
		digits[nd++] = *p;
		if (!seenPoint) point++;
	}
	if (*p == 'e') exp10 = atoi(p + 1);
	PyMem_Free(r);
	point += exp10;
	int lead = 0;
	while (lead < nd - 1 && digits[lead] == '0') lead++;
	memmove(digits, digits + lead, nd - lead);
	nd -= lead;
	point -= lead;
	while (nd > 1 && digits[nd - 1] == '0') nd--;
	char out[64];
	int n = 0;
	if (neg) out[n++] = '-';
	double a = fabs(d);
	if (a >= 1e-3 && a < 1e7) {
		if (point <= 0) {
			out[n++] = '0';
			out[n++] = '.';
			for (int i = 0; i < -point; i++) out[n++] = '0';
			for (int i = 0; i < nd; i++) out[n++] = digits[i];
		} else {
			for (int i = 0; i < point; i++) out[n++] = i < nd ? digits[i] : '0';
			out[n++] = '.';
			if (nd > point) {
				for (int i = point; i < nd; i++) out[n++] = digits[i];
			} else {
				out[n++] = '0';
			}
		}
	} else {
		out[n++] = digits[0];
		out[n++] = '.';
		if (nd > 1) {
			for (int i = 1; i < nd; i++) out[n++] = digits[i];
		} else {
			out[n++] = '0';
		}
		n += snprintf(out + n, sizeof out - n, "E%d", point - 1);
	}
	return ksml_buf_put(b, out, n);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int json_base64(ksml_buf *b, const unsigned char *s, Py_ssize_t n) {
	put_byte(b, '"');
	Py_ssize_t i = 0;
	for (; i + 2 < n; i += 3) {
		char q[4] = {b64[s[i] >> 2], b64[((s[i] & 3) << 4) | (s[i + 1] >> 4)],
		             b64[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)], b64[s[i + 2] & 63]};
		ksml_buf_put(b, q, 4);
	}
	if (n - i == 1) {
		char q[4] = {b64[s[i] >> 2], b64[(s[i] & 3) << 4], '=', '='};
		ksml_buf_put(b, q, 4);
	} else if (n - i == 2) {
		char q[4] = {b64[s[i] >> 2], b64[((s[i] & 3) << 4) | (s[i + 1] >> 4)], b64[(s[i + 1] & 15) << 2], '='};
		ksml_buf_put(b, q, 4);
	}
	return put_byte(b, '"');
}

static int encode_json(ksml_buf *b, PyObject *obj, int depth) {
	if (depth > 200) {
		PyErr_SetString(PyExc_ValueError, "value nests too deeply (recursive structure?)");
		return -1;
	}
	if (obj == Py_None) return ksml_buf_put(b, "null", 4);
	if (obj == Py_True) return ksml_buf_put(b, "true", 4);
	if (obj == Py_False) return ksml_buf_put(b, "false", 5);
	if (PyLong_Check(obj)) {
		int overflow = 0;
		long long v = PyLong_AsLongLongAndOverflow(obj, &overflow);
		if (overflow) {
			PyErr_SetString(PyExc_OverflowError, "integer does not fit in 64 bits");
			return -1;
		}
		char tmp[32];
		int n = snprintf(tmp, sizeof tmp, "%lld", v);
		return ksml_buf_put(b, tmp, n);
	}
	if (PyFloat_Check(obj)) return json_double(b, PyFloat_AS_DOUBLE(obj));
	if (PyBytes_Check(obj)) return json_base64(b, (const unsigned char *)PyBytes_AS_STRING(obj), PyBytes_GET_SIZE(obj));
	if (PyByteArray_Check(obj))
		return json_base64(b, (const unsigned char *)PyByteArray_AS_STRING(obj), PyByteArray_GET_SIZE(obj));
	if (PyUnicode_Check(obj)) {
		Py_ssize_t n;
		PyObject *tmp;
		const char *s = utf8_of(obj, &n, &tmp);
		if (!s) return -1;
		int rc = json_str(b, s, n);
		Py_XDECREF(tmp);
		return rc;
	}
	if (PyList_Check(obj) || PyTuple_Check(obj)) {
		int isList = PyList_Check(obj);
		put_byte(b, '[');
		Py_ssize_t n = isList ? PyList_GET_SIZE(obj) : PyTuple_GET_SIZE(obj);
		for (Py_ssize_t k = 0; k < n; k++) {
			if (isList && k >= PyList_GET_SIZE(obj)) break;
			if (k > 0) put_byte(b, ',');
			if (encode_json(b, isList ? PyList_GET_ITEM(obj, k) : PyTuple_GET_ITEM(obj, k), depth + 1) < 0) return -1;
		}
		return put_byte(b, ']');
	}
	if (PyDict_Check(obj)) {
		put_byte(b, '{');
		Py_ssize_t pos = 0;
		PyObject *k, *v;
		int first = 1;
		while (PyDict_Next(obj, &pos, &k, &v)) {
			if (!PyUnicode_Check(k)) {
				PyErr_Format(PyExc_TypeError, "dict keys must be str, found %.100s", Py_TYPE(k)->tp_name);
				return -1;
			}
			Py_ssize_t n;
			PyObject *tmp;
			const char *s = utf8_of(k, &n, &tmp);
			if (!s) return -1;
			if (n > 0 && s[0] == '@' && (strcmp(s, "@type") == 0 || strcmp(s, "@schema") == 0)) {
				Py_XDECREF(tmp);
				continue;
			}
			if (!first) put_byte(b, ',');
			first = 0;
			json_str(b, s, n);
			Py_XDECREF(tmp);
			put_byte(b, ':');
			if (encode_json(b, v, depth + 1) < 0) return -1;
		}
		return put_byte(b, '}');
	}
	if (PyAnySet_Check(obj)) {
		PyObject *lst = PySequence_List(obj);
		if (!lst) return -1;
		int rc = encode_json(b, lst, depth);
		Py_DECREF(lst);
		return rc;
	}
	PyErr_Format(PyExc_TypeError, "cannot write Python %.100s as JSON", Py_TYPE(obj)->tp_name);
	return -1;
}

// encode_json_value writes obj as JSON text: 0, or -1 with a Python
// exception set (MemoryError when the buffer could not grow).
static int encode_json_value(ksml_buf *b, PyObject *obj) { return buf_check(b, encode_json(b, obj, 0)); }

// ---------------------------------------------------------------- errors

// encode_exception turns the pending Python exception into the encoded
// error tuple produced by _ksml.format_exc.
static void encode_exception(ksml_buf *out) {
	PyObject *type, *value, *tb;
	PyErr_Fetch(&type, &value, &tb);
	PyErr_NormalizeException(&type, &value, &tb);
	if (tb && value) PyException_SetTraceback(value, tb);
	buf_reset(out);
	t_internal++;
	PyObject *info = PyObject_CallFunctionObjArgs(g_format_exc, value ? value : Py_None, NULL);
	t_internal--;
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
	if (!info || encode_value(out, info, 0) < 0) {
		PyErr_Clear();
		buf_reset(out);
		put_byte(out, 'S');
		const char *m = "python: the error could not be formatted";
		put_u32(out, strlen(m));
		ksml_buf_put(out, m, strlen(m));
	}
	Py_XDECREF(info);
}

static void conversion_error(ksml_buf *out) {
	PyObject *type, *value, *tb;
	PyErr_Fetch(&type, &value, &tb);
	buf_reset(out);
	PyObject *s = value ? PyObject_Str(value) : NULL;
	const char *msg = s ? PyUnicode_AsUTF8(s) : NULL;
	if (!msg) {
		PyErr_Clear();
		msg = "conversion failed";
	}
	ksml_buf_put(out, msg, strlen(msg));
	Py_XDECREF(s);
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
}

// ---------------------------------------------------------------- host module

static PyObject *host_log_enabled(PyObject *self, PyObject *args) {
	long long id;
	int level;
	if (!PyArg_ParseTuple(args, "Li", &id, &level)) return NULL;
	return PyBool_FromLong(ksmlHostLogEnabled(id, level));
}

static PyObject *host_log(PyObject *self, PyObject *args) {
	long long id;
	int level;
	const char *msg;
	Py_ssize_t n;
	if (!PyArg_ParseTuple(args, "Lis#", &id, &level, &msg, &n)) return NULL;
	ksmlHostLog(id, level, (char *)msg, (size_t)n);
	Py_RETURN_NONE;
}

static PyObject *host_logger(PyObject *self, PyObject *args) {
	const char *name;
	Py_ssize_t n;
	if (!PyArg_ParseTuple(args, "s#", &name, &n)) return NULL;
	return PyLong_FromLongLong(ksmlHostLogger((char *)name, (size_t)n));
}

static PyObject *host_metric(PyObject *self, PyObject *args) {
	int kind;
	const char *name, *tags;
	Py_ssize_t n, tn;
	if (!PyArg_ParseTuple(args, "is#s#", &kind, &name, &n, &tags, &tn)) return NULL;
	return PyLong_FromLongLong(ksmlHostMetric(kind, (char *)name, (size_t)n, (char *)tags, (size_t)tn));
}

static PyObject *host_metric_update(PyObject *self, PyObject *args) {
	long long id;
	double v;
	if (!PyArg_ParseTuple(args, "Ld", &id, &v)) return NULL;
	ksmlHostMetricUpdate(id, v);
	Py_RETURN_NONE;
}

// host_store(name, op, *args) calls a store operation in Go.
static PyObject *host_store(PyObject *self, PyObject *args) {
	Py_ssize_t nargs = PyTuple_GET_SIZE(args);
	if (nargs < 2) {
		PyErr_SetString(PyExc_TypeError, "store call needs a name and an operation");
		return NULL;
	}
	Py_ssize_t nl;
	const char *name = PyUnicode_AsUTF8AndSize(PyTuple_GET_ITEM(args, 0), &nl);
	if (!name) return NULL;
	int op = (int)PyLong_AsLong(PyTuple_GET_ITEM(args, 1));
	if (op == -1 && PyErr_Occurred()) return NULL;
	if (t_ctx == 0) {
		PyErr_Format(PyExc_RuntimeError, "state store %s is not available outside a function call", name);
		return NULL;
	}
	ksml_buf in = {0}, out = {0};
	for (Py_ssize_t k = 2; k < nargs; k++) {
		if (encode_value(&in, PyTuple_GET_ITEM(args, k), 0) < 0) {
			ksml_buf_free(&in);
			return NULL;
		}
	}
	int rc = ksmlHostStore(t_ctx, (char *)name, (size_t)nl, op, in.data, in.len, (int)(nargs - 2), &out);
	ksml_buf_free(&in);
	PyObject *res = NULL;
	if (rc == 0 && out.failed) {
		PyErr_NoMemory();
	} else if (rc == 0) {
		reader r = {(const unsigned char *)out.data, (const unsigned char *)out.data + out.len};
		res = decode(&r);
	} else {
		PyObject *exc = rc == 2 ? PyExc_KeyError : PyExc_RuntimeError;
		PyObject *msg = PyUnicode_DecodeUTF8(out.data ? out.data : "", out.len, "replace");
		if (msg) {
			PyErr_SetObject(exc, msg);
			Py_DECREF(msg);
		}
	}
	ksml_buf_free(&out);
	return res;
}

// host_run_user(fn, *args) calls fn with the pythonContext guards active,
// for user code that bridge helpers run (globalCode at definition time).
static PyObject *host_run_user(PyObject *self, PyObject *args) {
	Py_ssize_t n = PyTuple_GET_SIZE(args);
	if (n < 1) {
		PyErr_SetString(PyExc_TypeError, "run_user needs a callable");
		return NULL;
	}
	PyObject *rest = PyTuple_GetSlice(args, 1, n);
	if (!rest) return NULL;
	int saved = t_internal;
	t_internal = 0;
	PyObject *res = PyObject_Call(PyTuple_GET_ITEM(args, 0), rest, NULL);
	t_internal = saved;
	Py_DECREF(rest);
	return res;
}

static PyObject *host_sleep(PyObject *self, PyObject *arg);

static PyMethodDef host_methods[] = {
	{"run_user", host_run_user, METH_VARARGS, NULL},
	{"log_enabled", host_log_enabled, METH_VARARGS, NULL},
	{"log", host_log, METH_VARARGS, NULL},
	{"logger", host_logger, METH_VARARGS, NULL},
	{"metric", host_metric, METH_VARARGS, NULL},
	{"metric_update", host_metric_update, METH_VARARGS, NULL},
	{"store", host_store, METH_VARARGS, NULL},
	{"sleep", host_sleep, METH_O, NULL},
	{NULL, NULL, 0, NULL},
};

static struct PyModuleDef host_module = {PyModuleDef_HEAD_INIT, "_ksmlhost", NULL, -1, host_methods};

static PyObject *init_host(void) { return PyModule_Create(&host_module); }

// ---------------------------------------------------------------- audit hook

// in_import reports whether the running Python code is the import system
// (which reads module files and lists directories on the user's behalf).
static int in_import(void) {
	PyFrameObject *f = PyEval_GetFrame();
	if (f) Py_INCREF(f);
	int found = 0;
	for (int depth = 0; f && depth < 64 && !found; depth++) {
		PyCodeObject *code = PyFrame_GetCode(f);
		const char *fn = PyUnicode_AsUTF8(code->co_filename);
		if (fn && (strncmp(fn, "<frozen importlib", 17) == 0 || strncmp(fn, "<frozen zipimport", 17) == 0)) found = 1;
		Py_DECREF(code);
		PyFrameObject *back = PyFrame_GetBack(f);
		Py_DECREF(f);
		f = back;
	}
	Py_XDECREF(f);
	if (!found && PyErr_Occurred()) PyErr_Clear();
	return found;
}

static int has_prefix(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

static int audit_hook(const char *event, PyObject *args, void *userData) {
	int flags = atomic_load_explicit(&g_guards, memory_order_relaxed);
	if (!(flags & KSML_GUARDS_ON) || t_internal > 0) return 0;
	int need = 0;
	const char *setting = NULL, *what = NULL;
	if (strcmp(event, "open") == 0 || has_prefix(event, "os.listdir") || has_prefix(event, "os.scandir") ||
	    strcmp(event, "os.remove") == 0 || strcmp(event, "os.rename") == 0 || strcmp(event, "os.mkdir") == 0 ||
	    strcmp(event, "os.rmdir") == 0 || strcmp(event, "os.chmod") == 0 || strcmp(event, "os.chown") == 0 ||
	    strcmp(event, "os.truncate") == 0 || strcmp(event, "os.link") == 0 || strcmp(event, "os.symlink") == 0 ||
	    strcmp(event, "os.utime") == 0 || strcmp(event, "os.chdir") == 0 || has_prefix(event, "shutil.")) {
		need = KSML_ALLOW_FILE;
		setting = "allowHostFileAccess";
		what = "host file access";
	} else if (has_prefix(event, "socket.")) {
		need = KSML_ALLOW_SOCKET;
		setting = "allowHostSocketAccess";
		what = "host socket access";
	} else if (strcmp(event, "subprocess.Popen") == 0 || strcmp(event, "os.system") == 0 ||
	           strcmp(event, "os.exec") == 0 || strcmp(event, "os.posix_spawn") == 0 ||
	           strcmp(event, "os.spawn") == 0 || strcmp(event, "os.fork") == 0 ||
	           strcmp(event, "os.forkpty") == 0 || strcmp(event, "os.kill") == 0 ||
	           strcmp(event, "os.killpg") == 0 || strcmp(event, "pty.spawn") == 0) {
		need = KSML_ALLOW_PROCESS;
		setting = "allowCreateProcess";
		what = "creating processes";
	} else if (strcmp(event, "_thread.start_new_thread") == 0) {
		need = KSML_ALLOW_THREAD;
		setting = "allowCreateThread";
		what = "creating threads";
	} else if (has_prefix(event, "ctypes.")) {
		need = KSML_ALLOW_NATIVE;
		setting = "allowNativeAccess";
		what = "native access";
	}
	if (!need || (flags & need)) return 0;
	// Imports read module files and may load native code (ctypes) while a
	// package initializes; that is the package's own doing, not user code.
	if ((need == KSML_ALLOW_FILE || need == KSML_ALLOW_NATIVE) && in_import()) return 0;
	PyErr_Format(PyExc_PermissionError,
	             "%s is not allowed (%s); set ksml.pythonContext.%s: true to allow it", what, event, setting);
	return -1;
}

void ksml_set_guards(int flags) { atomic_store(&g_guards, flags); }

// ---------------------------------------------------------------- watchdog

// Every OS thread that runs a call with a deadline gets a slot, allocated
// once and linked into a list that only grows (Go keeps a bounded set of OS
// threads, and a slot is a few dozen bytes), so any number of threads is
// watched. The watchdog reads the slots without the GIL; the deadline, the
// deadline already fired and the wake-up word are atomics.
typedef struct slot {
	atomic_llong deadline;       // 0 when no call with a deadline is running
	atomic_llong fired;          // the deadline a FunctionTimeout was raised for
	atomic_llong wake;           // the deadline a sleeper was woken for
	atomic_llong fn;             // id of the function the call runs
	unsigned long thread_id;
	pthread_mutex_t mu;          // guards the sleeper's wait on cv
	pthread_cond_t cv;
	struct slot *next;
} slot_t;

static _Atomic(slot_t *) g_slots;
static atomic_int g_nslots;
static __thread slot_t *t_slot;

// my_slot returns this thread's slot, creating it on first use; NULL when it
// cannot be allocated (the caller refuses the call).
static slot_t *my_slot(void) {
	if (t_slot) return t_slot;
	slot_t *s = calloc(1, sizeof *s);
	if (!s) return NULL;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_mutex_init(&s->mu, NULL) != 0 || pthread_cond_init(&s->cv, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		free(s);
		return NULL;
	}
	pthread_condattr_destroy(&ca);
	s->thread_id = PyThread_get_thread_ident();
	slot_t *head = atomic_load(&g_slots);
	do {
		s->next = head;
	} while (!atomic_compare_exchange_weak(&g_slots, &head, s));
	atomic_fetch_add(&g_nslots, 1);
	t_slot = s;
	return s;
}

int ksml_watched_threads(void) { return atomic_load(&g_nslots); }

static inline void arm(slot_t *slot, int64_t deadline, int64_t fn) {
	atomic_store(&slot->fn, fn);
	atomic_store(&slot->deadline, deadline);
}

// disarm ends the watched section of a call (GIL held).
static void disarm(slot_t *slot, int64_t deadline) {
	atomic_store(&slot->deadline, 0);
	if (atomic_load(&slot->fired) == deadline) {
		// Drop a timeout that was raised but not yet delivered.
		PyThreadState_SetAsyncExc(slot->thread_id, NULL);
	}
}

int ksml_watch_scan(int64_t now_ns, int64_t grace_ns, int64_t *stuck_fn, int64_t *stuck_since, int max, int *nstuck) {
	int due = 0, stuck = 0;
	for (slot_t *s = atomic_load(&g_slots); s; s = s->next) {
		long long d = atomic_load(&s->deadline);
		if (d == 0 || d > now_ns) continue;
		if (atomic_load(&s->fired) != d) due++;
		if (atomic_load(&s->wake) != d) {
			pthread_mutex_lock(&s->mu);
			atomic_store(&s->wake, d);
			pthread_cond_broadcast(&s->cv);
			pthread_mutex_unlock(&s->mu);
		}
		if (now_ns - d > grace_ns) {
			if (stuck < max) {
				stuck_fn[stuck] = atomic_load(&s->fn);
				stuck_since[stuck] = d;
			}
			stuck++;
		}
	}
	*nstuck = stuck;
	return due;
}

int ksml_watch_fire(int64_t now_ns) {
	int fired = 0;
	enter();
	for (slot_t *s = atomic_load(&g_slots); s; s = s->next) {
		// Under the GIL the owner is not between arm and disarm unless
		// its call is running, so the deadline read here is that call's.
		long long d = atomic_load(&s->deadline);
		if (d == 0 || d > now_ns || atomic_load(&s->fired) == d) continue;
		PyThreadState_SetAsyncExc(s->thread_id, g_timeout_exc);
		atomic_store(&s->fired, d);
		fired++;
	}
	leave();
	return fired;
}

// host_sleep replaces time.sleep. It waits with the GIL released, like
// time.sleep, but on the calling thread's watchdog slot, so a call that
// reaches its deadline while sleeping is woken and raises FunctionTimeout at
// the limit instead of after the sleep.
static PyObject *host_sleep(PyObject *self, PyObject *arg) {
	double secs = PyFloat_AsDouble(arg);
	if (secs == -1.0 && PyErr_Occurred()) return NULL;
	if (isnan(secs)) {
		PyErr_SetString(PyExc_ValueError, "Invalid value NaN (not a number)");
		return NULL;
	}
	if (secs < 0) {
		PyErr_SetString(PyExc_ValueError, "sleep length must be non-negative");
		return NULL;
	}
	struct timespec end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	double whole = floor(secs);
	end.tv_sec += (time_t)whole;
	end.tv_nsec += (long)((secs - whole) * 1e9);
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	slot_t *s = t_slot;
	long long d = s ? atomic_load(&s->deadline) : 0;
	int timedOut = 0;
	Py_BEGIN_ALLOW_THREADS
	if (d != 0) {
		pthread_mutex_lock(&s->mu);
		while (atomic_load(&s->wake) != d) {
			int rc = pthread_cond_timedwait(&s->cv, &s->mu, &end);
			if (rc == ETIMEDOUT) break;
		}
		timedOut = atomic_load(&s->wake) == d;
		pthread_mutex_unlock(&s->mu);
	} else {
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &end, NULL) == EINTR) {
		}
	}
	Py_END_ALLOW_THREADS
	if (timedOut && atomic_load(&s->deadline) == d) {
		if (atomic_load(&s->fired) == d) {
			// The watchdog raised it already; it arrives at the next instruction.
			Py_RETURN_NONE;
		}
		atomic_store(&s->fired, d);
		PyErr_SetNone(g_timeout_exc);
		return NULL;
	}
	Py_RETURN_NONE;
}

// ---------------------------------------------------------------- entry points

int ksml_init(const char *bootstrap, ksml_buf *err) {
	PyStatus status;
	PyConfig config;
	PyConfig_InitIsolatedConfig(&config);
	config.install_signal_handlers = 0;
	config.site_import = 1;
	config.write_bytecode = 0;
	if (PyImport_AppendInittab("_ksmlhost", init_host) < 0) {
		buf_msg(err, "python: cannot register the host module");
		return KSML_FATAL;
	}
	if (PySys_AddAuditHook(audit_hook, NULL) < 0) {
		buf_msg(err, "python: cannot install the audit hook");
		return KSML_FATAL;
	}
	status = Py_InitializeFromConfig(&config);
	PyConfig_Clear(&config);
	if (PyStatus_Exception(status)) {
		buf_msg(err, status.err_msg ? status.err_msg : "python: initialization failed");
		return KSML_FATAL;
	}
	PyThreadState *ts = PyThreadState_Get();
	g_interp = ts->interp;
	t_ts = ts;

	PyObject *mod = PyImport_AddModule("_ksml"); // borrowed
	PyObject *dict = mod ? PyModule_GetDict(mod) : NULL;
	PyObject *res = NULL;
	if (dict) {
		PyDict_SetItemString(dict, "__builtins__", PyEval_GetBuiltins());
		res = PyRun_String(bootstrap, Py_file_input, dict, dict);
	}
	if (!res) {
		PyObject *type, *value, *tb;
		PyErr_Fetch(&type, &value, &tb);
		PyObject *s = value ? PyObject_Str(value) : NULL;
		buf_msg(err, s && PyUnicode_AsUTF8(s) ? PyUnicode_AsUTF8(s) : "python: bootstrap failed");
		PyErr_Clear();
		PyEval_SaveThread();
		return KSML_FATAL;
	}
	Py_DECREF(res);
	g_helpers = dict;
	Py_INCREF(g_helpers);
	g_format_exc = PyDict_GetItemString(dict, "format_exc");
	g_scan_once = PyDict_GetItemString(dict, "scan_once");
	g_timeout_exc = PyDict_GetItemString(dict, "FunctionTimeout");
	if (!g_format_exc || !g_scan_once || !g_timeout_exc) {
		buf_msg(err, "python: bootstrap is incomplete");
		PyEval_SaveThread();
		return KSML_FATAL;
	}
	PyEval_SaveThread();
	return KSML_OK;
}

// ksml_helper calls a function of the bootstrap module with decoded
// arguments; its result is encoded with objects passed as references.
int ksml_helper(const char *name, const char *in, size_t inlen, int nargs, int64_t deadline_ns, ksml_buf *out) {
	enter();
	t_internal++;
	buf_reset(out);
	int rc = KSML_OK;
	PyObject *fn = PyDict_GetItemString(g_helpers, name);
	PyObject *args = NULL, *res = NULL;
	reader r = {(const unsigned char *)in, (const unsigned char *)in + inlen};
	slot_t *slot = NULL;
	if (!fn) {
		buf_msg(out, "python: unknown bridge helper");
		rc = KSML_FATAL;
		goto done;
	}
	if (deadline_ns > 0 && t_depth == 1) {
		slot = my_slot();
		if (!slot) {
			buf_msg(out, "python: out of memory for the function timeout watchdog");
			rc = KSML_FATAL;
			goto done;
		}
	}
	args = PyTuple_New(nargs);
	if (!args) goto pyerr;
	for (int k = 0; k < nargs; k++) {
		PyObject *a = decode(&r);
		if (!a) goto pyerr;
		PyTuple_SET_ITEM(args, k, a);
	}
	if (slot) arm(slot, deadline_ns, -1);
	res = PyObject_Call(fn, args, NULL);
	if (slot) disarm(slot, deadline_ns);
	if (!res) goto pyerr;
	if (encode_value(out, res, 1) < 0) goto pyerr;
	goto done;
pyerr:
	encode_exception(out);
	rc = KSML_PYERR;
done:
	Py_XDECREF(res);
	Py_XDECREF(args);
	t_internal--;
	leave();
	return rc;
}

int ksml_call(void *fn, const char *in, size_t inlen, int nargs, uintptr_t ctx, int64_t deadline_ns, int64_t fn_id,
              int json_out, ksml_buf *out) {
	enter();
	buf_reset(out);
	PyObject *stackargs[8];
	PyObject **args = stackargs;
	int decoded = 0, rc = KSML_OK;
	slot_t *slot = NULL;
	if (nargs > 8) {
		args = PyMem_Malloc(sizeof(PyObject *) * nargs);
		if (!args) {
			args = stackargs;
			buf_msg(out, "out of memory for the arguments");
			rc = KSML_ARGERR;
			goto cleanup;
		}
	}
	if (deadline_ns > 0 && t_depth == 1) {
		slot = my_slot();
		if (!slot) {
			buf_msg(out, "python: out of memory for the function timeout watchdog");
			rc = KSML_FATAL;
			goto cleanup;
		}
	}
	reader r = {(const unsigned char *)in, (const unsigned char *)in + inlen};
	for (; decoded < nargs; decoded++) {
		args[decoded] = decode(&r);
		if (!args[decoded]) {
			conversion_error(out);
			rc = KSML_ARGERR;
			goto cleanup;
		}
	}
	uintptr_t prevCtx = t_ctx;
	t_ctx = ctx;
	if (slot) arm(slot, deadline_ns, fn_id);
	PyObject *res = PyObject_Vectorcall((PyObject *)fn, args, nargs, NULL);
	if (slot) disarm(slot, deadline_ns);
	t_ctx = prevCtx;
	if (!res) {
		encode_exception(out);
		rc = KSML_PYERR;
	} else {
		int erc;
		if (json_out == 1) {
			erc = encode_json_value(out, res);
		} else if (json_out == 2 && (PyDict_CheckExact(res) || PyList_CheckExact(res))) {
			// Keep containers as live objects (a new reference for Go).
			put_byte(out, 'P');
			erc = buf_check(out, put_i64(out, (int64_t)(uintptr_t)res));
			if (erc == 0) {
				Py_INCREF(res);
				atomic_fetch_add(&g_refs_out, 1);
			}
		} else {
			erc = encode_value(out, res, 0);
		}
		if (erc < 0) {
			conversion_error(out);
			rc = KSML_CONVERR;
		}
		Py_DECREF(res);
	}
cleanup:
	for (int k = 0; k < decoded; k++) Py_DECREF(args[k]);
	if (args != stackargs) PyMem_Free(args);
	leave();
	return rc;
}

int ksml_obj_value(void *obj, int json, ksml_buf *out) {
	enter();
	buf_reset(out);
	int rc = KSML_OK;
	if ((json ? encode_json_value(out, (PyObject *)obj) : encode_value(out, (PyObject *)obj, 0)) < 0) {
		conversion_error(out);
		rc = KSML_CONVERR;
	}
	leave();
	return rc;
}

void ksml_decref(void *obj) {
	if (!obj) return;
	enter();
	Py_DECREF((PyObject *)obj);
	atomic_fetch_add(&g_refs_back, 1);
	leave();
}
