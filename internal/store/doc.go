// Package store implements the state stores tasks own: key/value stores in
// memory now (window and session stores and a Pebble-backed persistent
// variant fit the same streams interfaces), builders that create a fresh
// store per task, and typed views that apply the store's serdes so Python
// functions and test assertions work with data-model values.
//
// Byte-level stores order keys by their serialized bytes, as Kafka Streams'
// stores do, so iteration order matches upstream. Stores are used by one
// task at a time and are not safe for concurrent use.
package store
