// Package residency hands back to the kernel the pages of the process's
// program files (the ksml executable and the shared libraries it loaded,
// libpython among them) that start-up made resident.
//
// Why it exists: before main runs, the Go runtime runs the initializer of
// every linked package, a few hundred of them, spread over the whole
// executable. The kernel maps each touched page of a file together with its
// neighbours (fault-around, 64 KiB by default), so start-up leaves about
// 20 MB of the executable's code and read-only data mapped into the
// process although a running pipeline executes a small part of it. Those
// pages count in the process's resident set until the process exits.
//
// Release unmaps the read-only pages of those files from this process with
// madvise(MADV_DONTNEED). The pages stay in the page cache, so code that
// runs again is mapped again by a minor fault, without reading the disk; the
// rest can be dropped by the kernel like any page cache no one maps.
// Writable segments (data, bss, RELRO) are never touched: their pages may
// hold the process's own writes.
package residency

import (
	"errors"
	"log/slog"
	"time"
)

// Report says what Release did.
type Report struct {
	// Files is the number of program files (executable and shared
	// libraries) whose read-only pages were released.
	Files int
	// Bytes is the size of the address ranges released.
	Bytes int64
	// ResidentBefore and ResidentAfter are the process's resident set,
	// in bytes, just before and just after.
	ResidentBefore, ResidentAfter int64
}

// ErrUnsupported is returned on systems where Release does nothing.
var ErrUnsupported = errors.New("releasing start-up pages is supported on Linux only")

// ReleaseLogged calls Release, for a long-running command once its start-up
// is over, and logs the outcome at debug level: a failure changes nothing
// else, so it is not the caller's concern.
func ReleaseLogged(log *slog.Logger) {
	start := time.Now()
	rep, err := Release()
	switch {
	case errors.Is(err, ErrUnsupported):
	case err != nil:
		log.Debug("could not release start-up pages", "error", err)
	default:
		log.Debug("released start-up pages", "files", rep.Files,
			"residentBeforeMB", rep.ResidentBefore>>20, "residentAfterMB", rep.ResidentAfter>>20, "took", time.Since(start))
	}
}
