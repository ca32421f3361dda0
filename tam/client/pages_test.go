package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/catalog"
	"github.com/teeup/teeup/tam/client"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/sqlite"
)

// catalogTAM serves the catalog's status and device list over a real
// SQLite store of n devices, and returns their IDs, sorted.
func catalogTAM(t *testing.T, n int) (*client.Client, []string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "tam.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, err := suit.GenerateSigningKey(suit.AlgESP256)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.New(catalog.Config{Store: st, Key: key, PublicURL: "https://tam.example/"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%064x", 104729*i+3)
		ids = append(ids, id)
		if err := st.AddDevice(ctx, store.Device{ID: id, Name: fmt.Sprint("d", i), AgentKey: []byte{1}, Registered: time.Unix(0, 0)}); err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			if err := st.RecordTCs(ctx, id, nil, time.Unix(int64(i), 0)); err != nil {
				t.Fatal(err)
			}
		}
	}
	slices.Sort(ids)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/status", cat.HandleStatus)
	mux.HandleFunc("GET /api/v1/devices", cat.HandleListDevices)
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL, "", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	return c, ids
}

// TestWalkPages: Status and Devices follow next through every page of the
// TAM's answers, whatever the page size, and gather every device once,
// by ID, with the first page's summary.
func TestWalkPages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		devices, limit int
	}{
		{"no device", 0, 0},
		{"the TAM's page", 7, 0},
		{"pages of one", 3, 1},
		{"pages of two, the last short", 7, 2},
		{"pages of two, the last full", 8, 2},
		{"a limit over the TAM's largest page", 5, catalog.MaxPage + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, ids := catalogTAM(t, tc.devices)
			ctx := context.Background()
			s, err := c.Status(ctx, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range s.Devices {
				got = append(got, d.ID)
			}
			if !slices.Equal(got, ids) || s.Next != "" || s.Summary == nil || s.Summary.Devices != tc.devices ||
				s.Summary.Up != tc.devices/2 || s.Summary.NeverSeen != tc.devices-tc.devices/2 {
				t.Fatalf("status: %v next %q summary %+v, want %v", got, s.Next, s.Summary, ids)
			}
			devs, err := c.Devices(ctx, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			got = got[:0]
			for _, d := range devs {
				got = append(got, d.ID)
			}
			if !slices.Equal(got, ids) {
				t.Fatalf("devices: %v, want %v", got, ids)
			}
		})
	}
}

// TestWalkRefusesBadPages: a TAM whose pages would have the walk loop or
// skip devices is refused (ErrResponse), not followed.
func TestWalkRefusesBadPages(t *testing.T) {
	t.Parallel()
	a, b, c := "0a", "0b", "0c"
	for _, tc := range []struct {
		name  string
		pages map[string]catalog.DeviceListJSON // by the after asked
	}{
		{"next is the same page", map[string]catalog.DeviceListJSON{"": {Devices: devs(a), Next: a}, a: {Devices: devs(a), Next: a}}},
		{"next goes back", map[string]catalog.DeviceListJSON{"": {Devices: devs(a, b), Next: b}, b: {Devices: devs(c), Next: a}}},
		{"next is not the page's last", map[string]catalog.DeviceListJSON{"": {Devices: devs(a, b), Next: c}}},
		{"next after an empty page", map[string]catalog.DeviceListJSON{"": {Devices: devs(), Next: a}}},
		{"a page out of order", map[string]catalog.DeviceListJSON{"": {Devices: devs(b, a)}}},
		{"a device twice", map[string]catalog.DeviceListJSON{"": {Devices: devs(a, a)}}},
		{"an empty ID", map[string]catalog.DeviceListJSON{"": {Devices: devs("")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			asked := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				asked++
				p, ok := tc.pages[r.URL.Query().Get("after")]
				if !ok {
					t.Errorf("asked for a page after %q", r.URL.Query().Get("after"))
				}
				json.NewEncoder(w).Encode(p)
			}))
			defer srv.Close()
			cl, err := client.New(srv.URL, "", srv.Client())
			if err != nil {
				t.Fatal(err)
			}
			if got, err := cl.Devices(context.Background(), 0); !errors.Is(err, client.ErrResponse) || asked > len(tc.pages) {
				t.Fatalf("%d devices after %d pages: %v, want ErrResponse", len(got), asked, err)
			}
		})
	}
}

func devs(ids ...string) []catalog.DeviceJSON {
	out := []catalog.DeviceJSON{}
	for _, id := range ids {
		out = append(out, catalog.DeviceJSON{ID: id})
	}
	return out
}
