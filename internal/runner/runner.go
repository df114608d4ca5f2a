// Package runner is `ksml run`: it loads the runner configuration (or bare
// definition files), starts the embedded broker when no Kafka cluster is
// configured, builds one topology from all definitions, and runs the
// pipelines on Kafka (package streams/kafkaio) and the producers
// (generator functions) until it is stopped.
//
// A Runner moves through upstream's states (CREATED, STARTING, STARTED,
// STOPPING, STOPPED, FAILED). Stop requests (context cancellation, SIGTERM)
// stop polling, finish the records in flight, flush, commit and leave the
// group. A record that fails with a stopOnFail handler, a producer that
// fails, or a lost broker make Run return the error and the state FAILED.
// Everything that can be checked before connecting (configuration,
// definitions, Python code, types) is checked by New, with file:line:col
// positions.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"

	"ksml/internal/broker"
	"ksml/internal/definition"
	"ksml/internal/kafkaclient"
	"ksml/internal/notation"
	"ksml/internal/notation/avro"
	csvnotation "ksml/internal/notation/csv"
	jsonschemanotation "ksml/internal/notation/jsonschema"
	protobufnotation "ksml/internal/notation/protobuf"
	xmlnotation "ksml/internal/notation/xml"
	"ksml/internal/python"
	"ksml/internal/runner/config"
	"ksml/internal/runner/observability"
	"ksml/internal/store"
	"ksml/internal/streams"
	"ksml/internal/streams/kafkaio"
	"ksml/internal/topology"
)

// Options configure a Runner.
type Options struct {
	// ConfigFile is the ksml-runner.yaml to load; empty runs Definitions
	// with default settings.
	ConfigFile string
	// Definitions are definition files given on the command line, run in
	// addition to those of the configuration. The namespace of each is its
	// file name without extension.
	Definitions []string
	// EmbeddedBroker is the listen address of the embedded broker started
	// when no bootstrap.servers is configured (default 127.0.0.1:9092).
	EmbeddedBroker string
	// WorkDir resolves relative paths of the configuration (default: the
	// process's working directory).
	WorkDir string
	// Logger receives all logs (default slog.Default()).
	Logger *slog.Logger
	// Stdout receives print sinks (default os.Stdout).
	Stdout io.Writer
	// LookupEnv reads environment variables for ${NAME} in the
	// configuration (default os.LookupEnv).
	LookupEnv func(string) (string, bool)
	// OnStarted, if set, is called once the pipelines have their partitions
	// assigned (or right after producers start when there are no
	// pipelines).
	OnStarted func()
	// Version and BuildTime label the ksml_app metric; empty values fall
	// back to the binary's build information ("dev" and the VCS time or
	// the executable's modification time).
	Version, BuildTime string
}

// Runner runs definitions. Create it with New, then call Run once.
type Runner struct {
	opts   Options
	log    *slog.Logger
	cfg    *config.Config
	dirs   *config.Resolved
	defs   []*definition.Definition
	appID  string
	interp *python.Interpreter
	serdes topology.NotationSerdes
	funcs  *timedFunctions
	// timers is the metrics registry user function calls are timed into,
	// nil while metrics are off.
	timers   atomic.Pointer[observability.Registry]
	topo     *topology.Result
	windowed map[string]streams.StoreBuilder // window, session and versioned stores
	prods    []*producer
	counters *Counters
	pyOpts   python.Options
	// state is the runner's; streamState and producerState are the
	// pipelines' and the producers' own, as the health probes report them.
	state, streamState, producerState stateBox

	servers *observability.Servers

	mu     sync.Mutex
	engine *kafkaio.Engine
	broker *broker.Broker
}

// New loads the configuration and definitions and builds the topology and
// the Python functions. Errors name file:line:col where they can.
func New(opts Options) (*Runner, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	r := &Runner{opts: opts, log: opts.Logger, counters: NewCounters()}
	r.state.set(Created)
	if err := r.loadConfig(); err != nil {
		return nil, err
	}
	if err := r.loadDefinitions(); err != nil {
		return nil, err
	}
	if err := r.build(); err != nil {
		return nil, err
	}
	if err := r.checkKafkaProperties(); err != nil {
		return nil, err
	}
	return r, nil
}

// checkKafkaProperties validates the kafka section before anything
// connects; each bad property is reported at its position.
func (r *Runner) checkKafkaProperties() error {
	props := map[string]string{}
	for key, v := range r.cfg.Kafka.Properties {
		props[key] = v
	}
	props[config.ApplicationIDKey] = r.appID
	_, err := kafkaclient.FromProperties(props, kafkaclient.Options{Bootstrap: broker.DefaultListen, Logger: slog.New(slog.DiscardHandler)})
	var perrs kafkaclient.Errors
	if !errors.As(err, &perrs) {
		return err
	}
	var errs []error
	for _, pe := range perrs {
		if pos := r.cfg.Kafka.Pos(pe.Key); pos.IsValid() {
			errs = append(errs, fmt.Errorf("%s: kafka.%s: %s", pos, pe.Key, pe.Msg))
		} else {
			errs = append(errs, fmt.Errorf("kafka.%s: %s", pe.Key, pe.Msg))
		}
	}
	return errors.Join(errs...)
}

func (r *Runner) loadConfig() error {
	if r.opts.ConfigFile == "" {
		if len(r.opts.Definitions) == 0 {
			return errors.New("nothing to run: give a runner configuration (-c ksml-runner.yaml) or definition files")
		}
		r.cfg = config.Default()
		r.dirs = &config.Resolved{}
		wd := r.opts.WorkDir
		if wd == "" {
			wd, _ = os.Getwd()
		}
		dir := filepath.Dir(r.opts.Definitions[0])
		if abs, err := filepath.Abs(dir); err == nil {
			dir = abs
		}
		r.dirs.ConfigDirectory, r.dirs.SchemaDirectory, r.dirs.StorageDirectory = dir, dir, wd
	} else {
		cfg, err := config.Load(r.opts.ConfigFile, config.Options{LookupEnv: r.opts.LookupEnv, DefinitionsOptional: len(r.opts.Definitions) > 0})
		if err != nil {
			return err
		}
		dirs, err := cfg.Resolve(r.opts.WorkDir)
		if err != nil {
			return err
		}
		for _, w := range cfg.Warnings {
			r.log.Warn(w.Msg, "position", w.Pos.String())
		}
		r.cfg, r.dirs = cfg, dirs
	}
	r.appID = r.cfg.Kafka.ApplicationID()
	if r.appID == "" {
		name := "ksml"
		if len(r.opts.Definitions) > 0 {
			name = stem(r.opts.Definitions[0])
		} else if len(r.dirs.Definitions) > 0 {
			name = r.dirs.Definitions[0].Namespace
		}
		r.appID = sanitizeID(name)
		r.log.Info("no application.id configured; derived from the definition", "application.id", r.appID)
	}
	return nil
}

func stem(path string) string {
	base := filepath.Base(path)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// sanitizeID keeps the characters Kafka allows in topic names (the
// application id prefixes internal topics).
func sanitizeID(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	return string(b)
}

func (r *Runner) loadDefinitions() error {
	schemaDirs := []string{r.dirs.SchemaDirectory}
	opts := func(ns, dir string) definition.Options {
		dirs := schemaDirs
		if dir != "" && dir != r.dirs.SchemaDirectory {
			dirs = append(append([]string(nil), schemaDirs...), dir)
		}
		return definition.Options{Namespace: ns, SchemaDirs: dirs, Code: topology.CodeChecker}
	}
	var errs []error
	seen := map[string]bool{}
	add := func(def *definition.Definition, err error) {
		if err != nil {
			errs = append(errs, err)
			return
		}
		if seen[def.Namespace] {
			errs = append(errs, fmt.Errorf("%s: namespace %q is used by two definitions", def.File, def.Namespace))
			return
		}
		seen[def.Namespace] = true
		r.defs = append(r.defs, def)
	}
	for _, d := range r.dirs.Definitions {
		if d.Path != "" {
			add(definition.Load(d.Path, opts(d.Namespace, "")))
			continue
		}
		src, err := yaml.Marshal(d.Inline)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: inline definition %q: %w", d.Pos, d.Namespace, err))
			continue
		}
		file := fmt.Sprintf("%s (inline definition %s)", r.cfg.File, d.Namespace)
		add(definition.Parse(file, src, opts(d.Namespace, "")))
	}
	for _, f := range r.opts.Definitions {
		add(definition.Load(f, opts(sanitizeID(stem(f)), filepath.Dir(f))))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if len(r.defs) == 0 {
		return errors.New("no definitions to run")
	}
	if props := r.cfg.KSML.Properties; len(props) > 0 {
		for _, def := range r.defs {
			if def.Configuration == nil {
				def.Configuration = &definition.Configuration{Properties: map[string]string{}}
			}
			if def.Configuration.Properties == nil {
				def.Configuration.Properties = map[string]string{}
			}
			for k, v := range props {
				def.Configuration.Properties[k] = v
			}
		}
	}
	return nil
}

func (r *Runner) build() error {
	k := &r.cfg.KSML
	pc := k.PythonContext
	var modules []string
	if pc.ModulePath != "" {
		modules = append(modules, pc.ModulePath)
	}
	r.pyOpts = python.Options{
		ModulePaths: modules,
		Context: python.Context{
			AllowHostFileAccess: pc.AllowHostFileAccess, AllowHostSocketAccess: pc.AllowHostSocketAccess,
			AllowNativeAccess: pc.AllowNativeAccess, AllowCreateProcess: pc.AllowCreateProcess,
			AllowCreateThread: pc.AllowCreateThread, InheritEnvironmentVariables: pc.InheritEnvironmentVariables,
		},
		Logger: r.log,
	}
	in, err := python.Init(r.pyOpts)
	if err != nil {
		return fmt.Errorf("starting Python: %w", err)
	}
	r.interp = in

	reg := notation.NewRegistry()
	registries := map[string]map[string]string{}
	for _, sr := range k.SchemaRegistries {
		registries[sr.Name] = sr.Config
	}
	var ncs []avro.NotationConfig
	for _, n := range k.Notations {
		ncs = append(ncs, avro.NotationConfig{Name: n.Name, Type: string(n.Type), SchemaRegistry: n.SchemaRegistry, Config: n.Config})
	}
	if len(ncs) == 0 {
		// Upstream's deprecated fallback, registered here so its warning
		// goes through the runner's logger: avro is Confluent Avro.
		ncs = []avro.NotationConfig{{Name: avro.NotationName, Type: avro.TypeConfluent}}
		r.log.Warn("No notations configured. Loading default Avro notation with Confluent implementation. If you use AVRO in your KSML definition, please explicitly configure notations in the ksml-runner.yaml.")
	}
	if err := avro.RegisterRunnerNotations(reg, avro.NewLoader(r.dirs.SchemaDirectory), r.cfg.Kafka.Properties, registries, ncs); err != nil {
		return err
	}
	csvnotation.Register(reg, r.dirs.SchemaDirectory)
	xmlnotation.Register(reg, r.dirs.SchemaDirectory)
	jsonschemanotation.Register(reg, r.dirs.SchemaDirectory)
	protobufnotation.RegisterFactories()
	protobufnotation.Register(reg, r.dirs.SchemaDirectory)
	if err := r.configureNotations(reg); err != nil {
		return err
	}
	r.serdes = topology.NotationSerdes{Registry: reg}

	stores := map[string]*store.KeyValueBuilder{}
	r.funcs = &timedFunctions{inner: topology.NewPythonFunctions(in, stores), timers: &r.timers}
	res, err := topology.Build(r.defs, topology.Options{
		ApplicationID: r.appID, Functions: r.funcs, Serdes: r.serdes, Stdout: r.opts.Stdout, Stores: stores,
		// Kafka Streams' layout: <state.dir>/<application.id>/<task>/<store>.
		StateDir: r.StateDir(),
	})
	if err != nil {
		return err
	}
	r.topo = res
	r.windowed = topology.WindowedStores(res.Stores)
	if r.cfg.KSML.EnableProducers {
		// Compiled now so a broken producer is reported before connecting.
		if r.prods, err = r.producers(); err != nil {
			return err
		}
	}
	return nil
}

// configureNotations registers the ksml.notations entries that are not
// Avro (RegisterRunnerNotations handles those): json and binary types are
// aliases, other types are created by the factory their notation package
// registered. A type with no implementation linked in stops startup,
// naming the entry's position.
func (r *Runner) configureNotations(reg *notation.Registry) error {
	var errs []error
	for _, n := range r.cfg.KSML.Notations {
		typ := string(n.Type)
		if avro.IsAvroType(typ) {
			continue
		}
		switch n.Type {
		case config.JSON, config.Binary:
			if n.Name != typ {
				reg.Alias(n.Name, typ)
			}
			continue
		}
		props := map[string]any{}
		for _, sr := range r.cfg.KSML.SchemaRegistries {
			if sr.Name == n.SchemaRegistry {
				for k, v := range sr.Config {
					props[k] = v
				}
			}
		}
		for k, v := range n.Config {
			props[k] = v
		}
		err := reg.Configure(notation.Config{Name: n.Name, Type: typ, Properties: props, SchemaDirs: []string{r.dirs.SchemaDirectory}})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n.Pos, err))
		}
	}
	return errors.Join(errs...)
}

// State returns the runner's lifecycle state.
func (r *Runner) State() State { return r.state.get() }

// Counters returns the record counters.
func (r *Runner) Counters() *Counters { return r.counters }

// Topology returns the built topology.
func (r *Runner) Topology() *streams.Topology { return r.topo.Topology }

// StateDir returns where persistent stores live:
// <storageDirectory>/<application.id>, each store under <task>/<store>.
func (r *Runner) StateDir() string {
	return filepath.Join(r.dirs.StorageDirectory, r.appID)
}

// ApplicationID returns the application id in use.
func (r *Runner) ApplicationID() string { return r.appID }

// BootstrapServers returns the Kafka address in use once Run has connected
// (the embedded broker's when it runs), empty before.
func (r *Runner) BootstrapServers() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.broker != nil {
		return r.broker.BootstrapServers()
	}
	return r.cfg.Kafka.BootstrapServers()
}

// StoreEntry is one store of a running task.
type StoreEntry struct {
	Name      string
	Partition int32
	Store     streams.StateStore
	// Typed is the key/value store with its serdes, nil for other kinds.
	Typed *store.KeyValue
	// Window is the window store with its serdes, nil for other kinds.
	Window *store.Window
}

// WithStores calls fn with the stores of the running tasks, while no
// record is processed (interactive queries). fn must not block; the stores
// are only valid during the call.
func (r *Runner) WithStores(fn func(stores []StoreEntry)) {
	r.mu.Lock()
	eng := r.engine
	r.mu.Unlock()
	if eng == nil {
		fn(nil)
		return
	}
	eng.WithTasks(func(tasks []*streams.Task) {
		var out []StoreEntry
		for _, t := range tasks {
			for _, b := range r.topo.Topology.StoreBuilders() {
				st, ok := t.Store(b.Name())
				if !ok {
					continue
				}
				e := StoreEntry{Name: b.Name(), Partition: t.ID().Partition, Store: st}
				if kb, ok := r.topo.Stores[b.Name()]; ok {
					e.Typed, _ = kb.Typed(st)
				} else if wb, ok := r.windowed[b.Name()].(*store.WindowBuilder); ok {
					e.Window, _ = wb.Typed(st)
				}
				out = append(out, e)
			}
		}
		fn(out)
	})
}

// Run connects (starting the embedded broker if needed) and runs the
// pipelines and producers until ctx is cancelled (nil after a clean stop)
// or something fails (the error; state FAILED).
func (r *Runner) Run(ctx context.Context) (err error) {
	r.state.set(Starting)
	defer func() {
		if err != nil {
			r.state.set(Failed)
			r.log.Error("runner failed", "error", err)
		} else {
			r.state.set(Stopped)
			r.log.Info("runner stopped")
		}
	}()
	k := &r.cfg.KSML
	props := map[string]string{}
	for key, v := range r.cfg.Kafka.Properties {
		props[key] = v
	}
	props[config.ApplicationIDKey] = r.appID
	if !r.cfg.Kafka.UseEmbeddedBroker() && r.opts.EmbeddedBroker != "" {
		r.log.Warn("--embedded-broker is ignored: kafka.bootstrap.servers is configured", "bootstrap.servers", r.cfg.Kafka.BootstrapServers())
	}
	if r.cfg.Kafka.UseEmbeddedBroker() {
		addr := r.opts.EmbeddedBroker
		if addr == "" {
			addr = broker.DefaultListen
		}
		b, err := broker.Start(context.WithoutCancel(ctx), broker.Options{Listen: addr, DataDir: filepath.Join(r.dirs.StorageDirectory, "broker")})
		if err != nil {
			return fmt.Errorf("starting the embedded broker on %s: %w", addr, err)
		}
		defer b.Close()
		r.mu.Lock()
		r.broker = b
		r.mu.Unlock()
		props[config.BootstrapServersKey] = b.BootstrapServers()
		r.log.Info("embedded Kafka broker started", "bootstrap.servers", b.BootstrapServers(),
			"dataDir", filepath.Join(r.dirs.StorageDirectory, "broker"))
	}
	kc, err := kafkaclient.FromProperties(props, kafkaclient.Options{Logger: r.log})
	if err != nil {
		return fmt.Errorf("kafka configuration: %w", err)
	}
	r.logTopology()

	hasPipelines, hasProducers := false, false
	for _, d := range r.defs {
		hasPipelines = hasPipelines || len(d.Pipelines) > 0
		hasProducers = hasProducers || len(d.Producers) > 0
	}
	if hasPipelines && !k.EnablePipelines {
		r.log.Warn("pipelines are disabled (ksml.enablePipelines: false); the definitions' pipelines do not run")
	}
	if hasProducers && !k.EnableProducers {
		r.log.Warn("producers are disabled (ksml.enableProducers: false); the definitions' producers do not run")
	}
	runPipelines := k.EnablePipelines && len(r.topo.Topology.SourceTopics()) > 0
	var producers []*producer
	if k.EnableProducers {
		producers = r.prods
	}
	if !runPipelines && len(producers) == 0 {
		return errors.New("nothing to run: no pipelines or producers are enabled in the definitions")
	}
	stopServers, err := r.startObservability(runPipelines, len(producers) > 0)
	if err != nil {
		return err
	}
	defer stopServers()

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	var started sync.Once
	onStarted := func() {
		started.Do(func() {
			r.state.set(Started)
			r.log.Info("runner started", "application.id", r.appID, "stateDir", r.StateDir())
			if r.opts.OnStarted != nil {
				r.opts.OnStarted()
			}
		})
	}
	if runPipelines {
		var processID string
		if kc.ProcessingGuarantee == kafkaclient.ExactlyOnceV2 {
			// A restarted instance keeps its transactional id (see
			// kafkaio.Options.ProcessID).
			if processID, err = kafkaio.ProcessID(r.StateDir()); err != nil {
				return fmt.Errorf("exactly_once_v2 needs a writable state directory %s: %w", r.StateDir(), err)
			}
		}
		eng, err := kafkaio.New(kafkaio.Options{
			ProcessID: processID,
			Topology:  r.topo.Topology,
			Client:    kc,
			Handlers: kafkaio.Handlers{
				Consume: r.handler(k.ErrorHandling.Consume),
				Process: r.handler(k.ErrorHandling.Process),
				Produce: r.handler(k.ErrorHandling.Produce),
			},
			Observer:        r.observer(),
			NoTopicCreation: r.noTopicCreation(),
			Logger:          r.log,
			OnAssigned:      func(map[string][]int32) { r.streamState.set(Started); onStarted() },
		})
		if err != nil {
			return err
		}
		r.mu.Lock()
		r.engine = eng
		r.mu.Unlock()
		r.streamState.set(Starting)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := eng.Run(ctx); err != nil {
				r.streamState.set(Failed)
				errc <- fmt.Errorf("pipelines: %w", err)
				cancel(err)
				return
			}
			r.streamState.set(Stopped)
		}()
	}
	if len(producers) > 0 {
		r.producerState.set(Started)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.runProducers(ctx, kc, producers); err != nil {
				r.producerState.set(Failed)
				errc <- fmt.Errorf("producers: %w", err)
				cancel(err)
				return
			}
			r.producerState.set(Stopped)
			if !runPipelines {
				cancel(nil) // nothing else to wait for
			}
		}()
		if !runPipelines {
			onStarted()
		}
	}
	<-ctx.Done()
	r.state.set(Stopping)
	if r.streamState.get() == Started {
		r.streamState.set(Stopping)
	}
	r.log.Info("stopping runner")
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		return errors.New("pipelines and producers did not stop within 10s")
	}
	close(errc)
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// noTopicCreation reports whether allow.auto.create.topics=false (the
// consumer property) turns off the creation of missing topics.
func (r *Runner) noTopicCreation() bool {
	return strings.EqualFold(strings.TrimSpace(r.cfg.Kafka.Properties["allow.auto.create.topics"]), "false")
}

func (r *Runner) handler(h config.ErrorHandler) kafkaio.Handler {
	out := kafkaio.Handler{Log: h.Log, LogPayload: h.LogPayload, DeadLetterTopic: h.DeadLetterTopic}
	if h.LoggerName != "" {
		out.Logger = r.log.With("logger", h.LoggerName)
	}
	switch h.Handler {
	case config.ContinueOnFail:
		out.Action = kafkaio.Continue
	case config.RetryOnFail:
		out.Action = kafkaio.Retry
	default:
		out.Action = kafkaio.Stop
	}
	return out
}

// logTopology logs the topology description, topics and stores at startup.
func (r *Runner) logTopology() {
	t := r.topo.Topology
	var stores []string
	for _, b := range t.StoreBuilders() {
		stores = append(stores, fmt.Sprintf("%s(%s, logging=%v)", b.Name(), b.Kind(), b.Logging()))
	}
	var internal []string
	for _, it := range t.InternalTopics() {
		internal = append(internal, it.Name)
	}
	var sinks []string
	for _, n := range t.Nodes() {
		if n.Kind == streams.SinkNode && len(n.Topics) > 0 {
			sinks = append(sinks, n.Topics[0])
		}
	}
	var namespaces []string
	for _, d := range r.defs {
		namespaces = append(namespaces, d.Namespace)
	}
	r.log.Info("topology built", "application.id", r.appID, "definitions", strings.Join(namespaces, ","),
		"sourceTopics", strings.Join(t.SourceTopics(), ","), "outputTopics", strings.Join(sinks, ","),
		"internalTopics", strings.Join(internal, ","), "stores", strings.Join(stores, ","))
	r.log.Info("topology description\n" + t.Describe())
}
