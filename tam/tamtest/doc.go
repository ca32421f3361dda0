// Package tamtest is the test kit of the TAM's TEEP side: a TAM (its real
// TEEP endpoint over HTTP, the SQLite store, the rollout engine, a fixed
// clock and seeded randomness) and light in-process devices (a real
// secure/teep Agent with its own key, an in-memory TA store that
// authenticates what it installs, firmware that applies at a reboot, and
// evidence from one shared emulated device) that run whole TEEP sessions
// against it. Tests of the rollout engine use it, and a fleet simulation
// may build on the same parts.
//
// Trust: it is for tests only; its devices share one rig's attestation
// keys, so they are as trustworthy as that rig.
package tamtest
