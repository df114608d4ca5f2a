package workload

import (
	"fmt"
	"io"
	"os"
)

// installChunk is the size of the writes that install the binary: what
// extracting an image layer or a release archive writes at a time (Go's
// archive/tar through io.Copy).
const installChunk = 32 << 10

// InstallBinary copies the ksml binary at src to dst with installChunk
// writes, as users get an installed binary, so that both harnesses measure
// the memory of the binary users run.
//
// How the file got into the page cache decides how much of it a process
// maps: this kernel (6.x with large folios) maps a whole page-cache folio
// when any page of it is touched. The linker writes its output through a
// memory mapping, which leaves 2 MB folios, so a binary started right after
// `go build` has all 35 MB of its code and read-only data resident; the same
// file written by ordinary writes, or read back from disk after the page
// cache dropped it, has small folios. An installed binary (a container
// image, a release archive, a package) is of the second kind.
func InstallBinary(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("installing the binary: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return fmt.Errorf("installing the binary: %w", err)
	}
	// The wrappers hide os.File's ReadFrom and WriteTo, which would copy
	// with copy_file_range or sendfile instead of the ordinary writes an
	// extraction makes.
	if _, err := io.CopyBuffer(struct{ io.Writer }{out}, struct{ io.Reader }{in}, make([]byte, installChunk)); err != nil {
		out.Close()
		return fmt.Errorf("installing the binary: %w", err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("installing the binary: %w", err)
	}
	return nil
}
