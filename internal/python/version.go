package python

/*
#include <Python.h>

static const char *ksml_py_header_version(void) { return PY_VERSION; }
*/
import "C"

import "strings"

// Version returns the version of the CPython library the process runs, as
// "3.11.2", followed by " (built against 3.11.x)" when the headers the
// binary was compiled with name another release. It does not start the
// interpreter (Py_GetVersion may be called before initialization), so it
// is cheap and cannot fail.
func Version() string {
	linked, _, _ := strings.Cut(C.GoString(C.Py_GetVersion()), " ")
	built := C.GoString(C.ksml_py_header_version())
	if linked != built {
		return linked + " (built against " + built + ")"
	}
	return linked
}
