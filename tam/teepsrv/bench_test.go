package teepsrv_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/teeup/teeup/attest"
	"github.com/teeup/teeup/attest/comid"
	"github.com/teeup/teeup/emulator/device/devicetest"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/postgres"
	"github.com/teeup/teeup/tam/store/postgres/pgtest"
	"github.com/teeup/teeup/tam/teepsrv"
)

// benchFleets are how many in-process agents run sessions at once.
var benchFleets = []int{100, 1000}

// agentLifetime is how long a benchmark Agent remembers a session.
const agentLifetime = time.Second

// serialAttester makes the rig's evidence one at a time: the device has
// one TPM (the simulator is one per process), which every agent of the
// benchmark shares.
type serialAttester struct {
	mu sync.Mutex
	a  *attester
}

func (s *serialAttester) Evidence(nonce []byte) (string, []byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.a.Evidence(nonce)
}

// BenchmarkTEEPSession runs whole TEEP sessions (attestation and
// decision, no payload: the devices hold what is published) over HTTP
// against a TAM on its SQLite store and, when TEEUP_TEST_POSTGRES names a
// server, on PostgreSQL, from 100 and from 1,000 agents at once,
// each a secure/teep.Agent with its own key, an in-memory TA store and
// the real evidence of one emulated device (its TPM's quote, its
// attestation key's EAT). It reports sessions/s, the p50 and p99 of a
// session's latency and the TAM's own time per session; then, in the same run, the cost of each signature
// and verification one session needs, and their sum (crypto-us/session).
func BenchmarkTEEPSession(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B) func(context.Context) (store.Store, error)
	}{
		{"sqlite", func(*testing.B) func(context.Context) (store.Store, error) { return nil }},
		{"postgres", func(b *testing.B) func(context.Context) (store.Store, error) {
			dsn := pgtest.Database(b) // skips without TEEUP_TEST_POSTGRES
			return func(ctx context.Context) (store.Store, error) { return postgres.Open(ctx, dsn) }
		}},
	}
	for _, s := range stores {
		for _, agents := range benchFleets {
			b.Run(fmt.Sprintf("store=%s/devices=%d", s.name, agents), func(b *testing.B) {
				benchTEEPSessions(b, s.open(b), agents)
			})
		}
	}
}

// benchTEEPSessions is BenchmarkTEEPSession on one store with agents
// agents at once. One op is one round: every agent runs one session, so
// that all of them are in flight at once even when b.N is 1 (a round of
// 1,000 takes seconds: -benchtime=1s runs it once or twice).
func benchTEEPSessions(b *testing.B, open func(context.Context) (store.Store, error), benchAgents int) {
	rig := devicetest.New(b)
	tm := newTAMOn(b, teep.Draft26, open)
	p := newPublisher(b)
	e := p.publish(b, tm, store.TAEnvelope, taA, 1, "")
	shared := &serialAttester{a: &attester{rig: rig}}
	devices := make([]*device, benchAgents)
	for i := range devices {
		d := tm.newDevice(b, rig, p.pub, deviceOptions{})
		d.tcs.installed[e.Components[0].String()] = teep.TC{ID: teep.ComponentID(e.Components[0]), SequenceNumber: 1}
		var err error
		d.agent, err = teep.NewAgent(teep.AgentConfig{Key: d.key, TAMKeys: []*suit.Key{tm.pub}, Attester: shared,
			TCs: d.tcs, Now: tm.clock.Now, Lifetime: agentLifetime})
		if err != nil {
			b.Fatal(err)
		}
		devices[i] = d
	}
	// The TAM's own time per request (its handler, store writes
	// included), apart from the device's: the one TPM every agent shares
	// makes evidence one at a time, and bounds the sessions per second.
	var tamNanos atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /tam", func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		tm.srv.ServeTEEP(w, r)
		tamNanos.Add(int64(time.Since(t0)))
	})
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchAgents}}

	latencies := make([][]time.Duration, benchAgents)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i, d := range devices {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range b.N {
				t0 := time.Now()
				if err := httpSession(client, srv.URL, d); err != nil {
					b.Error(err)
					return
				}
				latencies[i] = append(latencies[i], time.Since(t0))
				// The Agent forgets a session's token and challenge after
				// its lifetime; without this the clock would stand still
				// and each Agent refuse its 17th session as too many.
				tm.clock.Advance(agentLifetime)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	for _, d := range devices {
		rec, err := tm.store.Device(context.Background(), d.id)
		if err != nil || rec.LastError != "" || (rec.Attestation.Status != "affirming" && !rec.LastSeen.IsZero()) {
			b.Fatalf("device %s: %+v, %v: the sessions did not all attest and end in nothing to do", d.id, rec.Attestation, err)
		}
	}
	all := slices.Concat(latencies...)
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "sessions/s")
	b.ReportMetric(ms(all[len(all)/2]), "p50-ms")
	b.ReportMetric(ms(all[min(len(all)-1, len(all)*99/100)]), "p99-ms")
	b.ReportMetric(float64(tamNanos.Load())/1e6/float64(len(all)), "tam-ms/session")
	reportCrypto(b, tm, devices[0], rig)
}

// httpSession is one session as a broker runs it: an empty POST, each
// answer relayed to the Agent and its reply posted, until 204.
func httpSession(c *http.Client, url string, d *device) error {
	var body []byte
	for {
		rsp, err := c.Post(url+"/tam", teepsrv.MediaType, bytesReader(body))
		if err != nil {
			return err
		}
		msg, err := readAll(rsp)
		if err != nil {
			return err
		}
		if rsp.StatusCode == http.StatusNoContent {
			return nil
		}
		if rsp.StatusCode != http.StatusOK {
			return errStatus(rsp.Status)
		}
		answer, err := d.agent.Handle(context.Background(), msg)
		if err != nil {
			return err
		}
		body = answer.Message
		if body == nil {
			return nil
		}
	}
}

// reportCrypto measures, one at a time, each signature and verification
// of a session: the TAM signs the QueryRequest, the Agent verifies it,
// the device makes its evidence (the EAT's signature and the TPM's
// quote), the Agent signs the QueryResponse, the TAM verifies it and the
// evidence (the EAT's and the quote's signatures), and signs the EAR.
func reportCrypto(b *testing.B, tm *tam, d *device, rig *devicetest.Rig) {
	const rounds = 50
	ctx := context.Background()
	sk, err := suit.NewSigningKey(teep.AlgESP256, tm.key)
	if err != nil {
		b.Fatal(err)
	}
	qr := &teep.QueryRequest{Token: make([]byte, teepsrv.TokenSize), Challenge: make([]byte, teepsrv.ChallengeSize),
		DataItems: teep.DataAttestation | teep.DataTrustedComponents, CipherSuites: []teep.CipherSuite{teep.SuiteESP256}}
	qrMsg, err := teep.Sign(qr, teep.Draft26, sk)
	if err != nil {
		b.Fatal(err)
	}
	_, ev, err := (&attester{rig: rig}).Evidence(qr.Challenge)
	if err != nil {
		b.Fatal(err)
	}
	resp := &teep.QueryResponse{Token: qr.Token, AttestationPayloadFormat: teepsrv.EvidenceFormat, AttestationPayload: ev}
	respMsg, err := teep.Sign(resp, teep.Draft26, d.key)
	if err != nil {
		b.Fatal(err)
	}
	agentPub := mustPublic(b, d.key)
	dev, err := tm.store.Device(ctx, d.id)
	if err != nil {
		b.Fatal(err)
	}
	end, err := comid.DecodeEndorsement(dev.Endorsement)
	if err != nil {
		b.Fatal(err)
	}
	dk, _ := end.DeviceKey()
	tk, _ := end.TPMKey()
	refs, err := comid.DecodeReferenceValues(dev.Reference)
	if err != nil {
		b.Fatal(err)
	}
	verify := func() *attest.Verified {
		nonces := &attest.NonceStore{}
		if err := nonces.Register(qr.Challenge); err != nil {
			b.Fatal(err)
		}
		decoded, err := attest.DecodeEvidence(ev)
		if err != nil {
			b.Fatal(err)
		}
		v, err := (&attest.Verifier{Endorsements: attest.Endorsements{{UEID: end.UEID, OEMID: end.Class.OEMID,
			HWModel: end.Class.HWModel, AttestationKey: dk, TPMKey: tk}}, Nonces: nonces}).Verify(decoded)
		if err != nil {
			b.Fatal(err)
		}
		return v
	}
	appraisal := attest.Appraise(verify(), refs, attest.Policy{})
	steps := []struct {
		unit string
		op   func() error
	}{
		{"tam-sign-us", func() error { _, err := teep.Sign(qr, teep.Draft26, sk); return err }},
		{"agent-verify-us", func() error { _, err := teep.Open(qrMsg, []*suit.Key{tm.pub}, teep.Draft26); return err }},
		{"evidence-us", func() error { _, _, err := (&attester{rig: rig}).Evidence(qr.Challenge); return err }},
		{"agent-sign-us", func() error { _, err := teep.Sign(resp, teep.Draft26, d.key); return err }},
		{"tam-verify-us", func() error { _, err := teep.Open(respMsg, []*suit.Key{agentPub}, teep.Draft26); return err }},
		{"evidence-verify-us", func() error { verify(); return nil }},
		{"ear-sign-us", func() error { _, err := appraisal.EAR(tm.key, attest.ResultOptions{}); return err }},
	}
	total := 0.0
	defer func() {
		b.ReportMetric(total, "crypto-us/session")
		// A session writes the store four times (CreateSession,
		// AdvanceSession, RecordTCs, RecordAttestation), each a durable
		// transaction (SQLite's or PostgreSQL's), one at a time.
		var n int
		t0 := time.Now()
		for range rounds {
			n++
			token := []byte{byte(n), byte(n >> 8), 'b', 'e', 'n', 'c', 'h', '!'}
			now := tm.clock.Now()
			if err := tm.store.CreateSession(ctx, store.Session{Token: token, State: store.QuerySent,
				Challenge: qr.Challenge, Created: now, Expires: now.Add(time.Hour)}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(time.Since(t0).Microseconds())/rounds, "store-write-us")
	}()
	for _, s := range steps {
		t0 := time.Now()
		for range rounds {
			if err := s.op(); err != nil {
				b.Fatal(err)
			}
		}
		us := float64(time.Since(t0).Microseconds()) / rounds
		total += us
		b.ReportMetric(us, s.unit)
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
