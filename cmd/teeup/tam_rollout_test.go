package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/rollout"
	"github.com/teeup/teeup/tam/store"
)

// TestTAMRolloutCLI: groups, releases and a rollout through the CLI and
// the real API: created, shown, paused, resumed, canceled; a release of an
// envelope published for direct delivery is refused; every change leaves
// its audit row.
func TestTAMRolloutCLI(t *testing.T) {
	t.Parallel()
	url, st, _, admin := catalogTAM(t)
	ctx := context.Background()
	now := time.Now()
	devs := []string{strings.Repeat("a1", 32), strings.Repeat("b2", 32), strings.Repeat("c3", 32)}
	for _, id := range devs {
		if err := st.AddDevice(ctx, store.Device{ID: id, AgentKey: []byte("key"), Registered: now}); err != nil {
			t.Fatal(err)
		}
	}
	put := func(raw string, held bool) string {
		sum := sha256.Sum256([]byte(raw))
		err := st.PutEnvelope(ctx, store.Envelope{Digest: sum[:], Kind: store.TAEnvelope, Components: []suit.ComponentID{{[]byte("TA"), []byte("x")}},
			SequenceNumber: 2, Author: "acme", Raw: []byte(raw), Published: now, Held: held})
		if err != nil {
			t.Fatal(err)
		}
		return hex.EncodeToString(sum[:])
	}
	held, direct := put("held envelope", true), put("direct envelope", false)

	conn := []string{"--tam", url, "--token", admin}
	tam := func(args ...string) (string, string, int) {
		t.Helper()
		return teeup(t, append(append([]string{"tam"}, args...), conn...)...)
	}
	ok := func(want string, args ...string) string {
		t.Helper()
		out, errOut, code := tam(args...)
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("tam %s: exit %d, %q %q; want %q", strings.Join(args, " "), code, out, errOut, want)
		}
		return out
	}
	ok("device "+devs[0]+": tags canary eu", "device", "tag", devs[0], "eu", "canary")
	ok("tags canary eu", "device", "tag", devs[0])
	ok("group eu: 1 device(s) now", "group", "create", "eu", "--tag", "eu")
	ok("group all: 3 device(s) now", "group", "create", "all", "--member", devs[2], "--member", devs[0], "--member", devs[1])
	var g rollout.GroupJSON
	if err := json.Unmarshal([]byte(ok(devs[0], "group", "show", "all", "--json")), &g); err != nil || strings.Join(g.Devices, ",") != strings.Join(devs, ",") {
		t.Fatalf("group show --json: %+v, %v", g, err)
	}
	if _, errOut, code := tam("release", "create", "v1", "--envelope", direct); code != exitFailure || !strings.Contains(errOut, "not held") {
		t.Fatalf("release of a direct envelope: exit %d, %q", code, errOut)
	}
	ok("release v2: 1 envelope(s)", "release", "create", "v2", "--envelope", held)
	var r rollout.Summary
	if err := json.Unmarshal([]byte(ok(`"waves"`, "rollout", "create", "--group", "all", "--release", "v2", "--waves", "1", "--success", "100", "--error", "50", "--json")), &r); err != nil {
		t.Fatal(err)
	}
	if r.State != "running" || len(r.Waves) != 2 || r.Waves[0] != 1 || r.Waves[1] != 2 {
		t.Fatalf("rollout created: %+v", r)
	}
	out := ok("running at wave 1 of 2", "rollout", "show", r.ID)
	if !strings.Contains(out, "all") || !strings.Contains(out, "PENDING") {
		t.Fatalf("rollout show:\n%s", out)
	}
	var p rollout.ProgressJSON
	if err := json.Unmarshal([]byte(ok(`"total"`, "rollout", "show", r.ID, "--json")), &p); err != nil || p.Total.Pending != 3 || len(p.Waves) != 2 {
		t.Fatalf("rollout show --json: %+v, %v", p, err)
	}
	ok("rollout "+r.ID+": paused", "rollout", "pause", r.ID, "--reason", "canary looks odd")
	if _, errOut, code := tam("rollout", "pause", r.ID); code != exitFailure || !strings.Contains(errOut, "the TAM refused") {
		t.Fatalf("pause a paused rollout: exit %d, %q", code, errOut)
	}
	ok("canary looks odd", "rollout", "list")
	ok("rollout "+r.ID+": running", "rollout", "resume", r.ID)
	ok("rollout "+r.ID+": canceled", "rollout", "cancel", r.ID, "--reason", "superseded")
	ok("pending", "rollout", "devices", r.ID)
	if _, _, code := tam("rollout", "create", "--release", "v2"); code != exitUsage {
		t.Fatalf("rollout create without --group: exit %d", code)
	}

	page, err := st.ListAudit(ctx, 0, store.MaxPage)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range page {
		if e.Principal != "" {
			got = append(got, e.Action+" "+e.Result)
		}
	}
	want := []string{
		auth.RouteDeviceTagsSet + " ok",
		auth.RouteGroupAdd + " ok",
		auth.RouteGroupAdd + " ok",
		auth.RouteReleaseAdd + " failed: 409 not_held",
		auth.RouteReleaseAdd + " ok",
		auth.RouteRolloutCreate + " ok",
		auth.RouteRolloutPause + " ok",
		auth.RouteRolloutPause + " failed: 409 conflict",
		auth.RouteRolloutResume + " ok",
		auth.RouteRolloutCancel + " ok",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
