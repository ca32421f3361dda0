// Package rollout is the TAM's rollout engine (issue 15): it resolves a
// group into devices frozen into waves, decides which envelopes of a
// release a device may receive in a TEEP session, records what the device
// answered, starts the next wave when a wave's success threshold is
// reached and halts the rollout when its error threshold is, and lets an
// operator pause, resume and cancel.
//
// The engine keeps nothing between calls: all it knows is in the store,
// and every change it makes is one of the store's compare-and-sets, so
// that TAM replicas sharing one database run one rollout together without
// sending a release twice to a device or starting a wave twice.
//
// Trust: the engine trusts the store and its caller's appraisal (the TEEP
// endpoint passes the device's attestation status and what it runs, from
// its verified messages); it offers a release only to a device whose
// attestation is affirming.
package rollout
