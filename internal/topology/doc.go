// Package topology turns parsed definitions into a streams.Topology: one
// source per topic, one processor per operation, sinks, stores and
// repartition topics, named as upstream KSML names them
// (<namespace>_pipelines_<pipeline>_via_step<N>_<op>, sources after their
// topic, internal topics <application.id>-<name>-repartition).
//
// The builder knows neither Python nor serialization formats: user
// functions come from a FunctionCompiler and serdes from a SerdeProvider,
// so the same builder serves `ksml run`, `ksml test` and Go tests. The
// package also holds the implementations ksml uses: PythonFunctions
// compiles definition functions on the embedded CPython (package python),
// with Python access to the stores they declare, and NotationSerdes serves
// serdes from a notation registry. Everything that can
// be checked before records flow is checked here; an operation that is not
// implemented yet fails the build with a "not supported yet" error naming
// its position, never at run time.
//
// The stores a build registers form its StoreCatalog (Result.Stores),
// which the build hands to the FunctionCompiler with every Compile, so
// functions reach their stores' serdes; no store state outlives its build.
package topology
