package main

import "github.com/ksml-dev/ksml/bench/events"

// event is one input record: the key is the entity id, the value a JSON
// object of ten fields (about 200 bytes) shaped like the seed's events.
type event struct {
	key   []byte
	value []byte
}

// makeEvents builds n deterministic events (see package events).
func makeEvents(n int) []event {
	evs := events.Make(n)
	out := make([]event, len(evs))
	for i, e := range evs {
		out[i] = event{key: e.Key, value: e.Value}
	}
	return out
}

// meanValueSize is the average value length in bytes.
func meanValueSize(evs []event) int {
	if len(evs) == 0 {
		return 0
	}
	total := 0
	for _, e := range evs {
		total += len(e.value)
	}
	return total / len(evs)
}
