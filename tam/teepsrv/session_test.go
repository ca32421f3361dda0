package teepsrv_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/teeup/teeup/attest/comid"
	"github.com/teeup/teeup/emulator/device/devicetest"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/teepsrv"
)

var (
	taA = suit.ComponentID{[]byte("TEEP-Device"), []byte("SecureFS"), []byte("ta-a")}
	taB = suit.ComponentID{[]byte("TEEP-Device"), []byte("SecureFS"), []byte("ta-b")}
)

// A device lacking two TAs and behind on its firmware gets, session
// after session: both TAs in one Update, then the firmware in an Update
// of its own, then nothing; in each numbering, the TAM speaking the one
// it is configured for and the Agent answering in kind.
func TestSessionsBringTheDeviceUpToDate(t *testing.T) {
	rig := devicetest.New(t)
	for _, n := range []teep.Numbering{teep.Draft26, teep.Legacy} {
		t.Run(n.String(), func(t *testing.T) {
			tm := newTAM(t, n)
			p := newPublisher(t)
			dev := tm.newDevice(t, rig, p.pub, deviceOptions{})
			a := p.publish(t, tm, store.TAEnvelope, taA, 3, "")
			b := p.publish(t, tm, store.TAEnvelope, taB, 1, "")
			fw := p.publish(t, tm, store.FirmwareEnvelope, suit.ComponentID{[]byte("normal")}, 2, "")
			p.publish(t, tm, store.TAEnvelope, taA, 2, "") // an older version, never sent

			wantUpdates := [][]store.Envelope{{a, b}, {fw}, nil}
			for i, want := range wantUpdates {
				sent := tm.session(t, dev)
				qr, ok := tm.open(t, sent[0]).(*teep.QueryRequest)
				if !ok || len(qr.Token) != teepsrv.TokenSize || len(qr.Challenge) != teepsrv.ChallengeSize ||
					qr.DataItems != teep.DataAttestation|teep.DataTrustedComponents {
					t.Fatalf("session %d: first message %#v, want a QueryRequest with token, challenge, attestation and TCs", i, tm.open(t, sent[0]))
				}
				d, err := tm.store.Device(context.Background(), dev.id)
				if err != nil || d.Attestation.Status != "affirming" || d.Attestation.EAR == nil || !d.LastSeen.Equal(tm.clock.Now()) {
					t.Fatalf("session %d: device record %+v (%v), want an affirming attestation recorded", i, d.Attestation, err)
				}
				if want == nil {
					if len(sent) != 1 {
						t.Fatalf("session %d: the TAM sent %d messages, want the QueryRequest alone", i, len(sent))
					}
					continue
				}
				if len(sent) != 2 {
					t.Fatalf("session %d: the TAM sent %d messages, want QueryRequest and Update", i, len(sent))
				}
				u, ok := tm.open(t, sent[1]).(*teep.Update)
				if !ok || len(u.Manifests) != len(want) {
					t.Fatalf("session %d: second message %#v, want an Update of %d manifests", i, tm.open(t, sent[1]), len(want))
				}
				for j, e := range want {
					if !bytes.Equal(u.Manifests[j].Envelope, bytes.TrimPrefix(e.Raw, []byte{0xd8, 0x6b})) || u.Manifests[j].Tagged {
						t.Errorf("session %d: manifest %d is not the untagged envelope of %s seq %d", i, j, e.Components[0], e.SequenceNumber)
					}
				}
				rs, err := tm.store.Reports(context.Background(), dev.id, 1)
				if err != nil || len(rs) != 1 || !rs[0].Success || len(rs[0].Envelopes) != len(want) {
					t.Fatalf("session %d: last report %+v (%v), want the Success of %d envelopes", i, rs, err, len(want))
				}
				s, err := tm.store.Session(context.Background(), qr.Token)
				if err != nil || s.State != store.Done || s.Device != dev.id {
					t.Fatalf("session %d: stored %+v (%v), want done, of the device", i, s, err)
				}
			}
			if len(dev.tcs.sets) != 2 || len(dev.tcs.sets[1]) != 1 {
				t.Fatalf("install sets %d, want the TAs then the firmware alone", len(dev.tcs.sets))
			}
		})
	}
}

// A QueryResponse posted a second time (a replay by the network or the
// normal world) is refused with a TEEP Error and changes nothing: the
// session was spent by the first.
func TestReplayedQueryResponseIsRefused(t *testing.T) {
	rig := devicetest.New(t)
	tm := newTAM(t, teep.Draft26)
	p := newPublisher(t)
	dev := tm.newDevice(t, rig, p.pub, deviceOptions{})
	p.publish(t, tm, store.TAEnvelope, taA, 1, "")

	qr, err := tm.handle(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp := dev.answer(t, qr)
	update, err := tm.handle(t, resp)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tm.open(t, update).(*teep.Update); !ok {
		t.Fatalf("first QueryResponse: %T, want an Update", tm.open(t, update))
	}
	before, _ := tm.store.Device(context.Background(), dev.id)
	tm.clock.Advance(1)
	answer, err := tm.handle(t, resp)
	if !errors.Is(err, teepsrv.ErrToken) {
		t.Fatalf("replay: %v, want ErrToken", err)
	}
	if e, ok := tm.open(t, answer).(*teep.Error); !ok || e.Code != teep.ErrPermanentError {
		t.Fatalf("replay answered %#v, want a TEEP Error ERR_PERMANENT_ERROR", tm.open(t, answer))
	}
	after, _ := tm.store.Device(context.Background(), dev.id)
	if !after.LastSeen.Equal(before.LastSeen) || after.Attestation.Time != before.Attestation.Time {
		t.Fatal("the replay changed the device's record")
	}
}

// A token belongs to the device that answered its QueryRequest: another
// registered device that was relayed the same QueryRequest and answers
// with that token (a QueryResponse signed by B with A's token) is
// refused, and so is its Success for A's Update.
func TestTokenOfAnotherDeviceIsRefused(t *testing.T) {
	rig := devicetest.New(t)
	tm := newTAM(t, teep.Draft26)
	p := newPublisher(t)
	devA := tm.newDevice(t, rig, p.pub, deviceOptions{})
	devB := tm.newDevice(t, rig, p.pub, deviceOptions{})
	p.publish(t, tm, store.TAEnvelope, taA, 1, "")

	qr, _ := tm.handle(t, nil)
	respA := devA.answer(t, qr)
	respB := devB.answer(t, qr) // the attacker relays A's QueryRequest to B too
	update, err := tm.handle(t, respA)
	if err != nil {
		t.Fatal(err)
	}
	answer, err := tm.handle(t, respB)
	if !errors.Is(err, teepsrv.ErrToken) || answer == nil {
		t.Fatalf("B's QueryResponse with A's token: %v, want ErrToken and a TEEP Error", err)
	}
	// B processes A's Update (its Agent knows the token) and answers.
	success := devB.answer(t, update)
	if _, err := tm.handle(t, success); !errors.Is(err, teepsrv.ErrToken) {
		t.Fatalf("B's Success for A's Update: %v, want ErrToken", err)
	}
	tokenOf := tm.open(t, qr).(*teep.QueryRequest).Token
	s, err := tm.store.Session(context.Background(), tokenOf)
	if err != nil || s.Device != devA.id || s.State != store.UpdateSent {
		t.Fatalf("session %+v (%v), want A's, waiting for A's answer", s, err)
	}
	if d, _ := tm.store.Device(context.Background(), devB.id); !d.LastSeen.IsZero() {
		t.Fatal("B's refused QueryResponse was recorded")
	}
	if rs, _ := tm.store.Reports(context.Background(), devA.id, 10); len(rs) != 0 {
		t.Fatal("B's refused Success was recorded as A's report")
	}
}

// A QueryResponse signed by a key no device registered, or carrying a
// registered device's kid with another key's signature, gets no TEEP
// answer (only the HTTP status) and leaves the session waiting.
func TestUnregisteredKeyIsRefused(t *testing.T) {
	rig := devicetest.New(t)
	tm := newTAM(t, teep.Draft26)
	p := newPublisher(t)
	registered := tm.newDevice(t, rig, p.pub, deviceOptions{})
	stranger := tm.newDevice(t, rig, p.pub, deviceOptions{unregistered: true})

	qr, _ := tm.handle(t, nil)
	resp := stranger.answer(t, qr)
	if answer, err := tm.handle(t, resp); !errors.Is(err, teepsrv.ErrUnknownDevice) || answer != nil {
		t.Fatalf("unregistered key: %v (answer %d bytes), want ErrUnknownDevice and no answer", err, len(answer))
	}
	// The stranger's message under the registered device's kid.
	opened, err := teep.Open(resp, []*suit.Key{mustPublic(t, stranger.key)}, teep.Draft26)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := teep.Encode(opened.Message, opened.Numbering)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := suit.SignSign1(stranger.key, payload, mustHex(t, registered.id))
	if err != nil {
		t.Fatal(err)
	}
	if answer, err := tm.handle(t, forged); !errors.Is(err, teepsrv.ErrUnsigned) || answer != nil {
		t.Fatalf("forged kid: %v, want ErrUnsigned and no answer", err)
	}
	s, err := tm.store.Session(context.Background(), tm.open(t, qr).(*teep.QueryRequest).Token)
	if err != nil || s.State != store.QuerySent {
		t.Fatalf("session %+v (%v), want it still waiting", s, err)
	}
	// The registered device can still use it.
	if _, err := tm.handle(t, registered.answer(t, qr)); err != nil {
		t.Fatalf("the registered device's QueryResponse after the refusals: %v", err)
	}
}

// A device whose evidence does not appraise as trustworthy gets no
// Update, only 204, with the appraisal recorded: evidence of images the
// registered reference values do not hold, and evidence made for another
// challenge.
func TestUntrustworthyEvidenceGetsNoUpdate(t *testing.T) {
	rig := devicetest.New(t)
	cases := []struct {
		name       string
		opts       deviceOptions
		nonce      []byte
		wantStatus string
	}{
		{name: "wrong reference values", opts: deviceOptions{reference: []byte(`{"class":{"oemid":"","hwmodel":""},"components":[]}`)},
			wantStatus: "warning"},
		{name: "evidence for another challenge", nonce: []byte("an old challenge, replayed"), wantStatus: "contraindicated"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm := newTAM(t, teep.Draft26)
			p := newPublisher(t)
			dev := tm.newDevice(t, rig, p.pub, c.opts)
			dev.att.nonce = c.nonce
			p.publish(t, tm, store.TAEnvelope, taA, 1, "")
			sent := tm.session(t, dev)
			if len(sent) != 1 {
				t.Fatalf("the TAM sent %d messages, want the QueryRequest alone", len(sent))
			}
			d, _ := tm.store.Device(context.Background(), dev.id)
			if d.Attestation.Status != c.wantStatus || d.Attestation.Reason == "" || d.Attestation.EAR == nil {
				t.Fatalf("recorded attestation %+v, want %s with its reason and EAR", d.Attestation, c.wantStatus)
			}
			if len(dev.tcs.sets) != 0 {
				t.Fatal("the device installed something")
			}
		})
	}
}

// The hardware a device is appraised as is its own (its factory
// reference's class, its endorsement's): a TA whose reference values name
// another device class does not make the device's evidence untrustworthy.
func TestReferenceClassIsTheDevices(t *testing.T) {
	rig := devicetest.New(t)
	tm := newTAM(t, teep.Draft26)
	p := newPublisher(t)
	// A factory reference that names no class (the endorsement has it).
	factory, err := comid.DecodeReferenceValues(mustRead(t, rig.FactoryReferenceFile()))
	if err != nil {
		t.Fatal(err)
	}
	factory.Class = comid.Class{}
	classless, err := factory.Encode()
	if err != nil {
		t.Fatal(err)
	}
	dev := tm.newDevice(t, rig, p.pub, deviceOptions{reference: classless})
	e := p.build(t, tm, store.TAEnvelope, taB, 1, "")
	e.Reference = []byte(`{"class": {"oemid": "0102", "hwmodel": "0304"},
	  "components": [{"component": "['TEEP-Device','SecureFS','ta-b']", "kind": "ta", "sequence_number": 1,
	    "digest": "` + strings.Repeat("11", 32) + `", "manifest_digest": "` + strings.Repeat("22", 32) + `",
	    "signers": ["` + strings.Repeat("33", 32) + `"]}]}`)
	if err := tm.store.PutEnvelope(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	tm.session(t, dev)
	if d, _ := tm.store.Device(context.Background(), dev.id); d.Attestation.Status != "affirming" {
		t.Fatalf("attestation %s (%s), want affirming", d.Attestation.Status, d.Attestation.Reason)
	}
}

// A TAM that stops after any message of a session and starts again on
// the same store continues the session: nothing acknowledged is lost.
func TestRestartMidSession(t *testing.T) {
	rig := devicetest.New(t)
	tm := newTAM(t, teep.Legacy)
	p := newPublisher(t)
	dev := tm.newDevice(t, rig, p.pub, deviceOptions{})
	e := p.publish(t, tm, store.TAEnvelope, taA, 1, "")

	qr, _ := tm.handle(t, nil)
	tm.restart(t)
	update, err := tm.handle(t, dev.answer(t, qr))
	if err != nil {
		t.Fatal(err)
	}
	tm.restart(t)
	if answer, err := tm.handle(t, dev.answer(t, update)); err != nil || answer != nil {
		t.Fatalf("Success after a restart: %v, answer %d bytes; want 204", err, len(answer))
	}
	rs, err := tm.store.Reports(context.Background(), dev.id, 10)
	if err != nil || len(rs) != 1 || !rs[0].Success || string(rs[0].Envelopes[0]) != string(e.Digest) {
		t.Fatalf("reports %+v (%v), want the Success of the envelope", rs, err)
	}
}

// An Error from the Agent ends the session with a report and is the
// device's last error; a later Success clears it.
func TestAgentErrorIsRecorded(t *testing.T) {
	rig := devicetest.New(t)
	tm := newTAM(t, teep.Draft26)
	p := newPublisher(t)
	dev := tm.newDevice(t, rig, p.pub, deviceOptions{})
	p.publish(t, tm, store.TAEnvelope, taA, 1, "")
	dev.tcs.fail = errors.New("flash full")
	tm.session(t, dev)
	d, _ := tm.store.Device(context.Background(), dev.id)
	rs, _ := tm.store.Reports(context.Background(), dev.id, 10)
	if d.LastError == "" || len(rs) != 1 || rs[0].Success || teep.ErrCode(rs[0].ErrCode) != teep.ErrManifestProcessingFailed {
		t.Fatalf("last error %q, reports %+v; want the Agent's ERR_MANIFEST_PROCESSING_FAILED", d.LastError, rs)
	}
	dev.tcs.fail = nil
	tm.session(t, dev)
	d, _ = tm.store.Device(context.Background(), dev.id)
	if d.LastError != "" {
		t.Fatalf("last error %q after a Success, want none", d.LastError)
	}
}

// A session's token expires: a QueryResponse after the lifetime is
// refused.
func TestExpiredSessionIsRefused(t *testing.T) {
	rig := devicetest.New(t)
	tm := newTAM(t, teep.Draft26)
	p := newPublisher(t)
	dev := tm.newDevice(t, rig, p.pub, deviceOptions{})
	qr, _ := tm.handle(t, nil)
	resp := dev.answer(t, qr)
	tm.clock.Advance(teepsrv.DefaultSessionLifetime)
	if _, err := tm.handle(t, resp); !errors.Is(err, teepsrv.ErrToken) {
		t.Fatalf("late QueryResponse: %v, want ErrToken", err)
	}
}

func mustPublic(t testing.TB, k *suit.SigningKey) *suit.Key {
	t.Helper()
	pub, err := k.Public()
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An Update carries what fits in one TEEP message; the rest comes in the
// next session.
func TestUpdateSplitsWhatDoesNotFit(t *testing.T) {
	rig := devicetest.New(t)
	tm := newTAM(t, teep.Draft26)
	p := newPublisher(t)
	dev := tm.newDevice(t, rig, p.pub, deviceOptions{})
	size := teep.MaxMessageSize * 2 / 5 // two fit in one message, three do not
	for _, id := range []suit.ComponentID{taA, taB, {[]byte("TEEP-Device"), []byte("SecureFS"), []byte("ta-c")}} {
		env, err := author.Build(&author.Manifest{SequenceNumber: 1, VendorID: bytes.Repeat([]byte{0xfa}, 16),
			ClassID: bytes.Repeat([]byte{0x14}, 16), Components: []author.Component{{ID: id,
				Payload: bytes.Repeat([]byte{byte(len(id[2]))}, size), Integrate: true, Name: "ta"}}})
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Sign(p.key); err != nil {
			t.Fatal(err)
		}
		raw := env.Encode()
		digest := sha256.Sum256(raw)
		if err := tm.store.PutEnvelope(context.Background(), store.Envelope{Digest: digest[:], Kind: store.TAEnvelope,
			Components: []suit.ComponentID{id}, SequenceNumber: 1, Author: "author", Raw: raw, Published: tm.clock.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range []int{2, 1} {
		tm.session(t, dev)
		if len(dev.tcs.sets) != i+1 || len(dev.tcs.sets[i]) != want {
			t.Fatalf("session %d: Updates %d, want an Update of %d envelopes", i, len(dev.tcs.sets), want)
		}
	}
	tm.session(t, dev)
	if len(dev.tcs.sets) != 2 || len(dev.tcs.installed) != 3 {
		t.Fatalf("%d Updates, %d TAs installed; want 2 Updates, all 3 installed", len(dev.tcs.sets), len(dev.tcs.installed))
	}
}
