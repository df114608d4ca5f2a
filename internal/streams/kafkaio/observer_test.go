package kafkaio

import (
	"reflect"
	"testing"
)

type perRecordObserver struct{ calls []string }

func (o *perRecordObserver) Consumed(topic string)               { o.calls = append(o.calls, topic) }
func (o *perRecordObserver) Produced(string)                     {}
func (o *perRecordObserver) Failed(kind ErrorKind, topic string) {}

type batchObserver struct {
	perRecordObserver
	batches []int
}

func (o *batchObserver) ConsumedN(topic string, n int) { o.batches = append(o.batches, n) }

// TestCountConsumed: a BatchObserver hears once per batch (never for an
// empty one), a plain Observer once per record, and no observer is fine.
func TestCountConsumed(t *testing.T) {
	t.Parallel()
	b := &batchObserver{}
	e := &Engine{observer: b}
	e.countConsumed("in", 3)
	e.countConsumed("in", 0)
	e.countConsumed("in", 1)
	if !reflect.DeepEqual(b.batches, []int{3, 1}) || len(b.calls) != 0 {
		t.Errorf("batch observer heard %v and %v, want [3 1] and no per-record calls", b.batches, b.calls)
	}
	p := &perRecordObserver{}
	e = &Engine{observer: p}
	e.countConsumed("in", 2)
	if !reflect.DeepEqual(p.calls, []string{"in", "in"}) {
		t.Errorf("per-record observer heard %v, want [in in]", p.calls)
	}
	(&Engine{}).countConsumed("in", 2)
}
