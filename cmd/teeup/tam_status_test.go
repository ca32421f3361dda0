package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/catalog"
	"github.com/teeup/teeup/tam/store"
)

// TestTAMStatusPages: `tam status` and `tam device list`, table and
// --json, follow the TAM's pages to the end: a fleet of more than two
// pages is listed whole, once, by ID, under the fleet's counts.
func TestTAMStatusPages(t *testing.T) {
	t.Parallel()
	url, st, _, admin := catalogTAM(t)
	ctx := context.Background()
	n := 2*catalog.DefaultPage + 3
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%064x", 7919*i+1)
		ids = append(ids, id)
		if err := st.AddDevice(ctx, store.Device{ID: id, Name: fmt.Sprint("dev-", i), AgentKey: []byte{1}, Registered: time.Unix(0, 0)}); err != nil {
			t.Fatal(err)
		}
		if i%4 == 0 {
			tcs := []store.InstalledTC{{Component: suit.ComponentID{[]byte("TA"), []byte("acme"), []byte("hello")}, SequenceNumber: 2}}
			if err := st.RecordTCs(ctx, id, tcs, time.Unix(1, 0)); err != nil {
				t.Fatal(err)
			}
		}
		if i%8 == 0 {
			if err := st.RecordError(ctx, id, "install failed"); err != nil {
				t.Fatal(err)
			}
		}
	}
	slices.Sort(ids)
	seen, failing := (n+3)/4, (n+7)/8
	tamCmd := func(args ...string) string {
		t.Helper()
		out, e, code := teeup(t, append(append([]string{"tam"}, args...), "--tam", url, "--token", admin)...)
		if code != 0 {
			t.Fatalf("%v: %d %s", args, code, e)
		}
		return out
	}

	var status catalog.StatusJSON
	if err := json.Unmarshal([]byte(tamCmd("status", "--json")), &status); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range status.Devices {
		got = append(got, d.ID)
	}
	if s := status.Summary; !slices.Equal(got, ids) || status.Next != "" || s == nil || s.Devices != n || s.Up != seen-failing ||
		s.Failing != failing || s.NeverSeen != n-seen || len(s.Versions) != 1 || s.Versions[0].Devices != seen {
		t.Fatalf("status --json: %d devices, next %q, summary %+v", len(got), status.Next, status.Summary)
	}

	table := tamCmd("status")
	head, rows, ok := strings.Cut(table, "DEVICE")
	if !ok {
		t.Fatalf("status:\n%s", table)
	}
	for _, want := range []string{
		fmt.Sprintf("devices: %d (%d up, %d failing, %d never seen)\n", n, seen-failing, failing, n-seen),
		fmt.Sprintf("versions: ['TA','acme','hello']@2 %d\n", seen),
		fmt.Sprintf("last errors: \"install failed\" %d\n", failing),
		fmt.Sprintf("attestation: not appraised %d\n", n),
	} {
		if !strings.Contains(head, want) {
			t.Errorf("the status's head lacks %q:\n%s", want, head)
		}
	}
	if lines := strings.Count(rows, "\n"); lines != n+1 {
		t.Errorf("the status table has %d lines, want a head and %d devices", lines, n)
	}

	var list catalog.DeviceListJSON
	if err := json.Unmarshal([]byte(tamCmd("device", "list", "--json")), &list); err != nil {
		t.Fatal(err)
	}
	got = got[:0]
	for _, d := range list.Devices {
		got = append(got, d.ID)
	}
	if !slices.Equal(got, ids) || list.Next != "" {
		t.Fatalf("device list --json: %d devices, next %q", len(got), list.Next)
	}
	if lines := strings.Split(strings.TrimSpace(tamCmd("device", "list")), "\n"); len(lines) != n+1 || !strings.HasPrefix(lines[1], ids[0]) || !strings.HasPrefix(lines[n], ids[n-1]) {
		t.Fatalf("device list: %d lines", len(lines))
	}
}
