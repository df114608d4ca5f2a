package streams

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// The state manager of a task, as Kafka Streams' ProcessorStateManager: it
// knows the changelog partition of every logged store and, for stores kept
// on disk, the changelog offset up to which the store's files hold
// everything. That offset lives in a ".checkpoint" file in the task's
// directory, written at commit and at a clean close, so a restart restores
// only the changelog's tail. Stores in memory have nothing to keep and are
// restored in full.
//
// The file is Kafka Streams' text layout: a version line (0), a count line,
// then one "topic partition offset" line per changelog partition, where the
// offset is the next changelog offset to restore from.

// CheckpointFile is the name of a task's checkpoint file.
const CheckpointFile = ".checkpoint"

// PersistentBuilder is implemented by builders of stores that may live on
// disk: TaskDir is the directory holding a task's stores of the builder,
// "" when they are kept in memory.
type PersistentBuilder interface {
	TaskDir(task TaskID) string
}

// ChangelogOffsets is implemented by record collectors that know the
// offsets their records were written at: LastOffset returns the offset of
// the last acknowledged record sent to a partition. The state manager
// checkpoints it after a flush.
type ChangelogOffsets interface {
	LastOffset(topic string, partition int32) (int64, bool)
}

// storeState is what the state manager knows of one logged store.
type storeState struct {
	store     string
	topic     string
	partition int32
	taskDir   string // "" for stores in memory
	// offset is the next changelog offset the store does not hold yet
	// (restore starts there); -1 when unknown (restore from the start).
	offset int64
}

type stateManager struct {
	stores []*storeState
	// written is what the checkpoint files hold, to skip rewriting them
	// when nothing changed.
	written map[string]string
}

// initState reads the checkpoint files of the task's persistent logged
// stores. Called by NewTask after the stores were built.
func (t *Task) initState() error {
	t.state.written = map[string]string{}
	for _, name := range t.sub.Stores {
		b := t.topo.stores[name]
		if !b.Logging() {
			continue
		}
		st := &storeState{store: name, topic: ChangelogTopic(t.topo.ApplicationID, name), partition: t.id.Partition, offset: -1}
		if pb, ok := b.(PersistentBuilder); ok {
			st.taskDir = pb.TaskDir(t.id)
		}
		t.state.stores = append(t.state.stores, st)
	}
	byDir := map[string]map[string]int64{}
	for _, st := range t.state.stores {
		if st.taskDir == "" {
			continue
		}
		offsets, ok := byDir[st.taskDir]
		if !ok {
			var err error
			if offsets, err = ReadCheckpoint(filepath.Join(st.taskDir, CheckpointFile)); err != nil {
				return err
			}
			byDir[st.taskDir] = offsets
		}
		if off, ok := offsets[checkpointKey(st.topic, st.partition)]; ok {
			st.offset = off
		}
	}
	return nil
}

func checkpointKey(topic string, partition int32) string {
	return topic + " " + strconv.Itoa(int(partition))
}

// ReadCheckpoint reads a checkpoint file into "topic partition" -> offset.
// A missing file is an empty checkpoint; a file that cannot be parsed is an
// error naming it (delete it to restore in full).
func ReadCheckpoint(path string) (map[string]int64, error) {
	out := map[string]int64{}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading checkpoint: %w", err)
	}
	defer f.Close()
	bad := func(what string) error {
		return fmt.Errorf("checkpoint file %s is corrupt (%s); delete it to restore the task's stores in full", path, what)
	}
	sc := bufio.NewScanner(f)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading checkpoint %s: %w", path, err)
	}
	if len(lines) < 2 || lines[0] != "0" {
		return nil, bad("unknown version")
	}
	n, err := strconv.Atoi(lines[1])
	if err != nil || n != len(lines)-2 {
		return nil, bad("entry count")
	}
	for _, l := range lines[2:] {
		fields := strings.Fields(l)
		if len(fields) != 3 {
			return nil, bad("entry " + strconv.Quote(l))
		}
		p, err1 := strconv.ParseInt(fields[1], 10, 32)
		off, err2 := strconv.ParseInt(fields[2], 10, 64)
		if err1 != nil || err2 != nil || off < 0 {
			return nil, bad("entry " + strconv.Quote(l))
		}
		out[checkpointKey(fields[0], int32(p))] = off
	}
	return out, nil
}

// writeCheckpoint replaces path atomically (write, sync, rename).
func writeCheckpoint(path string, offsets map[string]int64) (string, error) {
	content := checkpointContent(offsets)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	if _, err := f.WriteString(content); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return content, os.Rename(tmp, path)
}

// ChangelogPartition names the changelog partition a task's store restores
// from: partition p of the store's changelog topic belongs to the task of
// partition p. From is the offset to restore from: the checkpointed offset
// of a store on disk, or 0.
type ChangelogPartition struct {
	Store     string
	Topic     string
	Partition int32
	From      int64
}

// Changelogs lists the changelog partitions of the task's logged stores.
// The I/O layer reads each from From to its end and feeds the records to
// Restore before the task processes anything, then reports the end with
// Restored.
func (t *Task) Changelogs() []ChangelogPartition {
	out := make([]ChangelogPartition, 0, len(t.state.stores))
	for _, st := range t.state.stores {
		out = append(out, ChangelogPartition{Store: st.store, Topic: st.topic, Partition: st.partition, From: max(st.offset, 0)})
	}
	return out
}

// Restored records that store holds its changelog up to offset next
// (exclusive), once its restore finished.
func (t *Task) Restored(store string, next int64) {
	for _, st := range t.state.stores {
		if st.store == store {
			st.offset = next
		}
	}
}

// Checkpoint writes the checkpoint files of the task's persistent logged
// stores: for each, the offset after the last changelog record the
// collector acknowledged, or the restored offset when the task wrote none.
// Call it after Flush succeeded (at commit under at-least-once, and at a
// clean close), never after a failure: the stores' files must hold
// everything up to the offsets written. A file is rewritten only when its
// offsets changed. An error leaves the previous file in place.
func (t *Task) Checkpoint() error {
	acked, _ := t.collector.(ChangelogOffsets)
	byDir := map[string]map[string]int64{}
	for _, st := range t.state.stores {
		if acked != nil {
			if off, ok := acked.LastOffset(st.topic, st.partition); ok && off+1 > st.offset {
				st.offset = off + 1
			}
		}
		if st.taskDir == "" || st.offset < 0 {
			continue
		}
		if byDir[st.taskDir] == nil {
			byDir[st.taskDir] = map[string]int64{}
		}
		byDir[st.taskDir][checkpointKey(st.topic, st.partition)] = st.offset
	}
	var errs []error
	for dir, offsets := range byDir {
		path := filepath.Join(dir, CheckpointFile)
		if prev, ok := t.state.written[path]; ok && prev == checkpointContent(offsets) {
			continue
		}
		content, err := writeCheckpoint(path, offsets)
		if err != nil {
			errs = append(errs, fmt.Errorf("writing checkpoint of task %s: %w", t.id, err))
			continue
		}
		t.state.written[path] = content
	}
	return errors.Join(errs...)
}

func checkpointContent(offsets map[string]int64) string {
	keys := make([]string, 0, len(offsets))
	for k := range offsets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "0\n%d\n", len(keys))
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %d\n", k, offsets[k])
	}
	return b.String()
}

// DeleteCheckpoint removes the task's checkpoint files. Under exactly-once
// a task does so once its stores are restored: from then on its files may
// hold writes of transactions that will abort, so after a crash there must
// be no checkpoint, and the next start wipes and restores in full (Kafka
// Streams' rule). The clean close writes the checkpoint again.
func (t *Task) DeleteCheckpoint() error {
	var errs []error
	seen := map[string]bool{}
	for _, st := range t.state.stores {
		if st.taskDir == "" || seen[st.taskDir] {
			continue
		}
		seen[st.taskDir] = true
		path := filepath.Join(st.taskDir, CheckpointFile)
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("deleting checkpoint of task %s: %w", t.id, err))
		}
		delete(t.state.written, path)
	}
	return errors.Join(errs...)
}

// WipeUncheckpointedState removes, before a task is created under
// exactly-once, the on-disk stores of sub's logged stores that have no
// checkpointed offset: without one their files may hold writes of aborted
// transactions, and the restore that follows rebuilds them in full from
// the changelog, which holds committed writes only. Stores with a
// checkpoint (a clean close) keep their files and restore the tail. Stores
// without a changelog keep their files: they have nothing to be rebuilt
// from. It returns the wiped stores; a directory that cannot be removed is
// an error.
func WipeUncheckpointedState(topo *Topology, sub *SubTopology, id TaskID) ([]string, error) {
	var wiped []string
	checkpoints := map[string]map[string]int64{}
	for _, name := range sub.Stores {
		b := topo.stores[name]
		pb, ok := b.(PersistentBuilder)
		if !ok || !b.Logging() {
			continue
		}
		dir := pb.TaskDir(id)
		if dir == "" {
			continue
		}
		offsets, ok := checkpoints[dir]
		if !ok {
			var err error
			if offsets, err = ReadCheckpoint(filepath.Join(dir, CheckpointFile)); err != nil {
				offsets = map[string]int64{} // unreadable: no valid checkpoint
			}
			checkpoints[dir] = offsets
		}
		if _, ok := offsets[checkpointKey(ChangelogTopic(topo.ApplicationID, name), id.Partition)]; ok {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			return wiped, fmt.Errorf("wiping store %q of task %s before restoring it: %w", name, id, err)
		}
		wiped = append(wiped, name)
	}
	return wiped, nil
}
