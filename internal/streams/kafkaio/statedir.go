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
