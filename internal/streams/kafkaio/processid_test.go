package kafkaio

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ksml-dev/ksml/internal/kafkaclient"
)

// TestProcessIDIsStable checks that the process id, and so the
// exactly_once_v2 transactional id, survives a restart from the same state
// directory and differs between state directories.
func TestProcessIDIsStable(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "app")
	first, err := ProcessID(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ProcessID(dir)
	if err != nil {
		t.Fatal(err)
	}
	if first == "" || first != again {
		t.Fatalf("process id %q, then %q: want one stable id", first, again)
	}
	other, err := ProcessID(filepath.Join(t.TempDir(), "app"))
	if err != nil {
		t.Fatal(err)
	}
	if other == first {
		t.Fatalf("two state directories share process id %q", first)
	}
	if got, want := transactionalID("orders", first), "orders-"+first; got != want {
		t.Fatalf("transactional id %q, want %q", got, want)
	}
	if a, b := transactionalID("orders", ""), transactionalID("orders", ""); a == b {
		t.Fatalf("without a process id two transactional ids are both %q", a)
	}
	// axual.transactional.id.pattern names the producer on the cluster.
	cfg, err := kafkaclient.FromProperties(map[string]string{"bootstrap.servers": "b:1", "application.id": "orders",
		"processing.guarantee":           "exactly_once_v2",
		"axual.transactional.id.pattern": "{tenant}-{instance}-{environment}-{transactional.id}",
		"tenant":                         "acme", "instance": "dta", "environment": "dev"}, kafkaclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resolvedTransactionalID(cfg, first), "acme-dta-dev-orders-"+first; got != want {
		t.Fatalf("resolved transactional id %q, want %q", got, want)
	}
	plain, err := kafkaclient.FromProperties(map[string]string{"bootstrap.servers": "b:1", "application.id": "orders"}, kafkaclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resolvedTransactionalID(plain, first), "orders-"+first; got != want {
		t.Fatalf("transactional id without a pattern %q, want %q", got, want)
	}
	// A state directory that cannot be written is an error, not a fresh id.
	ro := t.TempDir()
	if err := os.Chmod(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(ro, 0o700)
	if os.Geteuid() != 0 {
		if _, err := ProcessID(filepath.Join(ro, "app")); err == nil {
			t.Fatal("no error for an unwritable state directory")
		}
	}
}

// TestStateDirLock: a state directory is held by one instance at a time
// (flock: also between two opens in one process); released, it can be
// taken again.
func TestStateDirLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "app")
	release, err := LockStateDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockStateDir(dir); !errors.Is(err, ErrStateDirInUse) {
		t.Fatalf("second lock: %v, want ErrStateDirInUse", err)
	}
	release()
	again, err := LockStateDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again()
}
