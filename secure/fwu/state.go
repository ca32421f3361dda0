// Package fwu is the secure world's firmware update service, modelled on
// the PSA Firmware Update API: per-component states, one install set at a
// time, all or nothing, accept and reject for the whole set, cancel and
// clean, and a defined state after any restart. A TA manifest is
// installed by package ta; the service only carries its payloads and its
// install set through the same life.
//
// Every refusal and failure of an envelope is a RefusedError whose Outcome
// builds the SUIT report (reason codes included) that a status tracker
// reads.
//
// Trust: the service trusts the key policy and the bootloader it drives.
// Everything the normal world sends is checked: envelopes pass the
// policy's Verify (parse, authenticate, authorize) before anything is
// written, and processing uses the same policy as its authorizer, so a
// dependency manifest (trust domains) is admitted by the device's rules, chunks must
// arrive in order within the declared size, payloads are hashed as they
// arrive and the bootloader verifies the whole set again before it
// commits it. Nothing is installed before its digest matches.
package fwu

// State is a component's update state (PSA FWU 1.0 §3.2).
type State string

// The states of PSA FWU 1.0 §3.2 that the service reports.
const (
	Ready     State = "READY"     // no update in progress
	Writing   State = "WRITING"   // an image is being written
	Candidate State = "CANDIDATE" // the image is written and its digest matches
	Staged    State = "STAGED"    // installed as part of a set: applied at the next reboot
	Trial     State = "TRIAL"     // running the new image, not yet accepted
	Rejected  State = "REJECTED"  // the trial was rejected: the old image returns
	Failed    State = "FAILED"    // the update failed; start again
	Updated   State = "UPDATED"   // the new image was accepted
)
