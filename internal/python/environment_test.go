package python

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fakeVenv lays out a virtual environment for the embedded Python with one
// module, name.py, and a .pth file adding extra (a directory) to sys.path.
func fakeVenv(t *testing.T, pyver, name, extra string) string {
	t.Helper()
	dir := t.TempDir()
	sp := filepath.Join(dir, "lib", pyver, "site-packages")
	if err := os.MkdirAll(sp, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sp, name+".py"), []byte("VALUE = '"+name+"'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if extra != "" {
		if err := os.WriteFile(filepath.Join(sp, name+".pth"), []byte(extra+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// venvRuns counts runs of TestVirtualEnvs in this process (-count).
var venvRuns int

func pythonVersionDir(t *testing.T, m *Module) string {
	t.Helper()
	f := define(t, m, FunctionSpec{Name: "ver", Expression: src(`"python%d.%d" % __import__("sys").version_info[:2]`, 1)})
	return call(t, f, nil).(string)
}

// TestVirtualEnvs: pythonContext.venv and VIRTUAL_ENV add their
// site-packages (with .pth files); a venv for another Python version is an
// error for the option and a warning for the variable.
func TestVirtualEnvs(t *testing.T) {
	env := setup(t, Options{})
	m := env.module(t, "venvs")
	ver := pythonVersionDir(t, m)
	// Module names are new in every run: imports are cached process-wide.
	venvRuns++
	run := strconv.Itoa(venvRuns)
	optMod, envMod, pthMod := "ksml_venv_option_probe"+run, "ksml_venv_env_probe"+run, "ksml_pth_probe"+run
	extra := t.TempDir()
	if err := os.WriteFile(filepath.Join(extra, pthMod+".py"), []byte("VALUE = 'pth'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	opt := fakeVenv(t, ver, optMod, extra)
	fromEnv := fakeVenv(t, ver, envMod, "")
	imp := func(mod string) (any, error) {
		f, err := m.Define(FunctionSpec{Name: "imp_" + mod, Expression: src("__import__('"+mod+"').VALUE", 1)})
		if err != nil {
			return nil, err
		}
		return f.Call(nil)
	}
	if _, err := imp(optMod); err == nil || !strings.Contains(err.Error(), "ModuleNotFoundError") {
		t.Fatalf("import before the venv was configured: %v, want ModuleNotFoundError", err)
	}
	t.Setenv("VIRTUAL_ENV", fromEnv)
	setup(t, Options{VirtualEnv: opt})
	for mod, want := range map[string]string{optMod: optMod, envMod: envMod, pthMod: "pth"} {
		if got, err := imp(mod); err != nil || got != want {
			t.Errorf("import %s: %v, %v", mod, got, err)
		}
	}
	wrong := fakeVenv(t, "python3.1", "ksml_wrong_probe", "")
	if _, err := Init(Options{VirtualEnv: wrong}); err == nil || !strings.Contains(err.Error(), "is for python3.1, but ksml embeds Python") {
		t.Errorf("Init with a venv of another Python: %v", err)
	}
	if _, err := Init(Options{VirtualEnv: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "is not a virtual environment") {
		t.Errorf("Init with a directory that is no venv: %v", err)
	}
	t.Setenv("VIRTUAL_ENV", wrong)
	e2 := setup(t, Options{})
	warned := false
	for _, r := range e2.logs.take() {
		warned = warned || strings.Contains(r.Msg, "VIRTUAL_ENV is not used")
	}
	if !warned {
		t.Error("no warning for a VIRTUAL_ENV of another Python version")
	}
}

// TestVenvFromPyPI imports a package installed from PyPI into a real
// virtual environment. .ci/python-venv creates the venv and sets
// KSML_TEST_VENV (and KSML_TEST_VENV_MODULE, the package's module).
func TestVenvFromPyPI(t *testing.T) {
	venv, mod := os.Getenv("KSML_TEST_VENV"), os.Getenv("KSML_TEST_VENV_MODULE")
	if venv == "" || mod == "" {
		t.Skip("KSML_TEST_VENV and KSML_TEST_VENV_MODULE are not set (.ci/python-venv sets them)")
	}
	env := setup(t, Options{})
	m := env.module(t, "pypi")
	f := define(t, m, FunctionSpec{Name: "camel", Type: "valueTransformer",
		Code: src("import "+mod+"\nreturn "+mod+".camelize(value)\n", 1)})
	// The package must not be importable before the venv is configured
	// (unless an earlier run in this process configured it).
	seen := define(t, m, FunctionSpec{Name: "seen", Expression: src(`__import__("sys").modules.get("`+mod+`") is not None`, 1)})
	if call(t, seen, nil) != true {
		if _, err := f.Call(nil, "k", "device_type"); err == nil || !strings.Contains(err.Error(), "ModuleNotFoundError") {
			t.Fatalf("without the venv: %v, want ModuleNotFoundError", err)
		}
	}
	setup(t, Options{VirtualEnv: venv})
	if got := call(t, f, nil, "k", "device_type"); got != "DeviceType" {
		t.Errorf("camelize = %v", got)
	}
}

// TestPrintReachesStdout runs this test binary as a child that prints from
// a function (a line, then text without a newline) and exits at once: with
// stdout a pipe, both must arrive, the line before the function returned.
func TestPrintReachesStdout(t *testing.T) {
	if os.Getenv("KSML_PRINT_CHILD") == "1" {
		env := setup(t, Options{})
		m := env.module(t, "printer")
		f := define(t, m, FunctionSpec{Name: "p", Code: src(`
import sys
print("line one")
return sys.stdout.line_buffering
`, 1)})
		if got := call(t, f, nil); got != true {
			os.Stderr.WriteString("stdout is not line buffered\n")
			os.Exit(3)
		}
		// The line is out already; what follows waits in the buffer.
		g := define(t, m, FunctionSpec{Name: "q", Code: src(`print("tail", end="")`, 1)})
		call(t, g, nil)
		FlushOutput()
		os.Exit(0) // no deferred flush, as in a crash
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestPrintReachesStdout$", "-test.count=1")
	cmd.Env = append(os.Environ(), "KSML_PRINT_CHILD=1")
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("child failed: %v\n%s", err, ee.Stderr)
	} else if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(string(out), "line one\ntail") {
		t.Errorf("child stdout = %q, want it to end with %q", out, "line one\ntail")
	}
}
