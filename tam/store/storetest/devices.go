package storetest

import (
	"math"
	"strings"
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam/store"
)

// device is a registered device with only what registration needs.
func device(id string) store.Device {
	return store.Device{ID: id, AgentKey: []byte("agent-key-" + id), Registered: at(1)}
}

func fullDevice(id string) store.Device {
	return store.Device{
		ID: id, Name: "kitchen sensor", AgentKey: []byte("agent-key-" + id), AgreementKey: []byte("agreement-key-" + id),
		Endorsement: []byte(`{"endorsement":true}`), Reference: []byte{},
		Registered: at(1), LastSeen: at(5),
		Attestation: store.Attestation{Time: at(4), Status: "affirming", EAR: []byte("ey.ear"), Reason: "ok"},
		TCs: []store.InstalledTC{
			{Component: cid("ta", "x"), SequenceNumber: 3, Digest: []byte{0x82, 0x2f, 0x41, 0x00}},
			{Component: suit.ComponentID{{}, {0xff}}, SequenceNumber: math.MaxUint64, Digest: []byte{}},
			{Component: cid("fw"), SequenceNumber: 0},
		},
		LastError: "install failed",
	}
}

func testDevices(t *testing.T, open Opener) {
	t.Run("RoundTrip", func(t *testing.T) {
		ctx, s := fresh(t, open)
		empty := device("03")
		empty.TCs, empty.Endorsement, empty.AgreementKey = []store.InstalledTC{}, []byte{}, []byte{}
		devs := []store.Device{device("01"), fullDevice("02"), empty}
		for _, d := range []store.Device{devs[2], devs[0], devs[1]} {
			wantErr(t, "add "+d.ID, s.AddDevice(ctx, d), nil)
		}
		for _, d := range devs {
			got, err := s.Device(ctx, d.ID)
			wantErr(t, "device "+d.ID, err, nil)
			same(t, "device "+d.ID, got, d)
		}
		all, err := s.DevicePage(ctx, "", store.MaxPage)
		wantErr(t, "list", err, nil)
		same(t, "list", all, devs)
	})
	t.Run("ErrExists", func(t *testing.T) {
		ctx, s := fresh(t, open)
		wantErr(t, "add", s.AddDevice(ctx, fullDevice("01")), nil)
		wantErr(t, "add again", s.AddDevice(ctx, device("01")), store.ErrExists)
		got, err := s.Device(ctx, "01")
		wantErr(t, "device", err, nil)
		same(t, "after refused add", got, fullDevice("01"))
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		ctx, s := fresh(t, open)
		_, err := s.Device(ctx, "nobody")
		wantErr(t, "device", err, store.ErrNotFound)
		wantErr(t, "record tcs", s.RecordTCs(ctx, "nobody", nil, at(1)), store.ErrNotFound)
		wantErr(t, "record attestation", s.RecordAttestation(ctx, "nobody", store.Attestation{Status: "none"}), store.ErrNotFound)
		wantErr(t, "record error", s.RecordError(ctx, "nobody", "x"), store.ErrNotFound)
		all, err := s.DevicePage(ctx, "", store.MaxPage)
		wantErr(t, "list", err, nil)
		if len(all) != 0 {
			t.Fatalf("an update of no device made %v", all)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		ctx, s := fresh(t, open)
		mod := func(f func(*store.Device)) store.Device {
			d := fullDevice("01")
			f(&d)
			return d
		}
		for _, tc := range []struct {
			name string
			d    store.Device
		}{
			{"empty id", mod(func(d *store.Device) { d.ID = "" })},
			{"id too long", mod(func(d *store.Device) { d.ID = strings.Repeat("a", store.MaxKey+1) })},
			{"no agent key", mod(func(d *store.Device) { d.AgentKey = nil })},
			{"agreement key over MaxBlob", mod(func(d *store.Device) { d.AgreementKey = make([]byte, store.MaxBlob+1) })},
			{"endorsement over MaxBlob", mod(func(d *store.Device) { d.Endorsement = make([]byte, store.MaxBlob+1) })},
			{"EAR over MaxBlob", mod(func(d *store.Device) { d.Attestation.EAR = make([]byte, store.MaxBlob+1) })},
			{"too many TCs", mod(func(d *store.Device) { d.TCs = make([]store.InstalledTC, store.MaxItems+1) })},
			{"TC without component", mod(func(d *store.Device) { d.TCs = []store.InstalledTC{{SequenceNumber: 1}} })},
			{"last error over MaxText", mod(func(d *store.Device) { d.LastError = strings.Repeat("e", store.MaxText+1) })},
			{"name with NUL", mod(func(d *store.Device) { d.Name = "\x00" })},
		} {
			wantErr(t, tc.name, s.AddDevice(ctx, tc.d), store.ErrInvalid)
		}
		wantErr(t, "add", s.AddDevice(ctx, fullDevice("01")), nil)
		wantErr(t, "record bad tcs", s.RecordTCs(ctx, "01", []store.InstalledTC{{}}, at(9)), store.ErrInvalid)
		wantErr(t, "record long error", s.RecordError(ctx, "01", strings.Repeat("e", store.MaxText+1)), store.ErrInvalid)
		wantErr(t, "record bad attestation", s.RecordAttestation(ctx, "01", store.Attestation{Reason: "\xff"}), store.ErrInvalid)
		got, err := s.Device(ctx, "01")
		wantErr(t, "device", err, nil)
		same(t, "after refused records", got, fullDevice("01"))
	})
	t.Run("Record", func(t *testing.T) {
		ctx, s := fresh(t, open)
		wantErr(t, "add", s.AddDevice(ctx, fullDevice("01")), nil)
		wantErr(t, "add", s.AddDevice(ctx, fullDevice("02")), nil)
		want := fullDevice("01")
		steps := []struct {
			name   string
			record func() error
			change func(*store.Device)
		}{
			{"tc-list", func() error {
				return s.RecordTCs(ctx, "01", []store.InstalledTC{{Component: cid("ta", "new"), SequenceNumber: 9}}, at(10))
			}, func(d *store.Device) {
				d.TCs, d.LastSeen = []store.InstalledTC{{Component: cid("ta", "new"), SequenceNumber: 9}}, at(10)
			}},
			{"empty tc-list", func() error { return s.RecordTCs(ctx, "01", []store.InstalledTC{}, at(11)) },
				func(d *store.Device) { d.TCs, d.LastSeen = []store.InstalledTC{}, at(11) }},
			{"nil tc-list", func() error { return s.RecordTCs(ctx, "01", nil, at(12)) },
				func(d *store.Device) { d.TCs, d.LastSeen = nil, at(12) }},
			{"attestation", func() error {
				return s.RecordAttestation(ctx, "01", store.Attestation{Time: at(13), Status: "contraindicated", Reason: "bad measurement"})
			}, func(d *store.Device) {
				d.Attestation = store.Attestation{Time: at(13), Status: "contraindicated", Reason: "bad measurement"}
			}},
			{"error", func() error { return s.RecordError(ctx, "01", "bad evidence") },
				func(d *store.Device) { d.LastError = "bad evidence" }},
			{"error cleared", func() error { return s.RecordError(ctx, "01", "") },
				func(d *store.Device) { d.LastError = "" }},
		}
		for _, st := range steps {
			wantErr(t, st.name, st.record(), nil)
			st.change(&want)
			got, err := s.Device(ctx, "01")
			wantErr(t, "device", err, nil)
			same(t, "after "+st.name, got, want)
		}
		other, err := s.Device(ctx, "02")
		wantErr(t, "other device", err, nil)
		same(t, "the other device", other, fullDevice("02"))
	})
}
