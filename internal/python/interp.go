package python

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ksml-dev/ksml/internal/types"
)

// DefaultFunctionTimeout is how long a call may run when Options leaves
// FunctionTimeout zero (upstream's ksml.pythonContext.functionTimeout).
const DefaultFunctionTimeout = 10 * time.Second

// NoTimeout disables the function timeout (functionTimeout: 0 upstream).
const NoTimeout time.Duration = -1

// Context holds upstream's ksml.pythonContext permissions. The zero value
// denies everything, as upstream does by default.
type Context struct {
	AllowHostFileAccess         bool
	AllowHostSocketAccess       bool
	AllowNativeAccess           bool // ctypes
	AllowCreateProcess          bool
	AllowCreateThread           bool
	InheritEnvironmentVariables bool
}

// Options configures the interpreter.
type Options struct {
	// ModulePaths are put on sys.path (pythonContext.modulePath and the test
	// runner's moduleDirectory).
	ModulePaths []string
	// VirtualEnv is a virtual environment (pythonContext.venv) whose
	// site-packages are added to sys.path, .pth files included. It must be
	// made for the embedded Python's major.minor version; Init fails
	// otherwise. The VIRTUAL_ENV environment variable (an activated venv)
	// adds one too, with a warning instead of a failure when it does not fit.
	VirtualEnv string
	// Context holds the permissions enforced by audit hooks.
	Context Context
	// FunctionTimeout bounds each call; zero means DefaultFunctionTimeout
	// and NoTimeout disables it.
	FunctionTimeout time.Duration
	// Logger receives the `log` calls of Python code; nil means
	// slog.Default(). Each record carries the upstream logger name in the
	// "logger" attribute.
	Logger *slog.Logger
	// Metrics receives the `metrics` calls of Python code; nil discards them.
	Metrics MetricsSink
	// SchemaMeta gives the "@type" and "@schema" values of a schema-backed
	// struct handed to Python. When nil, the describers registered with
	// types.RegisterSchemaDescriber answer (the Avro notation registers
	// one). When not ok, "@type" is the schema's short name and "@schema" the schema's
	// Native value when that is a *types.Struct (a KSML schema description),
	// else its full name.
	SchemaMeta func(*types.StructSchema) (typeName string, schema *types.Struct, ok bool)
}

// Interpreter is the process-wide embedded CPython. Its methods are safe
// for concurrent use; Python itself runs one goroutine at a time (the GIL),
// so a process scales by more instances, not more goroutines.
type Interpreter struct {
	watchdog sync.Once
}

var (
	initMu  sync.Mutex
	current *Interpreter
)

// Init starts CPython (once per process) and applies opts. A later Init
// replaces the logger, metrics sink, timeout and guards process-wide and
// adds module paths.
func Init(opts Options) (*Interpreter, error) {
	if err := startRuntime(); err != nil {
		return nil, err
	}
	initMu.Lock()
	defer initMu.Unlock()
	paths := make([]any, len(opts.ModulePaths))
	for i, p := range opts.ModulePaths {
		paths[i] = p
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	venvs := []any{}
	if opts.VirtualEnv != "" {
		venvs = append(venvs, opts.VirtualEnv)
	}
	if env := os.Getenv("VIRTUAL_ENV"); env != "" && env != opts.VirtualEnv {
		if _, err := helper("site_packages", env); err != nil {
			logger.Warn("the virtual environment in VIRTUAL_ENV is not used", slog.String("error", err.Error()))
		} else {
			venvs = append(venvs, env)
		}
	}
	if _, err := helper("configure", paths, opts.Context.InheritEnvironmentVariables, venvs); err != nil {
		return nil, fmt.Errorf("python: configuring the interpreter: %w", err)
	}
	hostState.Store(&hostConfig{logger: logger, metrics: opts.Metrics, schemaMeta: opts.SchemaMeta})
	setGuards(opts.Context)
	timeout := opts.FunctionTimeout
	if timeout == 0 {
		timeout = DefaultFunctionTimeout
	}
	if current == nil {
		current = &Interpreter{}
	}
	current.setTimeout(timeout)
	return current, nil
}

var timeoutNanos atomic.Int64

func (in *Interpreter) setTimeout(d time.Duration) {
	if d < 0 {
		timeoutNanos.Store(0)
		return
	}
	timeoutNanos.Store(int64(d))
	in.watchdog.Do(func() { go runWatchdog() })
	select {
	case watchdogWake <- struct{}{}:
	default:
	}
}

// FlushOutput writes out what Python's print() buffered. Call it before the
// process exits (normally or on a fatal error); print() is line buffered,
// so only a line without its newline can be pending. It is a no-op before
// the interpreter started, and gives up after a second when a function stuck
// in C holds the interpreter, so exiting never hangs on it.
func FlushOutput() {
	if !runtimeStarted() {
		return
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = helper("flush_output")
	}()
	select {
	case <-done:
	case <-time.After(time.Second):
	}
}

// Module is the Python namespace of one definition file.
type Module struct {
	namespace string
	file      string
	globals   *pyRef
	mu        sync.Mutex
}

// NewModule creates the namespace of one definition file. properties is the
// definition's configuration.properties, visible to Python as the read-only
// mapping `properties`.
func (in *Interpreter) NewModule(namespace, file string, properties map[string]any) (*Module, error) {
	var props any = map[string]any{}
	if properties != nil {
		props = properties
	}
	res, err := helper("new_module", namespace, props)
	if err != nil {
		return nil, err
	}
	ref, ok := res.(*pyRef)
	if !ok {
		releaseRefs(res)
		return nil, errors.New("python: module creation returned no namespace")
	}
	return &Module{namespace: namespace, file: file, globals: ref}, nil
}

// Namespace returns the namespace the module was created with.
func (m *Module) Namespace() string { return m.namespace }
