package conformance

import (
	"fmt"
	"math/rand"
)

// Generate makes a random scenario of the family from rng: a few keys,
// out-of-order and late timestamps, tombstones, null keys and values, and
// random parameters within what both sides accept.
func Generate(rng *rand.Rand, family string, name string) *Scenario {
	s := &Scenario{Name: name, Family: family}
	p := &s.Params
	pick := func(xs ...string) string { return xs[rng.Intn(len(xs))] }
	topics := []string{"a"}
	value := func(string) *string { return strp(fmt.Sprintf("%c%d", 'a'+rng.Intn(3), rng.Intn(10))) }
	nullValues, nullKeys := 0.1, 0.05
	switch family {
	case "aggregate", "cogroup":
		if family == "aggregate" {
			p.Source = pick("stream", "stream", "table")
			p.Group = pick("key", "value")
			p.Agg = pick("count", "reduce", "aggregate")
		}
		p.Window = "none"
		if p.Source != "table" {
			p.Window = pick("none", "tumbling", "hopping", "sliding", "session")
		}
		p.Size = 5 + rng.Int63n(25)
		p.Grace = rng.Int63n(20)
		switch p.Window {
		case "hopping":
			p.Advance = 1 + rng.Int63n(p.Size)
		case "session":
			p.Gap, p.Size = 1+rng.Int63n(15), 0
		case "none":
			p.Size, p.Grace = 0, 0
		}
		if p.Window != "none" {
			p.Suppress = pick("none", "none", "untilWindowCloses", "untilTimeLimit")
		} else {
			p.Suppress = pick("none", "none", "untilTimeLimit")
		}
		if p.Suppress == "untilTimeLimit" {
			p.Limit = rng.Int63n(30)
			if rng.Intn(3) == 0 {
				p.MaxRecords = 1 + rng.Int63n(3)
			}
		}
	case "join":
		p.Left = pick("stream", "stream", "table")
		p.Right = "table"
		if p.Left == "stream" {
			p.Right = pick("stream", "stream", "table", "globalTable")
		}
		if p.Left == "stream" && p.Right != "stream" {
			p.Type = pick("inner", "left")
		} else {
			p.Type = pick("inner", "left", "outer")
		}
		if p.Right == "stream" {
			p.Diff = rng.Int63n(20)
			p.Grace = rng.Int63n(20)
		}
		topics = []string{"a", "b"}
	case "fkjoin":
		p.Type = pick("inner", "left")
		topics = []string{"a", "b"}
		value = func(topic string) *string {
			if topic == "b" {
				return strp(fmt.Sprintf("r%d", rng.Intn(10)))
			}
			if rng.Intn(8) == 0 {
				return strp(fmt.Sprintf("x%d", rng.Intn(10))) // no foreign key
			}
			return strp(fmt.Sprintf("f%d:%d", rng.Intn(3), rng.Intn(10)))
		}
	case "repartition":
		p.Rekey = pick("key", "value", "value")
		p.Repartition = rng.Intn(2) == 0
		if p.Repartition {
			p.Partitions = rng.Intn(4) // 0: not given
			p.Partitioner = rng.Intn(2) == 0
		}
		p.Then = pick("none", "count", "aggregate", "join")
		if p.Then == "join" {
			p.Type = pick("inner", "left")
			topics = []string{"a", "b"}
			value = func(topic string) *string {
				if topic == "b" {
					return strp(fmt.Sprintf("r%d", rng.Intn(10)))
				}
				return strp(fmt.Sprintf("%c%d", 'a'+rng.Intn(3), rng.Intn(10)))
			}
		}
	case "totable":
	}
	switch family {
	case "aggregate", "cogroup", "totable", "repartition":
		// Record caches: forwarded at each commit (after every record in
		// both test drivers), latest value per key.
		p.Caching = rng.Intn(4) == 0
		// Session windows with caching on do not agree yet: Kafka Streams'
		// caching session store keeps finding sessions in its record cache
		// after its retention dropped them (docs/stateful.md).
		if p.Window == "session" {
			p.Caching = false
		}
	}
	n := 1 + rng.Intn(20)
	var now int64 = rng.Int63n(10)
	for i := 0; i < n; i++ {
		r := Record{Topic: topics[rng.Intn(len(topics))]}
		if rng.Float64() >= nullKeys {
			if family == "fkjoin" && r.Topic == "b" {
				r.Key = strp(fmt.Sprintf("f%d", rng.Intn(3)))
			} else if family == "repartition" && r.Topic == "b" && p.Rekey == "value" {
				r.Key = strp(fmt.Sprintf("%c", 'a'+rng.Intn(3))) // the new keys of a
			} else if family == "repartition" && rng.Intn(3) == 0 {
				r.Key = strp(fmt.Sprintf("key%d", rng.Intn(3))) // another length for the partitioner
			} else {
				r.Key = strp(fmt.Sprintf("k%d", rng.Intn(3)))
			}
		}
		if rng.Float64() >= nullValues {
			r.Value = value(r.Topic)
		}
		switch rng.Intn(6) {
		case 0: // out of order, possibly late
			r.TS = now - rng.Int63n(40)
			if r.TS < 0 {
				r.TS = 0
			}
		case 1: // same time
			r.TS = now
		default:
			now += rng.Int63n(15)
			r.TS = now
		}
		s.Records = append(s.Records, r)
	}
	return s
}

func strp(s string) *string { return &s }

// Shrink makes a failing scenario smaller while fails still reports it
// failing: it drops chunks of records, halving the chunk size down to
// single records, and returns the smallest failing scenario found.
func Shrink(s *Scenario, fails func(*Scenario) bool) *Scenario {
	cur := *s
	for chunk := len(cur.Records) / 2; chunk >= 1; chunk /= 2 {
		for i := 0; i+chunk <= len(cur.Records); {
			cand := cur
			cand.Records = append(append([]Record{}, cur.Records[:i]...), cur.Records[i+chunk:]...)
			if len(cand.Records) > 0 && fails(&cand) {
				cur = cand
				continue
			}
			i += chunk
		}
	}
	return &cur
}
