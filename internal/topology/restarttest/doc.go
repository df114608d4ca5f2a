// Package restarttest holds end-to-end tests of stateful pipelines under
// `ksml run`: the built binary on an embedded broker, killed with SIGKILL
// and restarted, and instances of one group taking over each other's
// partitions. State must come back from the changelog topics, so counts
// continue instead of starting over. The package has no code of its own.
package restarttest
