// Package store implements the state stores tasks own: key/value, window
// and session stores, in memory or persistent on Pebble (under
// <dir>/<task>/<store>); timestamped and versioned key/value stores;
// builders that create a fresh store per task; and typed views that apply
// the store's serdes so Python functions, queries and test assertions work
// with data-model values.
//
// Byte-level stores order keys by their serialized bytes, as Kafka Streams'
// stores do, so iteration order matches upstream. Window and session
// stores laid over a key/value store (the persistent ones) prefix keys with
// their length, so they iterate keys by length first. Stores are used by
// one task at a time and are not safe for concurrent use.
package store
