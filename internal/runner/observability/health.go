package observability

import (
	"net/http"
	"sync/atomic"
)

// ComponentState is the state of one runner (the pipelines runner or the
// producer runner), as the health endpoints see it.
type ComponentState int32

// The states, as upstream names them. NotApplicable means the component is
// not used (producers or pipelines disabled, or none defined).
const (
	NotApplicable ComponentState = iota
	Created
	Starting
	Started
	Stopping
	Stopped
	Failed
)

var componentStateNames = [...]string{"NOT_APPLICABLE", "CREATED", "STARTING", "STARTED", "STOPPING", "STOPPED", "FAILED"}

func (s ComponentState) String() string {
	if s >= 0 && int(s) < len(componentStateNames) {
		return componentStateNames[s]
	}
	return "UNKNOWN"
}

// StateSource reports the runners' states. Its methods are called from
// HTTP goroutines at any time and must not block.
type StateSource interface {
	StreamRunnerState() ComponentState
	ProducerState() ComponentState
}

// Lifecycle holds a runner's state and allows only upstream's transitions:
//
//	CREATED  -> STARTING, STARTED, FAILED
//	STARTING -> STARTED, STOPPING, STOPPED, FAILED
//	STARTED  -> STARTING, STOPPING, STOPPED, FAILED (STARTING on rebalance)
//	STOPPING -> STOPPED, FAILED
//	STOPPED and FAILED are final.
//
// It is safe for concurrent use. A nil *Lifecycle is NotApplicable.
type Lifecycle struct{ v atomic.Int32 }

// NewLifecycle returns a lifecycle in state Created.
func NewLifecycle() *Lifecycle {
	l := &Lifecycle{}
	l.v.Store(int32(Created))
	return l
}

var validNext = map[ComponentState][]ComponentState{
	Created:  {Starting, Started, Failed},
	Starting: {Started, Stopping, Stopped, Failed},
	Started:  {Starting, Stopping, Stopped, Failed},
	Stopping: {Stopped, Failed},
}

// State returns the current state.
func (l *Lifecycle) State() ComponentState {
	if l == nil {
		return NotApplicable
	}
	return ComponentState(l.v.Load())
}

// Transition moves to state to if that is a valid next state and reports
// whether it did; an invalid transition leaves the state unchanged.
func (l *Lifecycle) Transition(to ComponentState) bool {
	if l == nil {
		return false
	}
	for {
		from := ComponentState(l.v.Load())
		ok := false
		for _, n := range validNext[from] {
			if n == to {
				ok = true
			}
		}
		if !ok {
			return false
		}
		if l.v.CompareAndSwap(int32(from), int32(to)) {
			return true
		}
	}
}

// Runners is a StateSource over two lifecycles; a nil lifecycle is a
// component that is not used.
type Runners struct {
	Streams  *Lifecycle
	Producer *Lifecycle
}

// StreamRunnerState implements StateSource.
func (r Runners) StreamRunnerState() ComponentState { return r.Streams.State() }

// ProducerState implements StateSource.
func (r Runners) ProducerState() ComponentState { return r.Producer.State() }

// The health rules, as upstream's probes decide them. Each answers 204 when
// healthy and 500 otherwise; both components NotApplicable is a
// misconfiguration and answers 500.
var (
	producerReady = []ComponentState{NotApplicable, Started, Stopping, Stopped}
	streamsReady  = []ComponentState{NotApplicable, Started}
	startedStates = []ComponentState{NotApplicable, Starting, Started, Stopping, Stopped}
)

func in(s ComponentState, set []ComponentState) bool {
	for _, x := range set {
		if x == s {
			return true
		}
	}
	return false
}

// Live reports liveness: false when a component failed or the pipelines
// stopped (a stopped producer is fine: producers may finish).
func Live(src StateSource) bool {
	p, s, ok := states(src)
	return ok && p != Failed && s != Failed && s != Stopped
}

// Ready reports readiness: pipelines started, producers started or done.
func Ready(src StateSource) bool {
	p, s, ok := states(src)
	return ok && in(p, producerReady) && in(s, streamsReady)
}

// StartupDone reports whether startup finished: both components are past
// CREATED and not failed.
func StartupDone(src StateSource) bool {
	p, s, ok := states(src)
	return ok && in(p, startedStates) && in(s, startedStates)
}

func states(src StateSource) (producer, streams ComponentState, ok bool) {
	if src == nil {
		return 0, 0, false // not started yet
	}
	producer, streams = src.ProducerState(), src.StreamRunnerState()
	return producer, streams, !(producer == NotApplicable && streams == NotApplicable)
}

func healthHandler(src func() StateSource, check func(StateSource) bool) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if check(src()) {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	}
}
