//go:build !linux

package residency

// Release does nothing outside Linux and returns ErrUnsupported.
func Release() (Report, error) { return Report{}, ErrUnsupported }
