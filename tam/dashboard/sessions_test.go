package dashboard_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/dashboard"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/tamtest"
)

// logSession ends a session of device at now, as the TEEP endpoint does:
// created, then recorded with how it ended.
func logSession(t *testing.T, st store.Store, token, device string, now time.Time, end store.SessionEnd, envs ...[]byte) {
	t.Helper()
	ctx := context.Background()
	sess := store.Session{Token: []byte(token), State: store.QuerySent, Numbering: 0, Created: now.Add(-time.Second), Expires: now.Add(time.Minute)}
	if err := st.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	done := sess
	done.State, done.Device, done.Envelopes = store.Done, device, envs
	if err := st.RecordAnswer(ctx, store.Answer{Session: done, From: store.QuerySent, Now: now, End: &end}); err != nil {
		t.Fatal(err)
	}
}

// TestDeviceSessions: a device's page lists its TEEP sessions, newest
// first, with how each ended (a device's hostile error message shown as
// text), its evidence's appraisal (the history of attestation results)
// and the envelopes each carried, at most MaxSessionsShown; a
// device with none says so.
func TestDeviceSessions(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	first, quiet := r.devices[0], r.devices[1]
	t0 := tamtest.T0
	env := sha256.Sum256([]byte("ta"))
	logSession(t, r.st, "s-ok", first, t0.Add(time.Minute), store.SessionEnd{Outcome: store.OutcomeSuccess}, env[:], env[:])
	logSession(t, r.st, "s-err", first, t0.Add(2*time.Minute), store.SessionEnd{Outcome: store.OutcomeError, Detail: "ERR_PERMANENT_ERROR: " + hostile}, env[:])
	logSession(t, r.st, "s-ref", first, t0.Add(3*time.Minute), store.SessionEnd{Outcome: store.OutcomeRefused, Detail: "contraindicated: stale nonce"})

	_, body := r.do(t, http.MethodGet, "/dashboard/devices/"+first, store.RoleViewer, nil)
	rows := sessionRows(t, body)
	want := []string{"refused", "error", "success"}
	if len(rows) != len(want) {
		t.Fatalf("%d session rows, want %d:\n%s", len(rows), len(want), body)
	}
	evidence := []string{"not trustworthy", "affirming", "affirming"}
	for i, w := range want {
		if !strings.Contains(rows[i], `class="outcome">`+w+"<") || !strings.Contains(rows[i], `class="evidence">`+evidence[i]+"<") {
			t.Errorf("row %d %q, want outcome %s, evidence %s", i, rows[i], w, evidence[i])
		}
	}
	if !strings.Contains(rows[1], "ERR_PERMANENT_ERROR: &lt;script&gt;") || strings.Contains(body, hostile) {
		t.Errorf("the error row %q: want its detail, escaped", rows[1])
	}
	if !strings.Contains(rows[2], `<td class="n">2</td>`) || !strings.Contains(rows[2], "draft-26") {
		t.Errorf("the success row %q: want its two envelopes and its numbering", rows[2])
	}

	_, body = r.do(t, http.MethodGet, "/dashboard/devices/"+quiet, store.RoleViewer, nil)
	if rows := sessionRows(t, body); len(rows) != 0 || !strings.Contains(body, `<td colspan="7">none</td>`) {
		t.Errorf("a device with no sessions shows %v", rows)
	}
	for i := range dashboard.MaxSessionsShown + 2 {
		logSession(t, r.st, fmt.Sprint("q", i), quiet, t0.Add(time.Duration(i)*time.Minute), store.SessionEnd{Outcome: store.OutcomeUpToDate})
	}
	_, body = r.do(t, http.MethodGet, "/dashboard/devices/"+quiet, store.RoleViewer, nil)
	if rows := sessionRows(t, body); len(rows) != dashboard.MaxSessionsShown {
		t.Errorf("%d session rows, want MaxSessionsShown = %d", len(rows), dashboard.MaxSessionsShown)
	}
}

// sessionRows are the rows of the page's TEEP sessions table.
func sessionRows(t *testing.T, body string) []string {
	t.Helper()
	_, table, ok := strings.Cut(body, `<table id="sessions">`)
	if !ok {
		t.Fatalf("no sessions table:\n%s", body)
	}
	table, _, _ = strings.Cut(table, "</table>")
	var rows []string
	for _, row := range strings.Split(table, "<tr>") {
		if strings.Contains(row, `class="outcome"`) {
			rows = append(rows, row)
		}
	}
	return rows
}
