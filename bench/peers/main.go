// Command peers measures ksml side by side with its peers on one real
// Apache Kafka broker (started with scripts/kafka): Kafka Streams (default
// and tuned settings), a raw franz-go consume+produce loop and, where
// installed, a Python stream library, on the same input records and the same
// workloads, in interleaved rounds. It prints one table and, last, a JSON
// object whose ratios map compares ksml with each peer (above 1 means ksml is
// better). It is test tooling: slow, needs Java 17 and Maven, not run in CI.
//
//	go run ./bench/peers [-json] [-scaling] [-records N] [-rounds R] [-only w1,w2] [-peers p1,p2]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

type config struct {
	records int
	rounds  int
	json    bool
	scaling bool
	only    map[string]bool
	peers   map[string]bool
}

func set(s string) map[string]bool {
	if s == "" {
		return nil
	}
	m := map[string]bool{}
	for _, x := range strings.Split(s, ",") {
		m[strings.TrimSpace(x)] = true
	}
	return m
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == rawWorkerArg {
		if err := rawWorker(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "raw worker:", err)
			os.Exit(1)
		}
		return
	}
	var cfg config
	var only, peers string
	flag.IntVar(&cfg.records, "records", 50000, "input records per workload")
	flag.IntVar(&cfg.rounds, "rounds", 2, "interleaved rounds; every metric is the median over rounds")
	flag.BoolVar(&cfg.json, "json", false, "print only the JSON object")
	flag.BoolVar(&cfg.scaling, "scaling", false, "also run ksml and Kafka Streams (tuned) with 1 and 2 stream threads on a 2-partition copy of the input (passthrough, python_map, count)")
	flag.StringVar(&only, "only", "", "comma-separated workloads to run (default all)")
	flag.StringVar(&peers, "peers", "", "comma-separated systems to run (default all available)")
	flag.Parse()
	cfg.only, cfg.peers = set(only), set(peers)
	if cfg.records < 10 || cfg.rounds < 1 {
		fmt.Fprintln(os.Stderr, "peers: -records must be >= 10 and -rounds >= 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}
