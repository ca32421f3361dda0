package ipc

import (
	"strings"
	"testing"
)

// TestDeviceStatusBounds: a DeviceStatus result out of bounds is refused
// by the client's decoder, as any result is.
func TestDeviceStatusBounds(t *testing.T) {
	t.Parallel()
	ok := func() DeviceStatusResult {
		return DeviceStatusResult{State: "idle", Components: []ComponentStatus{{Component: "normal"}},
			TAs: []TAStatus{{ID: [][]byte{[]byte("TA")}, Flags: TAUnlinked}}}
	}
	for _, tc := range []struct {
		name string
		mod  func(*DeviceStatusResult)
		want error
	}{
		{"valid", func(*DeviceStatusResult) {}, nil},
		{"unknown TA flag", func(r *DeviceStatusResult) { r.TAs[0].Flags = 4 }, ErrMalformed},
		{"state too long", func(r *DeviceStatusResult) { r.State = strings.Repeat("x", MaxStatusText+1) }, ErrLimitExceeded},
		{"state not UTF-8", func(r *DeviceStatusResult) { r.State = "\xff" }, ErrMalformed},
		{"slot error too long", func(r *DeviceStatusResult) { r.Components[0].Secondary.Error = strings.Repeat("x", MaxMessage+1) }, ErrLimitExceeded},
		{"digest too long", func(r *DeviceStatusResult) { r.Components[0].Primary.ImageDigest = make([]byte, MaxDigest+1) }, ErrLimitExceeded},
		{"too many TAs", func(r *DeviceStatusResult) { r.TAs = make([]TAStatus, MaxComponents+1) }, ErrLimitExceeded},
		{"TA ID too long", func(r *DeviceStatusResult) { r.TAs[0].ID = make([][]byte, MaxComponentIDParts+1) }, ErrLimitExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ok()
			tc.mod(&r)
			raw := wire(t, responseWire{Version: ProtocolVersion, ID: 1, Result: wire(t, r)})
			_, err := DecodeResponse(raw, OpDeviceStatus)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantErr(t, err, tc.want)
		})
	}
}
