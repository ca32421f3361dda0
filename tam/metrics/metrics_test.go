package metrics_test

import (
	"context"
	"crypto/sha256"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/metrics"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/sqlite"
)

// TestScrape: the counters the TEEP endpoint feeds and a rollout's
// progress as the store holds it, in the exposition format.
func TestScrape(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tam.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	raw := []byte("envelope")
	digest := sha256.Sum256(raw)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.PutEnvelope(ctx, store.Envelope{Digest: digest[:], Kind: store.TAEnvelope, Components: []suit.ComponentID{{[]byte("ta")}},
		SequenceNumber: 2, Author: "a", Raw: raw, Published: now, Held: true}))
	must(st.AddRelease(ctx, store.Release{Name: "v2", Envelopes: [][]byte{digest[:]}, Created: now}))
	for _, id := range []string{"d1", "d2", "d3"} {
		must(st.AddDevice(ctx, store.Device{ID: id, AgentKey: []byte("k"), Registered: now}))
	}
	must(st.CreateRollout(ctx, store.Rollout{ID: "ro-1", Group: "g", Release: "v2", Waves: []int{1, 2}, SuccessThreshold: 50,
		ErrorThreshold: 50, State: store.RolloutRunning, Created: now, Updated: now}, []string{"d1", "d2", "d3"}))
	must(st.MoveDelivery(ctx, store.Delivery{Rollout: "ro-1", Device: "d1", State: store.DeliverySent, Token: []byte("t"), Sends: 1, Updated: now},
		store.DeliveryPending, nil))

	m := metrics.New(st, nil)
	m.SessionOpened()
	m.SessionOpened()
	m.Appraised("affirming")
	m.Appraised("contraindicated")
	m.Appraised("affirming")
	m.Answered(true)
	m.Answered(false)
	m.Answered(true)

	w := httptest.NewRecorder()
	m.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(w.Body)
	for _, want := range []string{
		"teeup_tam_teep_sessions_total 2",
		`teeup_tam_appraisals_total{result="affirming"} 2`,
		`teeup_tam_appraisals_total{result="contraindicated"} 1`,
		`teeup_tam_appraisals_total{result="warning"} 0`,
		`teeup_tam_installs_total{outcome="success"} 2`,
		`teeup_tam_installs_total{outcome="error"} 1`,
		`teeup_tam_rollout_deliveries{release="v2",rollout="ro-1",state="pending"} 2`,
		`teeup_tam_rollout_deliveries{release="v2",rollout="ro-1",state="sent"} 1`,
		`teeup_tam_rollout_deliveries{release="v2",rollout="ro-1",state="succeeded"} 0`,
		`teeup_tam_rollout_wave{release="v2",rollout="ro-1"} 0`,
		`teeup_tam_rollout_waves{release="v2",rollout="ro-1"} 2`,
		`teeup_tam_rollout_state{release="v2",rollout="ro-1",state="running"} 1`,
	} {
		if !strings.Contains(string(body), want+"\n") {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", body)
	}
}
