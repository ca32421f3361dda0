// Package eventlog is the boot event log: the ordered measurements the
// bootloader extends into the TPM's measurement PCR (each component's
// manifest digest, then its image digest), its CBOR wire form and its
// replay to the PCR value the TPM should hold.
//
// Trust: it trusts nothing it decodes. A log is only a claim: it becomes
// evidence when its replay equals PCR values a TPM quote signed, which
// the attest package checks. The decoder is strict and bounded
// (limits.go).
package eventlog
