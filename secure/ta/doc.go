// Package ta installs Trusted Applications: TA identities (component IDs
// ["TA", author, name], and the personalization data under them), the TA
// record that secure storage keeps, and TA install sets, which run a TA
// manifest twice (a plan before any payload arrives, then the apply on the
// payloads in secure memory) and change the store, all the set's changes
// at once. Unlike firmware a TA needs no reboot.
//
// Trust: it trusts the Store it is given (the secure storage) and the
// authorizer (the device's key policy), and takes envelopes only once they
// are verified. Everything a TA manifest fetches is checked against its
// digest, decrypted with the device's keys and run through the manifest's
// conditions before it becomes a change to the store; an author's key
// touches only its own TAs.
package ta
