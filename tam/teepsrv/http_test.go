package teepsrv_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/teeup/teeup/emulator/device/devicetest"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/teepsrv"
)

// The TEEP endpoint over HTTP: a whole session through it, and each
// refusal with its status.
func TestServeTEEP(t *testing.T) {
	rig := devicetest.New(t)
	tm := newTAM(t, teep.Draft26)
	p := newPublisher(t)
	dev := tm.newDevice(t, rig, p.pub, deviceOptions{})
	srv := tm.serve(t)

	rsp, qr := post(t, srv.URL, "", nil)
	if rsp.StatusCode != http.StatusOK || rsp.Header.Get("Content-Type") != teepsrv.MediaType ||
		rsp.Header.Get("Cache-Control") != "no-store" || rsp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("empty POST: %s %v, want 200 with a TEEP message and otrp-over-http's headers", rsp.Status, rsp.Header)
	}
	resp := dev.answer(t, qr)
	cases := []struct {
		name        string
		contentType string
		body        []byte
		want        int
	}{
		{"wrong content type", "application/cbor", resp, http.StatusUnsupportedMediaType},
		{"too large", teepsrv.MediaType, make([]byte, teepsrv.MaxBody+1), http.StatusRequestEntityTooLarge},
		{"not COSE", teepsrv.MediaType, []byte{0x82, 0x01, 0xa0}, http.StatusBadRequest},
		{"unregistered kid", teepsrv.MediaType, bytes.Replace(resp, mustHex(t, dev.id), bytes.Repeat([]byte{7}, 32), 1), http.StatusForbidden},
		{"query response", teepsrv.MediaType + "; charset=binary", resp, http.StatusNoContent},
		{"replayed", teepsrv.MediaType, resp, http.StatusOK}, // a TEEP Error
	}
	for _, c := range cases {
		rsp, body := post(t, srv.URL, c.contentType, c.body)
		if rsp.StatusCode != c.want {
			t.Errorf("%s: %s, want %d", c.name, rsp.Status, c.want)
		}
		if c.want == http.StatusOK {
			if _, ok := tm.open(t, body).(*teep.Error); !ok {
				t.Errorf("%s: answered %T, want a TEEP Error", c.name, tm.open(t, body))
			}
		}
	}
	if rsp, err := http.Get(srv.URL + "/tam"); err != nil || rsp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /tam: %v %v, want 405", rsp.Status, err)
	}
}

// The long poll answers 200 at once for a notice the device has not
// seen (kept while it polled nowhere; after a start, one for every
// device), 200 when a notice comes during
// the wait, 204 when none comes, 404 for an unregistered device, 400 for
// a wait beyond the bound, and 503 once the server closes.
func TestServePoll(t *testing.T) {
	rig := devicetest.New(t)
	tm := newTAM(t, teep.Draft26)
	dev := tm.newDevice(t, rig, newPublisher(t).pub, deviceOptions{})
	other := tm.newDevice(t, rig, newPublisher(t).pub, deviceOptions{})
	srv := tm.serve(t)
	poll := func(device, wait string) int {
		t.Helper()
		rsp, err := http.Get(srv.URL + "/tam/poll?device=" + device + "&wait=" + wait)
		if err != nil {
			t.Fatal(err)
		}
		rsp.Body.Close()
		return rsp.StatusCode
	}
	// A TAM that (re)started may have missed telling a device something:
	// the first poll of each device answers at once.
	if got := poll(dev.id, "10ms"); got != http.StatusOK {
		t.Fatalf("first poll after the start: %d, want 200", got)
	}
	if got := poll(other.id, "10ms"); got != http.StatusOK {
		t.Fatalf("the other device's first poll after the start: %d, want 200", got)
	}
	if got := poll(dev.id, "10ms"); got != http.StatusNoContent {
		t.Fatalf("nothing new: %d, want 204", got)
	}
	tm.srv.Notify(dev.id) // while no one polls
	if got := poll(dev.id, "10ms"); got != http.StatusOK {
		t.Fatalf("after a notice: %d, want 200", got)
	}
	if got := poll(dev.id, "10ms"); got != http.StatusNoContent {
		t.Fatalf("the notice again: %d, want 204 (it was seen)", got)
	}
	if got := poll(other.id, "10ms"); got != http.StatusNoContent {
		t.Fatalf("another device's notice: %d, want 204", got)
	}
	done := make(chan int)
	go func() { done <- poll(other.id, "1m") }()
	time.Sleep(20 * time.Millisecond) // not needed for correctness: a notice before the wait is kept
	tm.srv.Notify("")
	if got := <-done; got != http.StatusOK {
		t.Fatalf("a notice for all during the wait: %d, want 200", got)
	}
	if got := poll("00", "10ms"); got != http.StatusNotFound {
		t.Fatalf("unregistered device: %d, want 404", got)
	}
	if got := poll(dev.id, "1h"); got != http.StatusBadRequest {
		t.Fatalf("wait of an hour: %d, want 400", got)
	}
	if got := poll(dev.id, "10ms"); got != http.StatusOK {
		t.Fatalf("the notice for all, for the first device: %d, want 200", got)
	}
	go func() { done <- poll(dev.id, "1m") }()
	tm.srv.Close()
	if got := <-done; got != http.StatusServiceUnavailable {
		t.Fatalf("poll at shutdown: %d, want 503", got)
	}
}
