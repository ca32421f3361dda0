// Package fwutest is a test kit for the update service: an in-memory
// device (NOR flash, anti-rollback counters, PCR, a sealer and the secure
// storage's counter) whose parts are fakes that record what they were
// asked, assembled into a secure world as a real device's is, with
// development signers and release builders. The update service's tests run
// on it without the TPM simulator; integration through the simulator is
// the emulator's and cmd's tests' business. Production code never imports
// it.
//
// Trust: it trusts the packages it assembles (secure/world, secure/boot,
// secure/storage, secure/keys) and fakes only the hardware beneath them;
// its keys are generated per device and are for tests alone.
package fwutest
