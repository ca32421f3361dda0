package teepsrv_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/teeup/teeup/emulator/device/devicetest"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/teepsrv"
)

// FuzzServeTEEP posts bytes to the TEEP endpoint of a TAM with a
// registered device and published TAs. Properties: no panic; only the
// statuses the endpoint documents; every 200 answer is a message the TAM
// signed.
// Seeds: a whole session's messages (real evidence), in both numberings.
func FuzzServeTEEP(f *testing.F) {
	rig := devicetest.New(f)
	tm := newTAM(f, teep.Draft26)
	p := newPublisher(f)
	dev := tm.newDevice(f, rig, p.pub, deviceOptions{})
	p.publish(f, tm, store.TAEnvelope, taA, 1, "")
	for _, n := range []teep.Numbering{teep.Draft26, teep.Legacy} {
		seedTAM := newTAM(f, n)
		seedTAM.key, seedTAM.pub, seedTAM.cfg.Key = tm.key, tm.pub, tm.key
		seedTAM.restart(f)
		seedDev := seedTAM.newDevice(f, rig, p.pub, deviceOptions{})
		p.publish(f, seedTAM, store.TAEnvelope, taA, 1, "")
		qr, _ := seedTAM.handle(f, nil)
		resp := seedDev.answer(f, qr)
		update, _ := seedTAM.handle(f, resp)
		success := seedDev.answer(f, update)
		for _, m := range [][]byte{nil, qr, resp, update, success} {
			f.Add(m)
		}
	}
	f.Add(dev.answer(f, mustQR(f, tm)))
	allowed := map[int]bool{http.StatusOK: true, http.StatusNoContent: true, http.StatusBadRequest: true,
		http.StatusForbidden: true, http.StatusRequestEntityTooLarge: true}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/tam", bytes.NewReader(body))
		req.Header.Set("Content-Type", teepsrv.MediaType)
		w := httptest.NewRecorder()
		tm.srv.ServeTEEP(w, req)
		if !allowed[w.Code] {
			t.Fatalf("status %d", w.Code)
		}
		if w.Code == http.StatusOK {
			if _, err := teep.Open(w.Body.Bytes(), []*suit.Key{tm.pub}, teep.Draft26); err != nil {
				t.Fatalf("a 200 answer the TAM did not sign: %v", err)
			}
		}
	})
}

func mustQR(t testing.TB, tm *tam) []byte {
	t.Helper()
	qr, err := tm.handle(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	return qr
}
