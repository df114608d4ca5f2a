// Package broker runs the embedded Kafka broker: a single-node kfake cluster
// (github.com/twmb/franz-go/pkg/kfake) that speaks the Kafka protocol on a
// real TCP port, so ksml and any third-party client (kcat, Java clients) can
// use it like a small Kafka.
//
// The broker adds what kfake leaves to its embedder:
//
//   - it listens on a chosen address (kfake binds 127.0.0.1 on a random port
//     unless told otherwise) and advertises an address clients can reach;
//   - it persists under a data directory so topics, records, committed
//     offsets and producer state survive a restart; after an unclean stop
//     (the process killed) it writes the abort markers of the transactions
//     the stop left open, as a Kafka transaction coordinator would;
//   - it runs log compaction and retention periodically (kfake only does so
//     hourly, and only after a topic's configs change);
//   - it picks an auto topic creation policy that suits Kafka Streams.
//
// Topic creation: metadata requests that ask for auto creation (producers
// such as kcat and the Java producer do) create the topic with
// Options.Partitions partitions (default 1, Kafka's num.partitions default).
// Kafka Streams style internal topics (repartition, changelog) are created
// explicitly by the engine with CreateTopics and the partition count of their
// source topics; a CreateTopics request with -1 partitions also gets
// Options.Partitions. The broker has one node, so topics can only have
// replication factor 1 (or -1, "broker default"); asking for more fails with
// INVALID_REPLICATION_FACTOR, as a one-broker Kafka would.
//
// Retention: topics without an explicit retention.ms keep their records
// forever (broker log.retention.ms=-1) unless Options.DefaultRetention is
// set. Kafka's default is seven days, but kfake applies time retention to
// compacted topics too, where Kafka does not; keeping data by default means
// a changelog or a test topic whose records carry old timestamps never
// loses records behind the user's back. Topics that set retention.ms or
// retention.bytes are trimmed on every maintenance pass, and topics with
// cleanup.policy=compact are compacted (kfake keeps the last batch of each
// partition, like Kafka keeps the active segment).
package broker

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// DefaultListen is where the embedded broker listens when no address is
// given: the Kafka port on loopback, so nothing outside the machine can
// reach it by accident.
const DefaultListen = "127.0.0.1:9092"

// DefaultMaintenanceInterval is how often compaction and retention run.
const DefaultMaintenanceInterval = 30 * time.Second

// Options configures Start. The zero value is usable: it listens on
// DefaultListen and keeps everything in memory.
type Options struct {
	// Listen is the TCP address to listen on, host:port. Port 0 picks a
	// free port (tests use "127.0.0.1:0"). Empty means DefaultListen.
	Listen string

	// Advertise is the host:port the broker tells clients to connect to in
	// metadata responses. Empty means the address actually bound, with an
	// unspecified host (0.0.0.0, ::) replaced by 127.0.0.1; set it when
	// clients on other machines connect through a wildcard listener.
	Advertise string

	// DataDir, if set, persists all broker state (topics, records, group
	// offsets, producer ids) under this directory and reloads it on the
	// next Start. It is created if missing. Empty keeps state in memory.
	DataDir string

	// SyncWrites fsyncs every produced batch. Without it, writes reach the
	// OS page cache at once (they survive a killed process) and are synced
	// on segment roll and Close (a machine crash can lose the tail).
	SyncWrites bool

	// Partitions is the partition count of auto-created topics and of
	// CreateTopics requests with -1 partitions. Zero means 1.
	Partitions int

	// DisableAutoCreateTopics rejects metadata requests for unknown topics
	// instead of creating them.
	DisableAutoCreateTopics bool

	// DefaultRetention is the retention of topics that do not set
	// retention.ms. Zero keeps records forever (see the package comment).
	DefaultRetention time.Duration

	// MaintenanceInterval is how often compaction and retention run. Zero
	// means DefaultMaintenanceInterval; negative disables the periodic run
	// (Maintain can still be called).
	MaintenanceInterval time.Duration

	// Logger receives the broker's own messages and kfake's; nil uses
	// slog.Default(). kfake's per-request chatter is logged at debug.
	Logger *slog.Logger
}

// Broker is a running embedded broker. Its methods are safe for concurrent
// use.
type Broker struct {
	cluster   *kfake.Cluster
	addr      string
	advertise string
	logger    *slog.Logger
	dataDir   string

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

// Start starts a broker and returns once it accepts connections. The broker
// runs until Close is called or ctx is done, whichever comes first.
//
// Start fails if the address cannot be bound (for example, the port is in
// use) or if persisted state under DataDir cannot be read.
func Start(ctx context.Context, opts Options) (*Broker, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	listen := opts.Listen
	if listen == "" {
		listen = DefaultListen
	}
	if _, _, err := net.SplitHostPort(listen); err != nil {
		return nil, fmt.Errorf("broker listen address %q: %w", listen, err)
	}
	if opts.Advertise != "" {
		if _, _, err := net.SplitHostPort(opts.Advertise); err != nil {
			return nil, fmt.Errorf("broker advertised address %q: %w", opts.Advertise, err)
		}
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	partitions := opts.Partitions
	if partitions <= 0 {
		partitions = 1
	}
	retention := "-1"
	if opts.DefaultRetention > 0 {
		retention = strconv.FormatInt(opts.DefaultRetention.Milliseconds(), 10)
	}

	var (
		bound     net.Addr
		advertise string
	)
	listenFn := func(network, _ string) (net.Listener, error) {
		// kfake asks for 127.0.0.1 on a random port; we bind what the
		// user asked for instead.
		ln, err := net.Listen(listenNetwork(network, listen), listen)
		if err != nil {
			return nil, err
		}
		bound = ln.Addr()
		advertise = opts.Advertise
		if advertise == "" {
			advertise = advertisedAddr(bound)
		}
		return &advertisedListener{Listener: ln, addr: advertisedNetAddr(advertise)}, nil
	}

	kopts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.ListenFn(listenFn),
		kfake.WithLogger(kfakeLogger{logger}),
		kfake.DefaultNumPartitions(partitions),
		kfake.ClusterID("ksml-embedded"),
		kfake.BrokerConfigs(map[string]string{"log.retention.ms": retention}),
	}
	if !opts.DisableAutoCreateTopics {
		kopts = append(kopts, kfake.AllowAutoTopicCreation())
	}
	if opts.DataDir != "" {
		kopts = append(kopts, kfake.DataDir(opts.DataDir))
		if opts.SyncWrites {
			kopts = append(kopts, kfake.SyncWrites())
		}
	}
	cluster, err := kfake.NewCluster(kopts...)
	if err != nil {
		if bound != nil && opts.DataDir != "" {
			// The port was bound, so reading the persisted state failed.
			return nil, fmt.Errorf("embedded broker: data directory %s: %w", opts.DataDir, err)
		}
		return nil, fmt.Errorf("embedded broker: listen on %s: %w", listen, err)
	}

	declineClientTelemetry(cluster)

	b := &Broker{
		cluster:   cluster,
		addr:      bound.String(),
		advertise: advertise,
		logger:    logger,
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	if opts.DataDir != "" {
		b.dataDir = opts.DataDir
		if err := b.recoverAfterUncleanStop(ctx, opts.DataDir); err != nil {
			cluster.Close()
			return nil, fmt.Errorf("embedded broker: data directory %s: %w", opts.DataDir, err)
		}
	}
	interval := opts.MaintenanceInterval
	if interval == 0 {
		interval = DefaultMaintenanceInterval
	}
	go b.run(ctx, interval)
	return b, nil
}

// run performs periodic maintenance until the broker stops, and closes the
// broker when ctx is done.
func (b *Broker) run(ctx context.Context, interval time.Duration) {
	defer close(b.done)
	var tick <-chan time.Time
	if interval > 0 {
		t := time.NewTicker(interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			go b.Close() //nolint:errcheck // Close waits for run to return
			<-b.stop
			return
		case <-b.stop:
			return
		case <-tick:
			b.Maintain()
		}
	}
}

// Addr returns the address the broker is bound to, for example
// "127.0.0.1:9092" or "[::]:9092".
func (b *Broker) Addr() string { return b.addr }

// BootstrapServers returns the address clients should bootstrap from (the
// advertised address), in bootstrap.servers form.
func (b *Broker) BootstrapServers() string { return b.advertise }

// Cluster returns the underlying kfake cluster, for tests and tools that
// need its control hooks (group info, topic creation, fault injection).
func (b *Broker) Cluster() *kfake.Cluster { return b.cluster }

// Maintain compacts topics with cleanup.policy=compact and applies
// retention.ms / retention.bytes now. It runs on the broker's own loop, so
// it is serialized with client requests.
func (b *Broker) Maintain() {
	b.cluster.Compact()
	b.cluster.ApplyRetention()
}

// Close stops the broker: it stops accepting connections, persists state
// (when DataDir is set) and returns once done. Close is idempotent.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		close(b.stop)
		<-b.done
		b.cluster.Close()
		if b.dataDir != "" {
			// The state is saved: the next Start needs no recovery.
			if err := os.Remove(filepath.Join(b.dataDir, runningFile)); err != nil && !os.IsNotExist(err) {
				b.logger.Warn("embedded broker: removing the in-use marker", "error", err)
			}
		}
	})
	return nil
}

// Done returns a channel closed once the broker has begun shutting down,
// by Close or because Start's ctx is done.
func (b *Broker) Done() <-chan struct{} { return b.stop }

// listenNetwork keeps an IPv4 listen address IPv4: Go binds "0.0.0.0" as a
// dual-stack "[::]" socket otherwise, which would surprise a user who asked
// for IPv4.
func listenNetwork(network, addr string) string {
	host, _, _ := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); ip != nil && ip.To4() != nil && network == "tcp" {
		return "tcp4"
	}
	return network
}

// advertisedAddr turns a bound address into one clients can dial: a
// wildcard host becomes loopback.
func advertisedAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// advertisedListener reports the advertised address as its own, because
// kfake puts the listener's address into metadata responses.
type advertisedListener struct {
	net.Listener
	addr net.Addr
}

func (l *advertisedListener) Addr() net.Addr { return l.addr }

type stringAddr string

func (a stringAddr) Network() string { return "tcp" }
func (a stringAddr) String() string  { return string(a) }

func advertisedNetAddr(s string) net.Addr { return stringAddr(s) }

// kfakeLogger forwards kfake's messages to slog. kfake's info level
// describes individual requests and group joins, so it maps to debug.
type kfakeLogger struct{ l *slog.Logger }

func (k kfakeLogger) Logf(level kfake.LogLevel, format string, args ...any) {
	var sl slog.Level
	switch level {
	case kfake.LogLevelError:
		sl = slog.LevelError
	case kfake.LogLevelWarn:
		sl = slog.LevelWarn
	default:
		sl = slog.LevelDebug
	}
	if !k.l.Enabled(context.Background(), sl) {
		return
	}
	k.l.Log(context.Background(), sl, fmt.Sprintf(format, args...), "component", "broker")
}

// telemetryPushInterval is the push interval the embedded broker gives
// clients that ask for telemetry subscriptions: Kafka's default
// (interval.ms of a client metrics resource), so a client asks again only
// every five minutes.
const telemetryPushInterval = 5 * time.Minute

// declineClientTelemetry makes the broker answer KIP-714
// GetTelemetrySubscriptions with no requested metrics, so clients never push
// telemetry. The embedded broker would discard it anyway, and an Apache Kafka
// broker without a client telemetry plugin does not take any either. Asked
// for metrics, a franz-go client (ksml's own) compresses every push, and the
// terminating push each client sends when it closes, with a fresh lz4 writer
// whose 4 MB blocks are 8 MB of garbage per push: about 4 MB of the peak
// RSS of `ksml run` on the seed's CQRS pipeline (docs/performance.md,
// Memory).
func declineClientTelemetry(cluster *kfake.Cluster) {
	cluster.ControlKey(int16(kmsg.GetTelemetrySubscriptions), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		cluster.KeepControl()
		req := kreq.(*kmsg.GetTelemetrySubscriptionsRequest)
		resp := req.ResponseKind().(*kmsg.GetTelemetrySubscriptionsResponse)
		resp.Version = req.Version
		resp.ClientInstanceID = req.ClientInstanceID
		if resp.ClientInstanceID == [16]byte{} {
			// KIP-714: the broker assigns an id to a client without one.
			_, _ = rand.Read(resp.ClientInstanceID[:])
		}
		resp.PushIntervalMillis = int32(telemetryPushInterval.Milliseconds())
		resp.TelemetryMaxBytes = 1 << 20
		// No RequestedMetrics: KIP-714's "no metrics wanted".
		return resp, nil, true
	})
}
