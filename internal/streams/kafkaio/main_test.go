package kafkaio_test

import (
	"os"
	"testing"

	"github.com/ksml-dev/ksml/internal/kafkatest"
)

// TestMain lets more tests run at once than go test's default: each has its
// own broker and spends its time waiting on it.
func TestMain(m *testing.M) {
	kafkatest.RaiseParallelism()
	os.Exit(m.Run())
}
