package fwu_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"errors"
	"fmt"
	"testing"

	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/fwu"
	"github.com/teeup/teeup/secure/fwu/fwutest"
	"github.com/teeup/teeup/secure/keys"
	"github.com/teeup/teeup/secure/storage"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
	"github.com/teeup/teeup/secure/ta"
)

func taID(author, name string, more ...string) suit.ComponentID {
	id := suit.ComponentID{[]byte("TA"), []byte(author), []byte(name)}
	for _, m := range more {
		id = append(id, []byte(m))
	}
	return id
}

// taRelease is a TA envelope and the payloads the normal world serves.
type taRelease struct {
	envelope []byte
	payloads map[string][]byte // by URI
}

// taBuild signs a TA manifest built from comps by the TA author.
func (r *rig) taBuild(signer string, seq uint64, comps ...author.Component) taRelease {
	r.t.Helper()
	env, detached, err := author.BuildDetached(&author.Manifest{SequenceNumber: seq, VendorID: fwutest.VendorID, ClassID: fwutest.ClassID,
		Components: comps})
	if err != nil {
		r.t.Fatal(err)
	}
	if err := env.Sign(r.signers.TAAuthors[signer]); err != nil {
		r.t.Fatal(err)
	}
	payloads := map[string][]byte{}
	for _, c := range comps {
		if c.URI != "" && c.Encrypt == nil {
			payloads[c.URI] = c.Payload
		}
	}
	for uri, ct := range detached {
		payloads[uri] = ct
	}
	return taRelease{envelope: env.Encode(), payloads: payloads}
}

// agreementKey is the device's public key-agreement key, as published.
func (r *rig) agreementKey() *ecdh.PublicKey {
	st, err := r.dev.OpenStore()
	if err != nil {
		r.t.Fatal(err)
	}
	dk, err := st.DeviceKeys()
	if err != nil {
		r.t.Fatal(err)
	}
	return dk.Agreement.PublicKey()
}

// taUpdate runs one TA set through the service, serving payloads.
func (r *rig) taUpdate(rels ...taRelease) error {
	ctx := context.Background()
	var set uint64
	for _, rel := range rels {
		id, reqs, err := r.svc.StartUpdate(ctx, rel.envelope)
		if err != nil {
			return err
		}
		set = id
		for _, q := range reqs {
			data := rel.payloads[q.URI]
			if uint64(len(data)) != q.Size {
				r.t.Fatalf("request for %d bytes of %s, have %d", q.Size, q.URI, len(data))
			}
			for off := 0; off < len(data); off += 100 {
				if err := r.svc.WriteChunk(ctx, id, q.Index, uint64(off), data[off:min(off+100, len(data))]); err != nil {
					return err
				}
			}
			if err := r.svc.Finish(ctx, id, q.Index); err != nil {
				return err
			}
		}
	}
	return r.svc.Install(ctx, set)
}

func (r *rig) storedTAs() string {
	r.t.Helper()
	st, err := r.dev.OpenStore()
	if err != nil {
		r.t.Fatal(err)
	}
	var b bytes.Buffer
	for _, ta := range st.TAs() {
		b.WriteString(ta.ID.String())
		if ta.Unlinked {
			b.WriteString(" unlinked")
		}
		b.WriteString(" seq ")
		b.WriteByte(byte('0' + ta.SequenceNumber))
		b.WriteString(" image " + string(ta.Image) + " pers " + string(ta.Personalization) + "; ")
	}
	return b.String()
}

func TestTALifecycle(t *testing.T) {
	r := newRig(t)
	devKey := r.agreementKey()
	otherKey, _ := ecdh.P256().GenerateKey(nil)
	enc := func(k *ecdh.PublicKey, alg int64) *author.EncryptSpec {
		return &author.EncryptSpec{Alg: alg, RecipientKey: k}
	}
	hello := taID("acme", "hello")
	pers := taID("acme", "hello", ta.PersonalizationSuffix)
	v1 := r.taBuild("acme", 1,
		author.Component{ID: hello, Payload: []byte("hello TA v1"), Integrate: true, Name: "ta"},
		author.Component{ID: pers, Payload: []byte("api-key=v1-secret"), Write: true, Encrypt: enc(devKey, suit.AlgA128GCM)})
	v2 := r.taBuild("acme", 2,
		author.Component{ID: hello, Payload: bytes.Repeat([]byte("hello TA v2 "), 50), URI: "https://tam.example/hello-2.ta"},
		author.Component{ID: pers, Payload: []byte("api-key=v2-secret"), URI: "https://tam.example/hello-2.pers", Encrypt: enc(devKey, suit.AlgA128CTR)})
	altered := r.taBuild("acme", 3, author.Component{ID: hello, Payload: []byte("hello TA v3"), URI: "https://tam.example/hello-3.ta"})
	altered.payloads["https://tam.example/hello-3.ta"] = []byte("hello TA v6")
	wrongKey := r.taBuild("acme", 3,
		author.Component{ID: pers, Payload: []byte("api-key=v3"), Write: true, Encrypt: enc(otherKey.PublicKey(), suit.AlgA128GCM)})
	orphan := r.taBuild("acme", 3,
		author.Component{ID: taID("acme", "never", ta.PersonalizationSuffix), Payload: []byte("x"), Write: true})
	foreign := r.taBuild("globex", 5, author.Component{ID: taID("acme", "evil"), Payload: []byte("evil"), Integrate: true, Name: "ta"})
	other := r.taBuild("globex", 1, author.Component{ID: taID("globex", "meter"), Payload: []byte("meter TA"), Integrate: true, Name: "ta"})
	unlink := r.taBuild("acme", 4, author.Component{ID: hello, Unlink: true})

	const (
		s1 = "['TA','acme','hello'] seq 1 image hello TA v1 pers api-key=v1-secret; "
		s2 = "['TA','acme','hello'] seq 2 image " + "hello TA v2 hello TA v2 "
	)
	steps := []struct {
		name    string
		rels    []taRelease
		wantErr error
		want    string // prefix of the store's description
	}{
		{"install with encrypted personalization", []taRelease{v1}, nil, s1},
		{"another author's component", []taRelease{foreign}, keys.ErrUnauthorized, s1},
		{"update: fetched image, fetched encrypted personalization", []taRelease{v2}, nil, s2},
		{"old manifest replayed", []taRelease{v1}, suit.ErrRollback, s2},
		{"payload not matching its digest", []taRelease{altered}, suit.ErrImageMismatch, s2},
		{"personalization for another device", []taRelease{wrongKey}, suit.ErrDecryption, s2},
		{"personalization without its TA", []taRelease{orphan}, suit.ErrRejected, s2},
		{"two authors in one set", []taRelease{other, v2}, nil, s2},
		{"unlink", []taRelease{unlink}, nil, "['TA','acme','hello'] unlinked seq 4 image  pers ; ['TA','globex','meter'] seq 1"},
		{"reinstall below the unlink", []taRelease{v2}, suit.ErrRollback, "['TA','acme','hello'] unlinked seq 4"},
	}
	for _, st := range steps {
		err := r.taUpdate(st.rels...)
		if !errors.Is(err, st.wantErr) {
			t.Fatalf("%s: %v, want %v", st.name, err, st.wantErr)
		}
		if err := r.svc.Cancel(context.Background(), 0); err != nil {
			t.Fatalf("%s: cancel: %v", st.name, err)
		}
		if got := r.storedTAs(); !bytes.HasPrefix([]byte(got), []byte(st.want)) {
			t.Fatalf("%s: store holds\n%s\nwant it to start with\n%s", st.name, got, st.want)
		}
	}
	// The store outlives a reboot, and Query reports it.
	r.reboot()
	infos, err := r.svc.Query(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, in := range infos {
		listed = append(listed, in.ID.String()+" "+string(in.State))
	}
	if want := "[['secure'] READY ['normal'] READY ['TA','globex','meter'] READY]"; joinList(listed) != want {
		t.Fatalf("Query after reboot: %s, want %s", joinList(listed), want)
	}
}

func joinList(l []string) string {
	var b bytes.Buffer
	b.WriteString("[")
	for i, s := range l {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(s)
	}
	b.WriteString("]")
	return b.String()
}

// TestTASetBounded: the payloads a TA set may bring to secure memory are
// bounded, each and together.
func TestTASetBounded(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	big := func(name string, n int) taRelease {
		return r.taBuild("acme", 1, author.Component{ID: taID("acme", name), Payload: make([]byte, n), URI: "https://tam.example/" + name})
	}
	if _, _, err := r.svc.StartUpdate(ctx, big("huge", ta.MaxPayload+1).envelope); !errors.Is(err, suit.ErrRejected) {
		t.Fatalf("a payload over the bound: %v", err)
	}
	var err error
	for i := 0; err == nil && i < 10; i++ {
		_, _, err = r.svc.StartUpdate(ctx, big(fmt.Sprintf("ta%d", i), ta.MaxPayload).envelope)
	}
	if !errors.Is(err, suit.ErrRejected) {
		t.Fatalf("a set over the bound: %v", err)
	}
}

// TestTAAndFirmwareSetsApart: an install set holds firmware or TAs.
func TestTAAndFirmwareSetsApart(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	ta := r.taBuild("acme", 1, author.Component{ID: taID("acme", "a"), Payload: []byte("a"), URI: "https://tam.example/a"})
	if _, _, err := r.svc.StartUpdate(ctx, ta.envelope); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.svc.StartUpdate(ctx, r.release(boot.Normal, 2).Envelope); !errors.Is(err, fwu.ErrBusy) {
		t.Fatalf("firmware into a TA set: %v, want ErrBusy", err)
	}
	if err := r.svc.Cancel(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.svc.StartUpdate(ctx, r.release(boot.Normal, 2).Envelope); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.svc.StartUpdate(ctx, ta.envelope); !errors.Is(err, fwu.ErrBusy) {
		t.Fatalf("TA into a firmware set: %v, want ErrBusy", err)
	}
}

// TestEncryptedFirmwareUpdate streams a firmware image encrypted for the
// device (decrypted as it arrives, with both algorithms): it boots as
// plaintext; an altered ciphertext fails the set and the old image stays.
func TestEncryptedFirmwareUpdate(t *testing.T) {
	for _, alg := range []int64{suit.AlgA128GCM, suit.AlgA128CTR} {
		t.Run(suit.EncryptionAlgName(alg), func(t *testing.T) {
			r := newRig(t)
			image := fwutest.BuiltinImage(boot.Normal, 2, 5000)
			build := func(seq uint64) (boot.Staged, []byte) {
				env, detached, err := author.BuildDetached(&author.Manifest{SequenceNumber: seq, VendorID: fwutest.VendorID, ClassID: fwutest.ClassID,
					Components: []author.Component{{ID: boot.Normal.ID(), Payload: image, URI: "https://fw.example/n.enc", DecryptOnFetch: true,
						Encrypt: &author.EncryptSpec{Alg: alg, RecipientKey: r.agreementKey()}}}})
				if err != nil {
					t.Fatal(err)
				}
				if err := env.Sign(r.signers.Author); err != nil {
					t.Fatal(err)
				}
				return boot.Staged{Component: boot.Normal, Envelope: env.Encode(), Image: detached["https://fw.example/n.enc"]}, detached["https://fw.example/n.enc"]
			}
			rel, ct := build(2)
			if bytes.Contains(ct, image[:64]) {
				t.Fatal("the payload is not encrypted")
			}
			bad := rel
			bad.Image = bytes.Clone(ct)
			bad.Image[len(ct)/2] ^= 1
			if _, err := r.update([]boot.Staged{bad}, 700); !errors.Is(err, suit.ErrRejected) {
				t.Fatalf("altered ciphertext: %v, want a rejection", err)
			}
			if err := r.svc.Cancel(context.Background(), 0); err != nil {
				t.Fatalf("cancel: %v", err)
			}
			if _, err := r.update([]boot.Staged{rel}, 700); err != nil {
				t.Fatal(err)
			}
			res := r.reboot()
			if !res.Trial || res.Images[1].SequenceNumber != 2 {
				t.Fatalf("boot after the encrypted update: %+v", res)
			}
		})
	}
}

// TestTAPersonalizationOnly: new personalization data for an installed TA
// keeps its image and the envelope that installed it, and takes the new
// sequence number.
func TestTAPersonalizationOnly(t *testing.T) {
	r := newRig(t)
	hello := taID("acme", "hello")
	pers := taID("acme", "hello", ta.PersonalizationSuffix)
	enc := &author.EncryptSpec{RecipientKey: r.agreementKey()}
	if err := r.taUpdate(r.taBuild("acme", 1,
		author.Component{ID: hello, Payload: []byte("hello TA"), Integrate: true, Name: "ta"},
		author.Component{ID: pers, Payload: []byte("v1"), Write: true, Encrypt: enc})); err != nil {
		t.Fatal(err)
	}
	lookup := func() storage.TA {
		st, err := r.dev.OpenStore()
		if err != nil {
			t.Fatal(err)
		}
		ta, ok := st.Lookup(hello)
		if !ok {
			t.Fatal("the TA is not in the store")
		}
		return ta
	}
	before := lookup()
	if err := r.taUpdate(r.taBuild("acme", 2, author.Component{ID: pers, Payload: []byte("v2"), Write: true, Encrypt: enc})); err != nil {
		t.Fatal(err)
	}
	after := lookup()
	if string(after.Personalization) != "v2" || string(after.Image) != "hello TA" || after.SequenceNumber != 2 ||
		!bytes.Equal(after.Envelope, before.Envelope) || len(after.Envelope) == 0 {
		t.Fatalf("after a personalization-only update: %+v", after)
	}
}
