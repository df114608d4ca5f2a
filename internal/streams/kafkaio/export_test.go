package kafkaio

import "time"

// WithAbortTimeout returns opts with the bound of one attempt to abort a
// transaction that cannot commit set to d (see Options.abortTimeout).
func WithAbortTimeout(opts Options, d time.Duration) Options {
	opts.abortTimeout = d
	return opts
}
