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
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/ksml-dev/ksml/internal/broker"
	"github.com/ksml-dev/ksml/internal/definition"
	"github.com/ksml-dev/ksml/internal/kafkaclient"
	"github.com/ksml-dev/ksml/internal/notation"
	"github.com/ksml-dev/ksml/internal/notation/avro"
	"github.com/ksml-dev/ksml/internal/notation/environment"
	"github.com/ksml-dev/ksml/internal/python"
	"github.com/ksml-dev/ksml/internal/residency"
	"github.com/ksml-dev/ksml/internal/runner/config"
	"github.com/ksml-dev/ksml/internal/runner/observability"
	"github.com/ksml-dev/ksml/internal/store"
	"github.com/ksml-dev/ksml/internal/streams"
	"github.com/ksml-dev/ksml/internal/streams/kafkaio"
	"github.com/ksml-dev/ksml/internal/topology"
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
	// when no Kafka cluster is configured (default 127.0.0.1:9092); a bare
	// port means 127.0.0.1:<port>. Set, it forces the embedded broker
	// even when bootstrap.servers is configured.
	EmbeddedBroker string
	// BootstrapServers, ApplicationID and StorageDir override
	// kafka.bootstrap.servers, kafka.application.id and
	// ksml.storageDirectory (the command line's --bootstrap-servers,
	// --application-id, --storage-dir and their KSML_* variables). A
	// storage directory given here is created when missing.
	BootstrapServers, ApplicationID, StorageDir string
	// Partitions is the partition count of the topics ksml creates when
	// they are missing and no source gives a count (source topics,
	// producers' targets); 0 leaves it to the cluster (num.partitions).
	// The embedded broker uses it as its default too.
	Partitions int
	// OnError overrides the handler of every error kind: "stop"
	// (stopOnFail) or "continue" (continueOnFail); empty keeps the
	// configuration's handlers.
	OnError string
	// Sources names where each override came from (flag or environment
	// variable), keyed "bootstrap.servers", "application.id",
	// "storageDirectory", "errorHandling", "embeddedBroker", for messages.
	Sources map[string]string
	// InstanceID, if set, is this instance's stable name: it becomes the
	// consumer group's group.instance.id (static membership), so a
	// restarted instance gets its partitions back without a rebalance.
	// It overrides kafka.group.instance.id.
	InstanceID string
	// WorkDir resolves relative paths of the configuration (default: the
	// directory of the configuration file, or the process's working
	// directory without one).
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
	// Console, if set, receives what people read rather than parse: the
	// multi-line topology description at startup. Without it the
	// description is logged as one attribute.
	Console io.Writer
	// ProgressInterval is how often a progress summary (records in and
	// out, failures, consumer lag) is logged; 0 takes
	// kafka.log.summary.interval.ms (Kafka Streams' setting), default 30s;
	// negative turns it off.
	ProgressInterval time.Duration
	// Version and BuildTime label the ksml_app metric; empty values fall
	// back to the binary's build information ("dev" and the VCS time or
	// the executable's modification time).
	Version, BuildTime string
	// MetricsAddr and AppServerAddr, if set, replace the host:port the
	// metrics endpoint and the application server bind (from
	// ksml.prometheus, ksml.applicationServer or a definition's
	// configuration.metrics); whether they run is still the
	// configuration's choice. "127.0.0.1:0" binds a free port, which
	// MetricsAddr and AppServerAddr of the Runner then report.
	MetricsAddr, AppServerAddr string
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
	prods    []*producer
	counters *Counters
	pyOpts   python.Options
	// state is the runner's; streamState and producerState are the
	// pipelines' and the producers' own, as the health probes report them.
	state, streamState, producerState stateBox

	servers *observability.Servers

	mu      sync.Mutex
	engines []*kafkaio.Engine // one per stream thread
	broker  *broker.Broker
	// registry is the embedded schema registry, nil unless the embedded
	// broker runs and no registry is configured.
	registry *embeddedRegistry
	// streamsState is Kafka Streams' name for the pipelines' state, for
	// the transitions the log shows (CREATED, REBALANCING, RUNNING, ...).
	streamsState string
	// failure is why the pipelines or producers failed, for the console.
	failure error
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
		if r.opts.StorageDir != "" {
			sd, err := r.createStorageDir()
			if err != nil {
				return err
			}
			r.dirs.StorageDirectory = sd
		}
	} else {
		cfg, err := config.Load(r.opts.ConfigFile, config.Options{LookupEnv: r.opts.LookupEnv, DefinitionsOptional: len(r.opts.Definitions) > 0})
		if err != nil {
			return err
		}
		// Relative paths of a configuration are relative to its file, so it
		// runs the same from any working directory.
		base := r.opts.WorkDir
		if base == "" {
			if abs, err := filepath.Abs(r.opts.ConfigFile); err == nil {
				base = filepath.Dir(abs)
			}
		}
		if r.opts.StorageDir != "" {
			sd, err := r.createStorageDir()
			if err != nil {
				return err
			}
			cfg.KSML.StorageDirectory = sd
		}
		dirs, err := cfg.Resolve(base)
		if err != nil {
			return err
		}
		if mp := cfg.KSML.PythonContext.ModulePath; mp != "" && !filepath.IsAbs(mp) {
			cfg.KSML.PythonContext.ModulePath = filepath.Join(base, mp)
		}
		for _, w := range cfg.Warnings {
			r.log.Warn(w.Msg, "position", w.Pos.String())
		}
		r.cfg, r.dirs = cfg, dirs
	}
	if err := r.applyOverrides(); err != nil {
		return err
	}
	r.appID = r.cfg.Kafka.ApplicationID()
	if r.appID == "" {
		name := "ksml"
		if len(r.opts.Definitions) > 0 {
			name = stem(r.opts.Definitions[0])
		} else if len(r.dirs.Definitions) > 0 {
			name = r.dirs.Definitions[0].Namespace
		}
		r.appID = DefaultApplicationID(name)
		r.log.Info("no application.id configured; derived from the definition (set it with --application-id)", "application.id", r.appID)
	}
	return r.checkClusterConfigured()
}

// DefaultApplicationID is the application id `ksml run` uses for
// definition files without a configured one: the first file's name
// without extension, in the characters Kafka allows in topic names.
func DefaultApplicationID(firstFile string) string { return sanitizeID(stem(firstFile)) }

// createStorageDir creates the storage directory given as an override
// (relative to the working directory, as command-line paths are).
func (r *Runner) createStorageDir() (string, error) {
	sd, err := filepath.Abs(r.opts.StorageDir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(sd, 0o755); err != nil {
		return "", fmt.Errorf("%s %s: %w", r.source("storageDirectory", "--storage-dir"), r.opts.StorageDir, err)
	}
	return sd, nil
}

// source names where an override came from, for messages.
func (r *Runner) source(key, def string) string {
	if s := r.opts.Sources[key]; s != "" {
		return s
	}
	return def
}

// applyOverrides puts the command line's settings over the
// configuration's.
func (r *Runner) applyOverrides() error {
	props := r.cfg.Kafka.Properties
	if r.opts.BootstrapServers != "" {
		props[config.BootstrapServersKey] = r.opts.BootstrapServers
	}
	if r.opts.ApplicationID != "" {
		if p := topicNameProblem(r.opts.ApplicationID); p != "" {
			return fmt.Errorf("%s: %s", r.source("application.id", "--application-id"), p)
		}
		props[config.ApplicationIDKey] = r.opts.ApplicationID
	}
	switch strings.ToLower(r.opts.OnError) {
	case "":
	case "stop", "stoponfail":
		eh := &r.cfg.KSML.ErrorHandling
		eh.Consume.Handler, eh.Process.Handler, eh.Produce.Handler = config.StopOnFail, config.StopOnFail, config.StopOnFail
	case "continue", "continueonfail":
		eh := &r.cfg.KSML.ErrorHandling
		eh.Consume.Handler, eh.Process.Handler, eh.Produce.Handler = config.ContinueOnFail, config.ContinueOnFail, config.ContinueOnFail
	default:
		return fmt.Errorf("%s %q: want stop or continue", r.source("errorHandling", "--on-error"), r.opts.OnError)
	}
	return nil
}

// topicNameProblem checks an application id the way Kafka checks the
// topic names it prefixes; "" when valid.
func topicNameProblem(id string) string {
	if sanitizeID(id) != id || id == "." || id == ".." || len(id) > 200 {
		return fmt.Sprintf("%q is not a valid application id (letters, digits, '.', '_' and '-'; it prefixes internal topic names)", id)
	}
	return ""
}

// clusterProperties are kafka properties that only make sense for a real
// cluster; with one of them but no bootstrap.servers the configuration
// is incomplete, and the embedded broker would silently run instead.
var clusterProperties = []string{"security.protocol", "sasl.", "ssl."}

// checkClusterConfigured refuses a configuration that sets up a
// connection to a cluster but names none: the embedded broker only starts
// when nothing about a cluster is configured.
func (r *Runner) checkClusterConfigured() error {
	if r.cfg.Kafka.BootstrapServers() != "" || r.opts.EmbeddedBroker != "" {
		return nil
	}
	var keys []string
	for key := range r.cfg.Kafka.Properties {
		for _, p := range clusterProperties {
			if key == p || strings.HasPrefix(key, p) {
				keys = append(keys, key)
			}
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	where := "kafka." + keys[0]
	if pos := r.cfg.Kafka.Pos(keys[0]); pos.IsValid() {
		where = pos.String() + ": " + where
	}
	return fmt.Errorf("%s is set but kafka.bootstrap.servers is not: set bootstrap.servers (or --bootstrap-servers, KSML_BOOTSTRAP_SERVERS) to the cluster, or remove the cluster settings to use the embedded broker", where)
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
		VirtualEnv:      pc.Venv,
		FunctionTimeout: pc.FunctionTimeout,
		Logger:          r.log,
	}
	in, err := python.Init(r.pyOpts)
	if err != nil {
		return fmt.Errorf("starting Python: %w", err)
	}
	r.interp = in

	reg, err := r.notations()
	if err != nil {
		return err
	}
	r.serdes = topology.NotationSerdes{Registry: reg}

	r.funcs = &timedFunctions{inner: topology.NewPythonFunctions(in), timers: &r.timers}
	res, err := topology.Build(r.defs, topology.Options{
		ApplicationID: r.appID, Functions: r.funcs, Serdes: r.serdes, Stdout: r.opts.Stdout,
		// Kafka Streams' layout: <state.dir>/<application.id>/<task>/<store>.
		StateDir: r.StateDir(),
	})
	if err != nil {
		return err
	}
	r.topo = res
	r.warnUnloggedStores()
	if r.cfg.KSML.EnableProducers {
		// Compiled now so a broken producer is reported before connecting.
		if r.prods, err = r.producers(); err != nil {
			return err
		}
	}
	return nil
}

// warnUnloggedStores warns about stores of stateful operations that keep
// their contents nowhere: declared with a name only, a store is in memory
// and not logged (upstream's defaults), so a restart begins again from
// empty, for example counts from zero.
func (r *Runner) warnUnloggedStores() {
	for _, def := range r.defs {
		for _, p := range def.Pipelines {
			for _, op := range p.Via {
				for _, ref := range []*definition.StoreRef{op.Store, op.ThisStore, op.OtherStore} {
					if ref == nil || ref.Def == nil || ref.Def.Logging || ref.Def.Persistent {
						continue
					}
					r.log.Warn(fmt.Sprintf("%s: store %q of %s is in memory and not logged, so its contents are lost when the runner restarts; "+
						"set logging: true on the store to keep them in a changelog topic (or persistent: true to keep them on disk)",
						op.Pos, ref.Def.Name, op.Keyword))
				}
			}
		}
	}
}

// SchemaRegistryURL returns the URL of the embedded schema registry while
// Run serves it, "" otherwise.
func (r *Runner) SchemaRegistryURL() string {
	if r.registry == nil {
		return ""
	}
	return r.registry.url
}

// useEmbeddedBroker reports whether Run starts the embedded broker.
func (r *Runner) useEmbeddedBroker() bool {
	return r.opts.EmbeddedBroker != "" || r.cfg.Kafka.UseEmbeddedBroker()
}

// registryConfigured reports whether the configuration names a schema
// registry anywhere (Kafka properties, ksml.schemaRegistries, notation
// configs).
func (r *Runner) registryConfigured() bool {
	if len(r.cfg.KSML.SchemaRegistries) > 0 {
		return true
	}
	has := func(props map[string]string) bool {
		return props["schema.registry.url"] != "" || props["apicurio.registry.url"] != ""
	}
	if has(r.cfg.Kafka.Properties) {
		return true
	}
	for _, n := range r.cfg.KSML.Notations {
		if has(n.Config) {
			return true
		}
	}
	return false
}

// mentionsAvro reports whether any definition's text mentions Avro (types
// such as avro:Order or AVRO). It reads the text rather than the model so
// that no place a type can be written is missed; a mention in a comment
// only keeps upstream's warning.
func (r *Runner) mentionsAvro() bool {
	for _, d := range r.dirs.Definitions {
		if d.Inline != nil {
			if src, err := yaml.Marshal(d.Inline); err != nil || bytes.Contains(bytes.ToLower(src), []byte("avro")) {
				return true
			}
		}
	}
	for _, def := range r.defs {
		src, err := os.ReadFile(def.File)
		if errors.Is(err, os.ErrNotExist) {
			continue // an inline definition, checked above
		}
		if err != nil || bytes.Contains(bytes.ToLower(src), []byte("avro")) {
			return true
		}
	}
	return false
}

// notations builds the runner's notations from its configuration: the
// Kafka properties, ksml.schemaRegistries and ksml.notations (see package
// environment). An entry that cannot be created stops startup, naming its
// position.
func (r *Runner) notations() (*notation.Registry, error) {
	k := &r.cfg.KSML
	registries := map[string]map[string]string{}
	for _, sr := range k.SchemaRegistries {
		registries[sr.Name] = sr.Config
	}
	entries := make([]environment.Entry, 0, len(k.Notations))
	for _, n := range k.Notations {
		entries = append(entries, environment.Entry{Name: n.Name, Type: string(n.Type), SchemaRegistry: n.SchemaRegistry, Config: n.Config, Pos: n.Pos.String()})
	}
	switch {
	case r.useEmbeddedBroker() && !r.registryConfigured() && r.mentionsAvro():
		// Embedded mode without a registry: the Avro notations (the
		// built-in names and every Avro entry) are Confluent Avro over the
		// embedded registry, which Run serves beside the broker.
		er, err := openEmbeddedRegistry(filepath.Join(r.dirs.StorageDirectory, "schema-registry.jsonl"))
		if err != nil {
			return nil, err
		}
		r.registry = er
		avroEntries := []environment.Entry{
			{Name: avro.NotationName, Type: avro.TypeConfluent, Registry: er},
			{Name: avro.TypeConfluent, Type: avro.TypeConfluent, Registry: er},
			{Name: avro.TypeApicurio, Type: avro.TypeConfluent, Registry: er},
		}
		for i, e := range entries {
			if e.Type == string(config.ConfluentAvro) || e.Type == string(config.ApicurioAvro) {
				entries[i] = environment.Entry{Name: e.Name, Type: avro.TypeConfluent, Registry: er, Pos: e.Pos}
			}
		}
		entries = append(avroEntries, entries...)
	case len(entries) == 0 && !r.mentionsAvro():
		// The fallback avro warns when a definition uses it; nothing
		// mentions Avro here, so a debug line says it is there.
		r.log.Debug(environment.FallbackWarning)
	}
	return environment.New(environment.Config{Kafka: r.cfg.Kafka.Properties, SchemaRegistries: registries, Notations: entries,
		SchemaDirs: []string{r.dirs.SchemaDirectory}, Logger: r.log})
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
	engines := r.engines
	r.mu.Unlock()
	if len(engines) == 0 {
		fn(nil)
		return
	}
	withAllTasks(engines, nil, func(tasks []*streams.Task) {
		var out []StoreEntry
		for _, t := range tasks {
			for _, b := range r.topo.Topology.StoreBuilders() {
				st, ok := t.Store(b.Name())
				if !ok {
					continue
				}
				e := StoreEntry{Name: b.Name(), Partition: t.ID().Partition, Store: st}
				if kb := r.topo.Stores.KeyValue(b.Name()); kb != nil {
					e.Typed, _ = kb.Typed(st)
				} else if wb, ok := r.topo.Stores.Windowed(b.Name()).(*store.WindowBuilder); ok {
					e.Window, _ = wb.Typed(st)
				}
				out = append(out, e)
			}
		}
		fn(out)
	})
}

// withAllTasks calls fn with the tasks of all engines while none of them
// processes a record: it holds each engine's lock in turn, always in the
// same order.
func withAllTasks(engines []*kafkaio.Engine, acc []*streams.Task, fn func([]*streams.Task)) {
	if len(engines) == 0 {
		fn(acc)
		return
	}
	engines[0].WithTasks(func(tasks []*streams.Task) {
		withAllTasks(engines[1:], append(acc, tasks...), fn)
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
			err = r.explainFailure(err) // advice for the person reading the exit message
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
	if err := r.applyInstanceID(props); err != nil {
		return err
	}
	if r.useEmbeddedBroker() {
		addr := EmbeddedBrokerAddr(r.opts.EmbeddedBroker)
		dataDir := r.BrokerDataDir()
		b, err := broker.Start(context.WithoutCancel(ctx), broker.Options{Listen: addr, DataDir: dataDir, Partitions: r.opts.Partitions})
		if err != nil {
			return fmt.Errorf("starting the embedded broker on %s: %w (another one may be running: choose a port with --embedded-broker PORT, or point --bootstrap-servers at it)", addr, err)
		}
		defer b.Close()
		r.mu.Lock()
		r.broker = b
		r.mu.Unlock()
		props[config.BootstrapServersKey] = b.BootstrapServers()
		why := "no Kafka cluster configured (kafka.bootstrap.servers, --bootstrap-servers, KSML_BOOTSTRAP_SERVERS)"
		if configured := r.cfg.Kafka.BootstrapServers(); configured != "" {
			why = fmt.Sprintf("%s forces it instead of the configured cluster %s", r.source("embeddedBroker", "--embedded-broker"), configured)
		}
		r.log.Info(fmt.Sprintf("using the embedded Kafka broker on %s: %s; its data is in %s", b.BootstrapServers(), why, dataDir),
			"bootstrap.servers", b.BootstrapServers(), "dataDir", dataDir)
		if r.registry != nil {
			url, err := r.registry.serve(addr)
			if err != nil {
				return err
			}
			defer func() {
				if cerr := r.registry.close(); cerr != nil {
					r.log.Warn("saving the embedded schema registry", "error", cerr)
				}
			}()
			r.log.Info(fmt.Sprintf("serving the embedded schema registry (Confluent and Apicurio APIs) on %s for the avro notations; its schemas are kept in %s", url, r.registry.file))
		}
	} else {
		r.log.Info(fmt.Sprintf("using the Kafka cluster at %s (%s)", r.cfg.Kafka.BootstrapServers(), r.clusterSource()),
			"bootstrap.servers", r.cfg.Kafka.BootstrapServers())
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
	stopServers, err := r.startObservability(runPipelines, len(producers) > 0, kc)
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
			// The pages only start-up used (package initializers,
			// loading definitions, the interpreter's start): ~12 MB.
			residency.ReleaseLogged(r.log)
			if r.opts.OnStarted != nil {
				r.opts.OnStarted()
			}
		})
	}
	if runPipelines {
		// A restarted instance keeps its transactional id and, unless
		// configured otherwise, its group.instance.id (identity.go).
		_, configuredInstanceID := props["group.instance.id"]
		processID, derivedInstanceID, release, err := r.instanceIdentity(kc, configuredInstanceID)
		if err != nil {
			return err
		}
		defer release()
		threads := kc.NumStreamThreads
		if threads > 1 && len(r.topo.Topology.GlobalTopics()) > 0 {
			// Every thread would load its own copy of the global stores
			// into the same directories.
			r.log.Warn("num.stream.threads has no effect with global tables: the process runs one stream thread",
				"num.stream.threads", threads)
			threads = 1
		}
		if threads > 1 {
			r.log.Info(fmt.Sprintf("running %d stream threads: tasks are spread over them and process in parallel; Python functions run one at a time (the GIL)", threads),
				"num.stream.threads", threads)
		}
		engines := make([]*kafkaio.Engine, threads)
		// The first thread commits the sources' offset resets before any
		// thread joins the group; then all join together (see
		// kafkaio.Options.BeforeJoin).
		resetsDone, allAtJoin := make(chan struct{}), make(chan struct{})
		var atJoin atomic.Int32
		for i := range engines {
			opts := kafkaio.Options{
				ProcessID:        processID,
				LeaveGroupOnStop: derivedInstanceID,
				Topology:         r.topo.Topology,
				Client:           kc,
				Handlers: kafkaio.Handlers{
					Consume: r.handler(k.ErrorHandling.Consume),
					Process: r.handler(k.ErrorHandling.Process),
					Produce: r.handler(k.ErrorHandling.Produce),
				},
				Observer:          r.observer(),
				NoTopicCreation:   r.noTopicCreation(),
				DefaultPartitions: r.createdPartitions(),
				Logger:            r.log,
				OnAssigned: func(map[string][]int32) {
					if ctx.Err() != nil {
						return // a thread joining while the runner stops
					}
					r.streamState.set(Started)
					r.streamsTransition("RUNNING")
					onStarted()
				},
			}
			if threads > 1 {
				// Kafka Streams' transactional id per thread:
				// <application.id>-<process id>-<thread>; the first
				// thread keeps the one-thread id.
				opts.Thread = i + 1
				opts.Logger = r.log.With("thread", i+1)
				if processID != "" && i > 0 {
					opts.ProcessID = fmt.Sprintf("%s-%d", processID, i+1)
				}
			}
			if threads > 1 {
				var once sync.Once
				opts.BeforeJoin = func(ctx context.Context) error {
					once.Do(func() {
						if i == 0 {
							close(resetsDone)
						}
						if atJoin.Add(1) == int32(threads) {
							close(allAtJoin)
						}
					})
					for _, ch := range []chan struct{}{resetsDone, allAtJoin} {
						select {
						case <-ch:
						case <-ctx.Done():
							return nil // stopping before joining is a clean stop
						}
					}
					return nil
				}
			}
			if engines[i], err = kafkaio.New(opts); err != nil {
				return err
			}
		}
		r.mu.Lock()
		r.engines = engines
		r.mu.Unlock()
		r.streamState.set(Starting)
		r.streamsTransition("REBALANCING")
		var failOnce sync.Once
		for i, eng := range engines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := eng.Run(ctx); err != nil {
					failOnce.Do(func() {
						r.setFailure(fmt.Errorf("pipelines: %w", err))
						r.streamsTransition("ERROR")
						r.streamState.set(Failed)
						errc <- fmt.Errorf("pipelines: %w", err)
					})
					cancel(err)
					return
				}
				if i == 0 {
					r.streamsTransition("NOT_RUNNING")
					r.streamState.set(Stopped)
				}
			}()
		}
	}
	if len(producers) > 0 {
		r.producerState.set(Started)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := r.runProducers(ctx, kc, producers); err != nil {
				r.setFailure(fmt.Errorf("producers: %w", err))
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
	if interval := r.progressInterval(); interval > 0 {
		wg.Add(1)
		go func() { defer wg.Done(); r.logProgress(ctx, interval, runPipelines) }()
	}
	<-ctx.Done()
	r.state.set(Stopping)
	if r.streamState.get() == Started {
		r.streamState.set(Stopping)
		r.streamsTransition("PENDING_SHUTDOWN")
	}
	r.log.Info("stopping runner")
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		if stuck := python.StuckCalls(); len(stuck) > 0 {
			// A function in a C loop cannot be interrupted; its records
			// are not committed and are processed again after a restart.
			r.log.Error("stopping with Python functions stuck past their timeout; their records were not committed",
				"function", stuck[0].Function, "stuck", len(stuck))
			return nil
		}
		return errors.New("pipelines and producers did not stop within 10s")
	}
	close(errc)
	var errs []error
	for err := range errc {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// setFailure keeps the first error that stopped the pipelines or
// producers.
func (r *Runner) setFailure(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failure == nil {
		r.failure = err
	}
}

// streamsTransition logs a change of the pipelines' state with Kafka
// Streams' names and message, so its users find the lines they know.
func (r *Runner) streamsTransition(to string) {
	r.mu.Lock()
	from := r.streamsState
	if from == "" {
		from = "CREATED"
	}
	if from == to || from == "ERROR" || from == "NOT_RUNNING" {
		r.mu.Unlock()
		return
	}
	r.streamsState = to
	r.mu.Unlock()
	r.log.Info(fmt.Sprintf("State transition from %s to %s", from, to), "application.id", r.appID)
}

// progressInterval is Options.ProgressInterval, or log.summary.interval.ms,
// or 30 seconds.
func (r *Runner) progressInterval() time.Duration {
	if r.opts.ProgressInterval != 0 {
		return r.opts.ProgressInterval
	}
	if v := strings.TrimSpace(r.cfg.Kafka.Properties["log.summary.interval.ms"]); v != "" {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
			return time.Duration(ms) * time.Millisecond
		}
	}
	return 30 * time.Second
}

// logProgress logs a summary every interval until ctx ends: records
// consumed and produced (totals and since the last line), failures and,
// with pipelines, the consumer lag.
func (r *Runner) logProgress(ctx context.Context, interval time.Duration, pipelines bool) {
	t := time.NewTicker(interval)
	defer t.Stop()
	var lastIn, lastOut int64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		in, out, failed := r.counters.Totals()
		attrs := []any{"consumed", in, "consumedSinceLast", in - lastIn, "produced", out, "producedSinceLast", out - lastOut, "failed", failed}
		if pipelines {
			attrs = append(attrs, "lag", r.counters.TotalLag())
		}
		r.log.Info("progress", attrs...)
		lastIn, lastOut = in, out
	}
}

// EmbeddedBrokerAddr is the listen address for an --embedded-broker
// value: the default for "", 127.0.0.1:<port> for a bare port.
func EmbeddedBrokerAddr(v string) string {
	switch {
	case v == "":
		return broker.DefaultListen
	case isPort(v):
		return "127.0.0.1:" + v
	}
	return v
}

func isPort(s string) bool {
	if s == "" || len(s) > 5 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// BrokerDataDir is where the embedded broker keeps its topics.
func (r *Runner) BrokerDataDir() string { return filepath.Join(r.dirs.StorageDirectory, "broker") }

// clusterSource says where bootstrap.servers came from.
func (r *Runner) clusterSource() string {
	if r.opts.BootstrapServers != "" {
		return r.source("bootstrap.servers", "--bootstrap-servers")
	}
	if pos := r.cfg.Kafka.Pos(config.BootstrapServersKey); pos.IsValid() {
		return "kafka.bootstrap.servers at " + pos.String()
	}
	return "kafka.bootstrap.servers"
}

// explainFailure adds to a failed record what to do about it: the record
// stops every restart at the same offset until it is skipped, so the
// message names the setting and flag that skip it and, on the embedded
// broker, how to look at the record after the runner has exited.
func (r *Runner) explainFailure(err error) error {
	var rerr *kafkaio.RecordError
	if !errors.As(err, &rerr) {
		return err
	}
	kind := string(rerr.Kind) // consume, process or produce, as the configuration's keys
	setting := "ksml.errorHandling." + kind + ".handler: continueOnFail"
	if r.cfg.File != "" {
		setting += " in " + r.cfg.File
	} else {
		setting += " in a runner configuration (-c)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%v\nThe runner stopped (errorHandling.%s.handler is stopOnFail); a restart stops at this record again.", err, kind)
	fmt.Fprintf(&b, "\nTo skip failing records, set %s (add deadLetterTopic: <topic> to keep them), or run with --on-error continue (KSML_ON_ERROR=continue).", setting)
	if rerr.Offset >= 0 && rerr.Topic != "" {
		if r.broker != nil {
			fmt.Fprintf(&b, "\nTo inspect the record, serve the embedded broker's data with `ksml broker --data-dir %s` and read it with `kcat -b %s -C -t %s -p %d -o %d -c 1`.",
				r.BrokerDataDir(), broker.DefaultListen, rerr.Topic, rerr.Partition, rerr.Offset)
		} else {
			fmt.Fprintf(&b, "\nTo inspect the record: `kcat -b %s -C -t %s -p %d -o %d -c 1`.", r.cfg.Kafka.BootstrapServers(), rerr.Topic, rerr.Partition, rerr.Offset)
		}
	}
	return &explainedError{err: err, msg: b.String()}
}

// explainedError is an error with advice appended; it unwraps to the
// original error.
type explainedError struct {
	err error
	msg string
}

func (e *explainedError) Error() string { return e.msg }
func (e *explainedError) Unwrap() error { return e.err }

// createdPartitions is the partition count of topics ksml creates without
// a source to follow: Options.Partitions, or -1 for the cluster's default.
func (r *Runner) createdPartitions() int {
	if r.opts.Partitions > 0 {
		return r.opts.Partitions
	}
	return -1
}

// applyInstanceID sets group.instance.id from Options.InstanceID.
func (r *Runner) applyInstanceID(props map[string]string) error {
	id := strings.TrimSpace(r.opts.InstanceID)
	if id == "" {
		return nil
	}
	if cur, ok := props["group.instance.id"]; ok && strings.TrimSpace(cur) != id {
		// Like the other flags, the instance id overrides the file.
		r.log.Info("the instance id overrides kafka.group.instance.id", "group.instance.id", id, "configured", cur)
	}
	props["group.instance.id"] = id
	r.log.Info("static group membership", "group.instance.id", id)
	return nil
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
	if r.opts.Console != nil {
		fmt.Fprintf(r.opts.Console, "Topology of application %s:\n%s", r.appID, t.Describe())
	} else {
		r.log.Info("topology description", "topology", t.Describe())
	}
}
