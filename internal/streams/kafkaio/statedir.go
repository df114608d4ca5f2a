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
	"syscall"
)

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

// lockFile is the file an instance holds locked while it uses its state
// directory.
const lockFile = "ksml.lock"

// ErrStateDirInUse is returned by LockStateDir when another process holds
// the state directory.
var ErrStateDirInUse = errors.New("another ksml instance uses this state directory")

// LockStateDir locks stateDir (creating it) for this process, as Kafka
// Streams locks its state directory: the process id kept there is this
// instance's identity (its transactional id, and its group.instance.id
// when derived), which two processes must not share. The lock is released
// by release or when the process ends, however it ends. It returns
// ErrStateDirInUse (wrapped) when another process holds the lock, and
// other errors when the directory or the lock file cannot be created.
func LockStateDir(stateDir string) (release func(), err error) {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the state directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(stateDir, lockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening the state directory's lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s)", ErrStateDirInUse, stateDir)
		}
		return nil, fmt.Errorf("locking the state directory: %w", err)
	}
	return func() { f.Close() }, nil
}
