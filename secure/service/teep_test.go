package service_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/teeup/teeup/attest/comid"
	"github.com/teeup/teeup/emulator/device/devicetest"
	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/service"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
	"github.com/teeup/teeup/secure/teep"
)

// tam is a test TAM written with secure/teep's codec: it signs what it
// sends with its key and opens what the device answers with the device's
// published Agent key, in one numbering.
type tam struct {
	t   *testing.T
	key *suit.SigningKey
	n   teep.Numbering
}

func newTAM(t *testing.T, n teep.Numbering) *tam {
	t.Helper()
	k, err := suit.GenerateSigningKey(suit.AlgESP256)
	if err != nil {
		t.Fatal(err)
	}
	return &tam{t: t, key: k, n: n}
}

func (m *tam) public() *suit.Key {
	m.t.Helper()
	pub, err := m.key.Public()
	if err != nil {
		m.t.Fatal(err)
	}
	return pub
}

func (m *tam) sign(msg teep.Message) []byte {
	m.t.Helper()
	b, err := teep.Sign(msg, m.n, m.key)
	if err != nil {
		m.t.Fatal(err)
	}
	return b
}

func random(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func (m *tam) query(token, challenge []byte) []byte {
	return m.sign(&teep.QueryRequest{Token: token, Challenge: challenge, Versions: []uint64{0},
		CipherSuites: []teep.CipherSuite{teep.SuiteESP256}, SUITCOSEProfiles: []teep.SUITCOSEProfile{teep.ProfileESP256A128CTR},
		DataItems: teep.DataAttestation | teep.DataTrustedComponents})
}

// agentDevice is a device whose Agent trusts a TAM, served over the real
// ipc codec, with what a TAM registers of it: its endorsement and its
// Agent's public key.
type agentDevice struct {
	t           *testing.T
	kit         *devicetest.Rig
	client      *ipc.Client
	endorsement *comid.Endorsement
	agentKey    *suit.Key
}

func newAgentDevice(t *testing.T, tamKeys ...*suit.Key) *agentDevice {
	t.Helper()
	kit := devicetest.NewWithTAMs(t, testLayout, tamKeys...)
	d := &agentDevice{t: t, kit: kit}
	d.connect()
	raw, err := os.ReadFile(kit.EndorsementFile())
	if err != nil {
		t.Fatal(err)
	}
	if d.endorsement, err = comid.DecodeEndorsement(raw); err != nil {
		t.Fatal(err)
	}
	pemBytes, err := os.ReadFile(kit.AgentKeyFile())
	if err != nil {
		t.Fatal(err)
	}
	if d.agentKey, err = suit.ParsePublicKeyPEM(pemBytes); err != nil {
		t.Fatal(err)
	}
	if got, err := suit.ParsePublicKeyPEM([]byte(d.endorsement.AgentKey)); err != nil || got.ID != d.agentKey.ID {
		t.Fatalf("the endorsement's agent_key is not agent.pub.pem: %v", err)
	}
	return d
}

// connect starts a session with the secure world of this boot, as the
// normal world's process does.
func (d *agentDevice) connect() {
	d.t.Helper()
	var err error
	if d.client, err = ipc.NewClient(d.kit.Serve(nil)); err != nil {
		d.t.Fatal(err)
	}
}

// relay hands msg to the Agent (nil: continue).
func (d *agentDevice) relay(msg []byte) (*ipc.RelayTEEPResult, error) {
	return d.client.RelayTEEP(context.Background(), msg)
}

// open opens the Agent's answer as the TAM does: with the Agent's key, in
// the numbering the TAM speaks, its kid the key's thumbprint.
func (d *agentDevice) open(m *tam, b []byte) teep.Message {
	d.t.Helper()
	s, err := teep.OpenAs(b, []*suit.Key{d.agentKey}, m.n)
	if err != nil {
		d.t.Fatalf("the answer does not open with the Agent's key in %s: %v", m.n, err)
	}
	if kid, _ := teep.Thumbprint(d.agentKey.Public); !bytes.Equal(s.KID, kid) {
		d.t.Fatalf("kid %x, want the Agent key's thumbprint %x", s.KID, kid)
	}
	return s.Message
}

// session runs a QueryRequest and returns the QueryResponse and the
// token, checking the evidence as the TAM's verifier would.
func (d *agentDevice) session(m *tam) (*teep.QueryResponse, []byte) {
	d.t.Helper()
	token, chal := random(d.t, 16), random(d.t, 32)
	res, err := d.relay(m.query(token, chal))
	if err != nil {
		d.t.Fatal(err)
	}
	if len(res.Payloads) != 0 || res.Reboot {
		d.t.Fatalf("a QueryRequest answered with %+v", res)
	}
	qr, ok := d.open(m, res.Message).(*teep.QueryResponse)
	if !ok || !bytes.Equal(qr.Token, token) {
		d.t.Fatalf("answer %+v, want a QueryResponse to token %x", qr, token)
	}
	if qr.AttestationPayloadFormat != service.EvidenceFormat {
		d.t.Fatalf("evidence format %q", qr.AttestationPayloadFormat)
	}
	if err := checkEvidence(d.endorsement, qr.AttestationPayload, chal); err != nil {
		d.t.Fatalf("the evidence does not verify: %v", err)
	}
	return qr, token
}

// tcList reads a tc-list as component → sequence number.
func tcList(t *testing.T, qr *teep.QueryResponse) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	for _, raw := range qr.TCList {
		var claims struct {
			ID  suit.ComponentID `cbor:"0,keyasint"`
			Seq uint64           `cbor:"-257,keyasint"`
			Dig cbor.RawMessage  `cbor:"3,keyasint"`
		}
		if err := cbor.Unmarshal(raw, &claims); err != nil || claims.Dig == nil {
			t.Fatalf("tc-list entry %x: %v", raw, err)
		}
		out[claims.ID.String()] = claims.Seq
	}
	return out
}

var helloTA = suit.ComponentID{[]byte("TA"), []byte("acme"), []byte("hello")}

// taRelease is a TA envelope, signed by the TA author acme, whose image
// is fetched from the TAM's payload endpoint.
func taRelease(t *testing.T, kit *devicetest.Rig, seq uint64, image []byte) ([]byte, map[string][]byte) {
	t.Helper()
	const uri = "https://tam.example/payloads/hello"
	env, detached, err := author.BuildDetached(&author.Manifest{SequenceNumber: seq, VendorID: devicetest.VendorID, ClassID: devicetest.ClassID,
		Components: []author.Component{{ID: helloTA, Payload: image, URI: uri}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Sign(kit.Signers.TAAuthors["acme"]); err != nil {
		t.Fatal(err)
	}
	payloads := map[string][]byte{uri: image}
	for u, b := range detached {
		payloads[u] = b
	}
	return env.Encode(), payloads
}

// write streams the payloads the Agent asked for, as the broker does.
func (d *agentDevice) write(res *ipc.RelayTEEPResult, payloads map[string][]byte) {
	d.t.Helper()
	ctx := context.Background()
	for _, p := range res.Payloads {
		data, ok := payloads[p.URI]
		if !ok || uint64(len(data)) != p.Size {
			d.t.Fatalf("asked for %d bytes of %s", p.Size, p.URI)
		}
		for off := 0; off < len(data); off += 100 {
			if err := d.client.WriteChunk(ctx, res.Set, p.Index, uint64(off), data[off:min(off+100, len(data))]); err != nil {
				d.t.Fatal(err)
			}
		}
		if err := d.client.Finish(ctx, res.Set, p.Index); err != nil {
			d.t.Fatal(err)
		}
	}
}

// TestTEEPSession: a TAM written with secure/teep's codec runs a whole
// session with the Agent of a real secure world, through the ipc codec,
// in each numbering: the QueryResponse verifies with the published Agent
// key and carries evidence that verifies with attest; the Update's TA is
// fetched (pending result, chunks, continue) and installed; Success
// carries its SUIT report; the next session's tc-list shows it.
func TestTEEPSession(t *testing.T) {
	for _, n := range []teep.Numbering{teep.Draft26, teep.Legacy} {
		t.Run(n.String(), func(t *testing.T) {
			m := newTAM(t, n)
			d := newAgentDevice(t, m.public())
			qr, token := d.session(m)
			if tcs := tcList(t, qr); tcs["['secure']"] != 1 || tcs["['normal']"] != 1 || len(tcs) != 2 {
				t.Fatalf("tc-list %v", tcs)
			}

			image := bytes.Repeat([]byte("hello TA v1 "), 40)
			env, payloads := taRelease(t, d.kit, 1, image)
			res, err := d.relay(m.sign(&teep.Update{Token: token, Manifests: []teep.Manifest{{Envelope: env}}}))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Message) != 0 || res.Set == 0 || len(res.Payloads) != 1 || res.Payloads[0].Size != uint64(len(image)) {
				t.Fatalf("the Update answered %+v, want a payload request", res)
			}
			if _, err := d.relay(nil); !errors.Is(err, ipc.ErrBadState) {
				t.Fatalf("continue before the payload is written: %v", err)
			}
			d.write(res, payloads)
			res, err = d.relay(nil)
			if err != nil {
				t.Fatal(err)
			}
			ok, isSuccess := d.open(m, res.Message).(*teep.Success)
			if !isSuccess || !bytes.Equal(ok.Token, token) || len(ok.SUITReports) != 1 || res.Reboot {
				t.Fatalf("continue answered %+v (reboot %v), want Success with one report", d.open(m, res.Message), res.Reboot)
			}
			report, err := suit.ParseReport(ok.SUITReports[0])
			if err != nil || report.Result != nil {
				t.Fatalf("report %+v: %v", report, err)
			}
			st, err := d.kit.Dev.OpenStore()
			if err != nil {
				t.Fatal(err)
			}
			if rec, found := st.Lookup(helloTA); !found || !bytes.Equal(rec.Image, image) || rec.SequenceNumber != 1 {
				t.Fatalf("the TA is not installed: %+v", rec)
			}
			if _, err := d.relay(nil); !errors.Is(err, ipc.ErrBadState) {
				t.Fatalf("a second continue: %v", err)
			}

			qr, _ = d.session(m)
			if tcs := tcList(t, qr); tcs[helloTA.String()] != 1 || len(tcs) != 3 {
				t.Fatalf("tc-list after the update %v", tcs)
			}
		})
	}
}

// TestTEEPAttacksFail: what a hostile normal world or network can relay
// gets the Agent nowhere. An Update whose token no QueryRequest of this
// Agent issued, or replayed after its Success, gets an Error and installs
// nothing; one signed by a key the device does not trust gets no answer;
// one captured for another device (same TAM) is unknown here; a TA signed
// by an author not trusted for it is refused with its report.
func TestTEEPAttacksFail(t *testing.T) {
	m := newTAM(t, teep.Draft26)
	// Another device of the same TAM runs a session first (one emulated
	// TPM per process: it is closed before this device opens).
	var otherToken []byte
	t.Run("other device", func(t *testing.T) {
		_, otherToken = newAgentDevice(t, m.public()).session(m)
	})
	d := newAgentDevice(t, m.public())
	env, payloads := taRelease(t, d.kit, 1, []byte("hello TA v1"))
	update := func(token []byte) []byte {
		return m.sign(&teep.Update{Token: token, Manifests: []teep.Manifest{{Envelope: env}}})
	}
	refused := func(name string, msg []byte) {
		t.Helper()
		res, err := d.relay(msg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		e, ok := d.open(m, res.Message).(*teep.Error)
		if !ok || e.Code != teep.ErrPermanentError || len(res.Payloads) != 0 {
			t.Fatalf("%s: answered %+v, want ERR_PERMANENT_ERROR", name, res)
		}
	}
	installed := func() bool {
		t.Helper()
		st, err := d.kit.Dev.OpenStore()
		if err != nil {
			t.Fatal(err)
		}
		_, found := st.Lookup(helloTA)
		return found
	}

	// A token this Agent never issued.
	d.session(m)
	refused("token never issued", update(random(t, 16)))

	// An Update captured for another device of the same TAM.
	refused("Update for another device", update(otherToken))

	// An Update signed by a key the device does not trust: no answer.
	stranger := newTAM(t, teep.Draft26)
	_, token := d.session(m)
	if res, err := d.relay(stranger.sign(&teep.Update{Token: token, Manifests: []teep.Manifest{{Envelope: env}}})); !errors.Is(err, ipc.ErrRejected) || res != nil {
		t.Fatalf("an untrusted signer's Update: %+v %v", res, err)
	}
	if installed() {
		t.Fatal("a refused Update installed the TA")
	}

	// A TA envelope signed by an author the device does not trust for
	// it: the set is refused with its report, the token is spent.
	foreign, _, err := author.BuildDetached(&author.Manifest{SequenceNumber: 1, VendorID: devicetest.VendorID, ClassID: devicetest.ClassID,
		Components: []author.Component{{ID: helloTA, Payload: []byte("evil"), URI: "https://tam.example/payloads/evil"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := foreign.Sign(d.kit.Signers.TAAuthors["globex"]); err != nil {
		t.Fatal(err)
	}
	res, err := d.relay(m.sign(&teep.Update{Token: token, Manifests: []teep.Manifest{{Envelope: foreign.Encode()}}}))
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := d.open(m, res.Message).(*teep.Error); !ok || e.Code != teep.ErrManifestProcessingFailed || len(e.SUITReports) != 1 {
		t.Fatalf("another author's TA: answered %+v", d.open(m, res.Message))
	}
	if installed() {
		t.Fatal("another author's TA was installed")
	}
	_, token = d.session(m)

	// The honest Update, then the same replayed.
	res, err = d.relay(update(token))
	if err != nil || len(res.Payloads) != 1 {
		t.Fatalf("the honest Update: %+v %v", res, err)
	}
	d.write(res, payloads)
	if res, err = d.relay(nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.open(m, res.Message).(*teep.Success); !ok || !installed() {
		t.Fatalf("the honest Update failed: %+v", d.open(m, res.Message))
	}
	refused("Update replayed after success", update(token))
}

// TestTEEPFirmwarePair: a TEEP Update of the firmware pair is staged by
// the continue and answered with Reboot; after the reset and the normal
// world's accept, the tc-list shows the new versions.
func TestTEEPFirmwarePair(t *testing.T) {
	ctx := context.Background()
	m := newTAM(t, teep.Draft26)
	d := newAgentDevice(t, m.public())
	_, token := d.session(m)
	var manifests []teep.Manifest
	payloads := map[string][]byte{}
	for _, c := range boot.Components {
		rel := d.kit.Release(c, 2, 3000)
		manifests = append(manifests, teep.Manifest{Envelope: rel.Envelope})
		payloads[fmt.Sprintf("https://fw.teeup.example/%s-2.bin", c)] = rel.Image
	}
	res, err := d.relay(m.sign(&teep.Update{Token: token, Manifests: manifests}))
	if err != nil || len(res.Payloads) != 2 {
		t.Fatalf("the Update: %+v %v", res, err)
	}
	d.write(res, payloads)
	if res, err = d.relay(nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.open(m, res.Message).(*teep.Success); !ok || !res.Reboot {
		t.Fatalf("continue answered %+v, reboot %v", d.open(m, res.Message), res.Reboot)
	}
	d.kit.Reboot()
	d.connect()
	if err := d.client.Accept(ctx); err != nil {
		t.Fatal(err)
	}
	qr, _ := d.session(m)
	if tcs := tcList(t, qr); tcs["['secure']"] != 2 || tcs["['normal']"] != 2 {
		t.Fatalf("tc-list after the pair %v", tcs)
	}
}

// TestTEEPUnsupported: a device whose Agent trusts no TAM has no Agent.
func TestTEEPUnsupported(t *testing.T) {
	w := newWorld(t)
	m := newTAM(t, teep.Draft26)
	if _, err := w.client.RelayTEEP(context.Background(), m.query(random(t, 16), random(t, 32))); !errors.Is(err, ipc.ErrUnsupported) {
		t.Fatalf("RelayTEEP to a device without an Agent: %v", err)
	}
}

// TestTEEPPayloadMismatch: a payload the normal world alters fails its
// Finish; the continue then answers ERR_MANIFEST_PROCESSING_FAILED with
// the manifest's report, which says it failed; nothing is installed, and
// the next session's honest Update installs the TA.
func TestTEEPPayloadMismatch(t *testing.T) {
	ctx := context.Background()
	m := newTAM(t, teep.Legacy)
	d := newAgentDevice(t, m.public())
	image := []byte("hello TA v1")
	env, payloads := taRelease(t, d.kit, 1, image)
	_, token := d.session(m)
	res, err := d.relay(m.sign(&teep.Update{Token: token, Manifests: []teep.Manifest{{Envelope: env}}}))
	if err != nil || len(res.Payloads) != 1 {
		t.Fatalf("the Update: %+v %v", res, err)
	}
	p := res.Payloads[0]
	if err := d.client.WriteChunk(ctx, res.Set, p.Index, 0, []byte("hello TA v6")); err != nil {
		t.Fatal(err)
	}
	if err := d.client.Finish(ctx, res.Set, p.Index); !errors.Is(err, ipc.ErrRejected) {
		t.Fatalf("finish of an altered payload: %v", err)
	}
	if res, err = d.relay(nil); err != nil {
		t.Fatal(err)
	}
	e, ok := d.open(m, res.Message).(*teep.Error)
	if !ok || e.Code != teep.ErrManifestProcessingFailed || len(e.SUITReports) != 1 || !bytes.Equal(e.Token, token) {
		t.Fatalf("continue answered %+v, want ERR_MANIFEST_PROCESSING_FAILED with a report", d.open(m, res.Message))
	}
	if report, err := suit.ParseReport(e.SUITReports[0]); err != nil || report.Result == nil {
		t.Fatalf("the report does not say the manifest failed: %+v %v", report, err)
	}
	st, err := d.kit.Dev.OpenStore()
	if err != nil {
		t.Fatal(err)
	}
	if _, found := st.Lookup(helloTA); found {
		t.Fatal("a TA with an altered payload was installed")
	}

	_, token = d.session(m)
	if res, err = d.relay(m.sign(&teep.Update{Token: token, Manifests: []teep.Manifest{{Envelope: env}}})); err != nil {
		t.Fatal(err)
	}
	d.write(res, payloads)
	if res, err = d.relay(nil); err != nil {
		t.Fatal(err)
	}
	if _, ok := d.open(m, res.Message).(*teep.Success); !ok {
		t.Fatalf("the honest Update after: %+v", d.open(m, res.Message))
	}
}
