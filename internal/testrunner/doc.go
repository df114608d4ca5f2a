// Package testrunner runs upstream KSML test-runner suites
// (ksml-test-spec.json) on the in-memory test driver: for every test it
// loads the definition into a fresh namespace, builds the topology with
// fresh stores, produces the test's messages (or generator output), and
// runs the Python assertions with the output records and stores.
//
// Every test is hermetic. A test ends as PASS, FAIL (an AssertionError in
// assertion code) or ERROR (anything else: a bad definition, a Python error
// in a pipeline, an unknown store). A malformed suite file yields a single
// ERROR for the suite, as upstream does. Nothing in here panics on bad
// input.
package testrunner
