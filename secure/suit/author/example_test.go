package author_test

import (
	"bytes"
	"fmt"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
)

// An author declares a manifest, builds the envelope, signs it; a device
// that trusts the key authenticates it.
func ExampleBuild() {
	env, err := author.Build(&author.Manifest{
		SequenceNumber: 2,
		VendorID:       bytes.Repeat([]byte{0xfa}, 16),
		ClassID:        bytes.Repeat([]byte{0x14}, 16),
		Components: []author.Component{
			{ID: suit.ComponentID{[]byte("normal")}, Payload: []byte("normal image"), URI: "https://fw.example/normal.bin", Invoke: true},
		},
	})
	if err != nil {
		panic(err)
	}
	key, err := suit.GenerateSigningKey(suit.AlgEd25519)
	if err != nil {
		panic(err)
	}
	if err := env.Sign(key); err != nil {
		panic(err)
	}
	pub, err := key.Public()
	if err != nil {
		panic(err)
	}
	parsed, err := suit.ParseEnvelope(env.Encode())
	if err != nil {
		panic(err)
	}
	v, err := parsed.Authenticate([]*suit.Key{pub})
	if err != nil {
		panic(err)
	}
	fmt.Println(v.Manifest.SequenceNumber, v.Manifest.Components[0])
	// Output: 2 ['normal']
}
