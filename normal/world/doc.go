// Package world assembles and runs the normal world: its end of the ipc
// channel is all it has of the device. Over it the agent fetches and
// streams updates; a control socket in the device directory takes the
// operator's requests (status, update); at power-on a health check
// decides a trial boot.
//
// Trust: it trusts nothing it fetches (the secure world checks every
// byte) and holds no key, flash or TPM. It imports only ipc/ and normal/
// of ours.
package world
