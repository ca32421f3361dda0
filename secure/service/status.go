package service

import (
	"context"
	"crypto/sha256"
	"unicode/utf8"

	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/storage"
)

// DeviceStatus reads the secure world's whole status: the bootloader's
// journal, each component's counter and what each slot verifies as, and
// the TA store's records without their personalization data. It changes
// nothing. store may be nil (no TAs). It is the answer to the ipc op
// DeviceStatus, and what `device status` shows of a device that is off.
func DeviceStatus(ctx context.Context, b *boot.Device, store *storage.Store) (*ipc.DeviceStatusResult, error) {
	st, err := b.Status(ctx)
	if err != nil {
		return nil, err
	}
	out := &ipc.DeviceStatusResult{State: st.State, TrialBoots: st.TrialBoots, Generation: st.Generation, LastOutcome: st.LastOutcome}
	for _, c := range st.Set {
		out.Set = append(out.Set, c.String())
	}
	for _, c := range st.Components {
		out.Components = append(out.Components, ipc.ComponentStatus{Component: c.Component, Counter: c.Counter,
			Primary: slotStatus(c.Primary), Secondary: slotStatus(c.Secondary)})
	}
	if store != nil {
		for _, ta := range store.TAs() {
			s := ipc.TAStatus{ID: ta.ID, SequenceNumber: ta.SequenceNumber}
			if ta.Unlinked {
				s.Flags |= ipc.TAUnlinked
			} else {
				sum := sha256.Sum256(ta.Image)
				s.Size, s.SHA256 = uint64(len(ta.Image)), sum[:]
				if ta.Personalization != nil {
					s.Flags |= ipc.TAPersonalized
				}
			}
			out.TAs = append(out.TAs, s)
		}
	}
	return out, nil
}

func slotStatus(s boot.SlotStatus) ipc.SlotStatus {
	if s.Image == nil {
		return ipc.SlotStatus{Error: cut(s.Error)}
	}
	return ipc.SlotStatus{SequenceNumber: s.Image.SequenceNumber, ManifestDigest: s.Image.ManifestDigest,
		ImageDigest: s.Image.ImageDigest, Size: uint64(s.Image.Size)}
}

// cut shortens a slot's reason to what a status carries, at a rune
// boundary.
func cut(s string) string {
	if len(s) <= ipc.MaxMessage {
		return s
	}
	s = s[:ipc.MaxMessage]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
