// Package fleet is a fleet of light simulated devices in one process, for
// exercising a TAM's rollouts at scale: each device has its own TEEP Agent
// key (software, P-256) and the real secure/teep Agent, an in-memory TA
// store that authenticates what it installs and applies firmware at a
// simulated reboot, and runs real TEEP-over-HTTP sessions. Their evidence
// comes from one emulated device whose secure world they share (no TPM
// simulator per device). Failures are injected per device: an install
// that fails (the Agent answers Error) or evidence bound to a stale
// challenge (its appraisal fails).
//
// Trust: none; it is a simulator. Its devices are as trustworthy as the
// one emulated device whose evidence they share.
package fleet
