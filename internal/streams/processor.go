package streams

import "fmt"

// Processor handles the records of one graph node. Init is called once per
// task before the first record; Process for every record that reaches the
// node; Close when the task closes. A returned error aborts the record.
type Processor interface {
	Init(ctx *ProcessorContext) error
	Process(ctx *ProcessorContext, rec Record) error
	Close() error
}

// ProcessorFunc adapts a plain function to a stateless Processor.
type ProcessorFunc func(ctx *ProcessorContext, rec Record) error

// Init does nothing.
func (ProcessorFunc) Init(*ProcessorContext) error { return nil }

// Process calls f.
func (f ProcessorFunc) Process(ctx *ProcessorContext, rec Record) error { return f(ctx, rec) }

// Close does nothing.
func (ProcessorFunc) Close() error { return nil }

// PunctuationType says which clock drives a punctuator.
type PunctuationType int

// Punctuation types (Kafka Streams' names).
const (
	StreamTime PunctuationType = iota
	WallClockTime
)

// Punctuator is called when its schedule fires, with the time that fired it.
type Punctuator func(ctx *ProcessorContext, timestamp int64) error

// ProcessorContext is a node's view of its task: forwarding to children,
// the current record context, stores, stream time and punctuation. One
// context exists per node per task; it is only valid inside the task.
type ProcessorContext struct {
	task     *Task
	node     *Node
	proc     Processor
	children []*ProcessorContext
	attached map[any]any
}

// Attachment returns what SetAttachment stored under key for this node in
// this task, or nil. Callers use it to cache per-task state (such as typed
// store views) that must go away with the task.
func (c *ProcessorContext) Attachment(key any) any { return c.attached[key] }

// SetAttachment stores v under key for this node in this task.
func (c *ProcessorContext) SetAttachment(key, v any) {
	if c.attached == nil {
		c.attached = map[any]any{}
	}
	c.attached[key] = v
}

// NodeName returns the name of the node.
func (c *ProcessorContext) NodeName() string { return c.node.Name }

// TaskID returns the id of the owning task.
func (c *ProcessorContext) TaskID() TaskID { return c.task.id }

// ApplicationID returns the application id of the topology.
func (c *ProcessorContext) ApplicationID() string { return c.task.topo.ApplicationID }

// RecordContext returns the context of the record being processed. The
// timestamp and headers are those of the source record; a processor that
// rewrote them forwards a changed Record.
func (c *ProcessorContext) RecordContext() *RecordContext { return &c.task.rc }

// StreamTime returns the task's stream time: the highest record timestamp
// seen so far, or -1 before the first record.
func (c *ProcessorContext) StreamTime() int64 { return c.task.streamTime }

// Store returns a store connected to this node, or an error naming the
// store when it is not connected (a topology build bug or a typo).
func (c *ProcessorContext) Store(name string) (StateStore, error) {
	for _, s := range c.node.Stores {
		if s == name {
			if st, ok := c.task.stores[name]; ok {
				return st, nil
			}
		}
	}
	return nil, fmt.Errorf("store %q is not connected to processor %q", name, c.node.Name)
}

// NumChildren returns how many children the node has.
func (c *ProcessorContext) NumChildren() int { return len(c.children) }

// Forward passes rec to every child, depth first, in the order the children
// were added. The first child error stops forwarding and is returned.
func (c *ProcessorContext) Forward(rec Record) error {
	for _, child := range c.children {
		if err := child.process(rec); err != nil {
			return err
		}
	}
	return nil
}

// ForwardTo passes rec to the child with index i only (branching).
func (c *ProcessorContext) ForwardTo(i int, rec Record) error {
	if i < 0 || i >= len(c.children) {
		return fmt.Errorf("node %q has no child %d", c.node.Name, i)
	}
	return c.children[i].process(rec)
}

// Schedule registers a punctuator that fires every interval (ms) of the
// given clock. It returns a function that cancels the schedule.
func (c *ProcessorContext) Schedule(intervalMs int64, typ PunctuationType, fn Punctuator) (cancel func(), err error) {
	if intervalMs <= 0 {
		return nil, fmt.Errorf("punctuation interval must be positive, got %d", intervalMs)
	}
	p := &punctuator{ctx: c, interval: intervalMs, typ: typ, fn: fn, next: -1}
	c.task.punctuators = append(c.task.punctuators, p)
	return func() { p.cancelled = true }, nil
}

func (c *ProcessorContext) process(rec Record) error {
	stats := &c.node.Stats
	start := stats.begin()
	err := c.proc.Process(c, rec)
	stats.end(start)
	if err != nil {
		if _, ok := err.(*NodeError); ok {
			return err // a node downstream failed and counted it
		}
		stats.errors.Add(1)
		return &NodeError{Node: c.node.Name, Err: err}
	}
	return nil
}

type punctuator struct {
	ctx       *ProcessorContext
	interval  int64
	typ       PunctuationType
	fn        Punctuator
	next      int64
	cancelled bool
}
