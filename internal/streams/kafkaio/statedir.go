package kafkaio

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"ksml/internal/store"
	"ksml/internal/streams"
)

// wipeLoggedState removes the on-disk contents of a task's persistent
// stores that have a changelog, before the task opens them, under
// exactly_once_v2. Such a store may hold writes of a transaction that was
// aborted (a failed record, a crash, a rebalance); the changelog holds only
// committed ones, and the restore that follows replays it from its start,
// so the store comes back exactly as committed. Kafka Streams wipes a task's
// state for the same reason when it has no valid checkpoint under EOS.
// Stores without a changelog keep their files: they have nothing to be
// rebuilt from. A directory that cannot be removed is an error.
func wipeLoggedState(topo *streams.Topology, sub *streams.SubTopology, id streams.TaskID) error {
	mine := make(map[string]bool, len(sub.Stores))
	for _, name := range sub.Stores {
		mine[name] = true
	}
	for _, b := range topo.StoreBuilders() {
		if !mine[b.Name()] || !b.Logging() {
			continue
		}
		dir := persistentDir(b, id)
		if dir == "" {
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("wiping store %q of task %s before restoring it: %w", b.Name(), id, err)
		}
	}
	return nil
}

// persistentDir is where a builder's store of a task lives on disk, "" for
// stores kept in memory.
func persistentDir(b streams.StoreBuilder, id streams.TaskID) string {
	var persistent bool
	var base string
	switch x := b.(type) {
	case *store.KeyValueBuilder:
		persistent, base = x.IsPersistent, x.Dir
	case *store.WindowBuilder:
		persistent, base = x.IsPersistent, x.Dir
	case *store.SessionBuilder:
		persistent, base = x.IsPersistent, x.Dir
	case *store.VersionedBuilder:
		persistent, base = x.IsPersistent, x.Dir
	}
	if !persistent || base == "" {
		return ""
	}
	return store.PersistentDir(base, id, b.Name())
}

// processIDFile holds an instance's process id in its state directory.
const processIDFile = "ksml-process-id"

// ProcessID returns the process id kept in stateDir (the application's
// <storageDirectory>/<application.id>), creating the directory and a random
// id on first use. Kafka Streams keeps its process id in the state directory
// for the same reason: a restarted instance is the same instance, so its
// transactional producer fences the one that crashed. Two instances must
// not share a state directory. An unreadable or unwritable file is an error.
func ProcessID(stateDir string) (string, error) {
	path := filepath.Join(stateDir, processIDFile)
	if b, err := os.ReadFile(path); err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("reading the process id: %w", err)
	}
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	id := hex.EncodeToString(raw[:])
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return "", fmt.Errorf("creating the state directory for the process id: %w", err)
	}
	if err := os.WriteFile(path, []byte(id+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("writing the process id: %w", err)
	}
	return id, nil
}
