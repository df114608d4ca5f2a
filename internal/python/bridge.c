// The C half of the CPython bridge: interpreter setup, per-thread states,
// the value codec between Go's byte encoding and Python objects, a JSON
// writer, the host module that Python code calls back through, the audit
// hook that enforces pythonContext settings, and the timeout watchdog.

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>
#include <stdatomic.h>
#include <string.h>

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
static __thread int t_slot = -1;   // watchdog slot of this thread

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
	if (b->len + n > b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 256;
		while (nc < b->len + n) nc *= 2;
		char *nd = realloc(b->data, nc);
		if (!nd) return -1;
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
}

static inline int put_byte(ksml_buf *b, char c) { return ksml_buf_put(b, &c, 1); }
static inline int put_u32(ksml_buf *b, uint32_t v) { return ksml_buf_put(b, &v, 4); }
static inline int put_i64(ksml_buf *b, int64_t v) { return ksml_buf_put(b, &v, 8); }

static void buf_msg(ksml_buf *b, const char *msg) {
	b->len = 0;
	ksml_buf_put(b, msg, strlen(msg));
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
	PyObject *str = PyUnicode_DecodeUTF8(s, n, "strict");
	if (!str) return NULL;
	PyObject *idx = PyLong_FromLong(0);
	// Skip leading whitespace the scanner does not accept.
	Py_ssize_t i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) i++;
	if (i > 0) {
		Py_DECREF(idx);
		idx = PyLong_FromSsize_t(i);
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
			if (tag == 'S') return PyUnicode_DecodeUTF8(s, n, "surrogateescape");
			if (tag == 'B') {
				// As upstream: bytes reach Python as a list of ints 0..255.
				PyObject *lst = PyList_New(n);
				if (!lst) return NULL;
				for (uint32_t k = 0; k < n; k++) PyList_SET_ITEM(lst, k, PyLong_FromLong((unsigned char)s[k]));
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
			PyObject *key = PyUnicode_DecodeUTF8((const char *)r->p, kl, "surrogateescape");
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

// encode writes obj in the value encoding. With allow_ptr, objects that have
// no value form are passed as new references ('P'); otherwise they fail with
// a Python TypeError naming the type.
static int encode(ksml_buf *b, PyObject *obj, int allow_ptr, int depth) {
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
		const char *s = PyUnicode_AsUTF8AndSize(obj, &n);
		if (!s) return -1;
		put_byte(b, 'S');
		put_u32(b, (uint32_t)n);
		return ksml_buf_put(b, s, n);
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
			if (encode(b, item, allow_ptr, depth + 1) < 0) return -1;
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
			const char *s = PyUnicode_AsUTF8AndSize(k, &n);
			if (!s) return -1;
			// Schema markers are added on the way in and dropped on the way out.
			if (n > 0 && s[0] == '@' && (strcmp(s, "@type") == 0 || strcmp(s, "@schema") == 0)) continue;
			put_u32(b, (uint32_t)n);
			ksml_buf_put(b, s, n);
			if (encode(b, v, allow_ptr, depth + 1) < 0) return -1;
			count++;
		}
		memcpy(b->data + countAt, &count, 4);
		return 0;
	}
	if (PyAnySet_Check(obj)) {
		PyObject *lst = PySequence_List(obj);
		if (!lst) return -1;
		int rc = encode(b, lst, allow_ptr, depth);
		Py_DECREF(lst);
		return rc;
	}
	if (allow_ptr) {
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
		const char *s = PyUnicode_AsUTF8AndSize(obj, &n);
		if (!s) return -1;
		return json_str(b, s, n);
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
			const char *s = PyUnicode_AsUTF8AndSize(k, &n);
			if (!s) return -1;
			if (n > 0 && s[0] == '@' && (strcmp(s, "@type") == 0 || strcmp(s, "@schema") == 0)) continue;
			if (!first) put_byte(b, ',');
			first = 0;
			json_str(b, s, n);
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

// ---------------------------------------------------------------- errors

// encode_exception turns the pending Python exception into the encoded
// error tuple produced by _ksml.format_exc.
static void encode_exception(ksml_buf *out) {
	PyObject *type, *value, *tb;
	PyErr_Fetch(&type, &value, &tb);
	PyErr_NormalizeException(&type, &value, &tb);
	if (tb && value) PyException_SetTraceback(value, tb);
	out->len = 0;
	t_internal++;
	PyObject *info = PyObject_CallFunctionObjArgs(g_format_exc, value ? value : Py_None, NULL);
	t_internal--;
	Py_XDECREF(type);
	Py_XDECREF(value);
	Py_XDECREF(tb);
	if (!info || encode(out, info, 0, 0) < 0) {
		PyErr_Clear();
		out->len = 0;
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
	out->len = 0;
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
		if (encode(&in, PyTuple_GET_ITEM(args, k), 0, 0) < 0) {
			ksml_buf_free(&in);
			return NULL;
		}
	}
	int rc = ksmlHostStore(t_ctx, (char *)name, (size_t)nl, op, in.data, in.len, (int)(nargs - 2), &out);
	ksml_buf_free(&in);
	PyObject *res = NULL;
	if (rc == 0) {
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

static PyMethodDef host_methods[] = {
	{"run_user", host_run_user, METH_VARARGS, NULL},
	{"log_enabled", host_log_enabled, METH_VARARGS, NULL},
	{"log", host_log, METH_VARARGS, NULL},
	{"logger", host_logger, METH_VARARGS, NULL},
	{"metric", host_metric, METH_VARARGS, NULL},
	{"metric_update", host_metric_update, METH_VARARGS, NULL},
	{"store", host_store, METH_VARARGS, NULL},
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

#define KSML_SLOTS 256

typedef struct {
	atomic_llong deadline; // 0 when no call with a deadline is running
	atomic_ulong thread_id;
	atomic_int fired;
} slot_t;

static slot_t g_slots[KSML_SLOTS];
static atomic_int g_nslots;

static slot_t *my_slot(void) {
	if (t_slot < 0) {
		int s = atomic_fetch_add(&g_nslots, 1);
		if (s >= KSML_SLOTS) {
			t_slot = KSML_SLOTS; // no watchdog for this thread
		} else {
			t_slot = s;
			atomic_store(&g_slots[s].thread_id, PyThread_get_thread_ident());
		}
	}
	return t_slot < KSML_SLOTS ? &g_slots[t_slot] : NULL;
}

// disarm ends the watched section of a call (GIL held).
static void disarm(slot_t *slot) {
	atomic_store(&slot->deadline, 0);
	if (atomic_load(&slot->fired)) {
		// Drop a timeout that was raised but not yet delivered.
		PyThreadState_SetAsyncExc(atomic_load(&slot->thread_id), NULL);
		atomic_store(&slot->fired, 0);
	}
}

int ksml_watchdog(int64_t now_ns) {
	int n = atomic_load(&g_nslots);
	if (n > KSML_SLOTS) n = KSML_SLOTS;
	int fired = 0;
	for (int i = 0; i < n; i++) {
		long long d = atomic_load(&g_slots[i].deadline);
		if (d == 0 || d > now_ns || atomic_load(&g_slots[i].fired)) continue;
		enter();
		// Re-check under the GIL: the call may have finished meanwhile.
		d = atomic_load(&g_slots[i].deadline);
		if (d != 0 && d <= now_ns && !atomic_load(&g_slots[i].fired)) {
			PyThreadState_SetAsyncExc(atomic_load(&g_slots[i].thread_id), g_timeout_exc);
			atomic_store(&g_slots[i].fired, 1);
			fired++;
		}
		leave();
	}
	return fired;
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
	slot_t *slot = deadline_ns > 0 && t_depth == 1 ? my_slot() : NULL;
	t_internal++;
	out->len = 0;
	int rc = KSML_OK;
	PyObject *fn = PyDict_GetItemString(g_helpers, name);
	PyObject *args = PyTuple_New(nargs);
	reader r = {(const unsigned char *)in, (const unsigned char *)in + inlen};
	PyObject *res = NULL;
	if (!fn) {
		buf_msg(out, "python: unknown bridge helper");
		rc = KSML_FATAL;
		goto done;
	}
	for (int k = 0; k < nargs; k++) {
		PyObject *a = decode(&r);
		if (!a) goto pyerr;
		PyTuple_SET_ITEM(args, k, a);
	}
	if (slot) atomic_store(&slot->deadline, deadline_ns);
	res = PyObject_Call(fn, args, NULL);
	if (slot) disarm(slot);
	if (!res) goto pyerr;
	if (encode(out, res, 1, 0) < 0) goto pyerr;
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

int ksml_call(void *fn, const char *in, size_t inlen, int nargs, uintptr_t ctx, int64_t deadline_ns,
              int json_out, ksml_buf *out) {
	enter();
	PyObject *stackargs[8];
	PyObject **args = nargs <= 8 ? stackargs : PyMem_Malloc(sizeof(PyObject *) * nargs);
	reader r = {(const unsigned char *)in, (const unsigned char *)in + inlen};
	int decoded = 0, rc = KSML_OK;
	out->len = 0;
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
	slot_t *slot = deadline_ns > 0 && t_depth == 1 ? my_slot() : NULL;
	if (slot) atomic_store(&slot->deadline, deadline_ns);
	PyObject *res = PyObject_Vectorcall((PyObject *)fn, args, nargs, NULL);
	if (slot) disarm(slot);
	t_ctx = prevCtx;
	if (!res) {
		encode_exception(out);
		rc = KSML_PYERR;
	} else {
		int erc;
		if (json_out == 1) {
			erc = encode_json(out, res, 0);
		} else if (json_out == 2 && (PyDict_CheckExact(res) || PyList_CheckExact(res))) {
			// Keep containers as live objects (a new reference for Go).
			Py_INCREF(res);
			put_byte(out, 'P');
			erc = put_i64(out, (int64_t)(uintptr_t)res);
		} else {
			erc = encode(out, res, 0, 0);
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
	out->len = 0;
	int rc = KSML_OK;
	if ((json ? encode_json(out, (PyObject *)obj, 0) : encode(out, (PyObject *)obj, 0, 0)) < 0) {
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
	leave();
}
