// Package ipctest is the test kit of the ipc channel: an in-memory pipe
// between the two worlds, a Recorder of every byte that crosses it, and a
// fake secure world (Handler) that records every call it gets, so that a
// test can assert the exact sequence of operations a normal world made.
//
// Trust: none needed; it is for tests only and holds everything it sees.
// Production code never imports it.
package ipctest
