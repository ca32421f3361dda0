package devicetest

import (
	"github.com/teeup/teeup/emulator/device"
	"github.com/teeup/teeup/secure/boot"
)

// VendorID and ClassID identify a development device; its manifests
// name them.
var (
	VendorID = device.VendorID
	ClassID  = device.ClassID
)

// Image is a recognizable image of component c at sequence number seq,
// of size bytes.
func Image(c boot.Component, seq uint64, size int) []byte { return device.BuiltinImage(c, seq, size) }

// NormalImage is Image of the normal world's image, for tests of the
// normal world, which may not name the bootloader's components.
func NormalImage(seq uint64, size int) []byte { return Image(boot.Normal, seq, size) }

// NormalEnvelopeAt is the manifest of the normal world's image img at
// sequence number seq, its payload at uri, signed by the device's author.
func (r *Rig) NormalEnvelopeAt(seq uint64, img []byte, uri string) []byte {
	r.t.Helper()
	env, err := device.EnvelopeAt(boot.Normal, seq, img, uri, r.Signers.Author)
	if err != nil {
		r.t.Fatal(err)
	}
	return env
}

// EndorsementFile is the path of the device's endorsement, which a
// verifier reads.
func (r *Rig) EndorsementFile() string { return device.EndorsementFile(r.Dir) }

// FactoryReferenceFile is the path of the reference values of the
// device's factory images, which a verifier appraises its evidence with.
func (r *Rig) FactoryReferenceFile() string { return device.FactoryReferenceFile(r.Dir) }

// AgentKeyFile is the path of the public key of the device's TEEP Agent,
// which a TAM registers.
func (r *Rig) AgentKeyFile() string { return device.AgentKeyFile(r.Dir) }
