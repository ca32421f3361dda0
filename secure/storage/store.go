// Package storage is the secure world's storage: a region of flash that
// only the secure world writes, holding the device's private keys and the
// Trusted Application store, encrypted and authenticated under a root key
// that the TPM seals.
//
// Every change writes the whole state, one generation higher, into the
// bank that does not hold the current one; the bank with the highest
// complete generation is current. A power cut at any flash operation
// leaves the old state or the new one, never a mix.
//
// Trust: the store trusts the TPM (its sealer and its counter) and the
// secure world that calls it. A record whose checksum holds but which does
// not decrypt is an attack or a fault, and is refused rather than skipped.
// The generation is bound to a monotonic counter of the TPM, which each
// change advances once its bank is written: a copy of the banks taken
// earlier and written back (an older TA, a TA since unlinked, a lower
// sequence number) is older than the counter, and refused (ErrStale).
package storage

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/teeup/teeup/secure/keys"
	"github.com/teeup/teeup/secure/suit"
)

// Errors of the store.
var (
	// ErrNoStore: neither bank holds a complete record (never formatted,
	// or both damaged).
	ErrNoStore = errors.New("storage: no secure storage in the region")
	// ErrTampered: a complete record does not decrypt or its key does not
	// unseal.
	ErrTampered = errors.New("storage: secure storage does not authenticate")
	// ErrFull: the new state does not fit a bank; the update that needs
	// the room is refused.
	ErrFull = fmt.Errorf("%w: secure storage full", suit.ErrRejected)
	// ErrStale: the banks hold a generation older than the TPM counter
	// says was written: an earlier copy of them was written back.
	ErrStale = fmt.Errorf("%w: its generation is older than the TPM counter (restored from a copy)", ErrTampered)
	// ErrRollback: a change would lower a TA's sequence number.
	ErrRollback = fmt.Errorf("%w: TA sequence number would go back", suit.ErrRollback)
)

// Sealer binds a secret to the device's TPM.
type Sealer interface {
	Seal(secret []byte) ([]byte, error)
	Unseal(blob []byte) ([]byte, error)
}

// Counter is a monotonic counter (a TPM NV counter on the device) that
// the store keeps at its generation.
type Counter interface {
	Value() (uint64, error)
	// AdvanceTo raises the counter to v; it never lowers it.
	AdvanceTo(v uint64) error
}

const rootKeySize = 32 // AES-256

// Store is the open secure storage. It is not safe for concurrent use.
type Store struct {
	flash   Flash
	region  Region
	counter Counter
	rand    io.Reader

	aead       cipher.AEAD
	sealed     []byte // the root key as the TPM sealed it
	active     int    // the bank holding the current generation
	generation uint64
	state      state
	// behind is set when the counter could not be raised to generation
	// after its bank was written; the next change raises it first.
	behind bool
}

// state is what a bank holds, encrypted.
type state struct {
	DeviceKeys []byte        `cbor:"1,keyasint"`
	TAs        []TA          `cbor:"2,keyasint"`
	Policy     *storedPolicy `cbor:"3,keyasint"`
}

// Format makes a new store in the region (erasing it) for a device with
// these keys and this trust policy, under a fresh root key sealed by
// sealer, its generation bound to counter: it starts one above the
// counter's value. It is the factory's step; rand nil means crypto/rand.
func Format(f Flash, r Region, sealer Sealer, counter Counter, device *keys.Device, policy *keys.Policy, rnd io.Reader) (*Store, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	sp, err := encodePolicy(policy)
	if err != nil {
		return nil, err
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	root := make([]byte, rootKeySize)
	if _, err := io.ReadFull(rnd, root); err != nil {
		return nil, err
	}
	sealed, err := sealer.Seal(root)
	if err != nil {
		return nil, err
	}
	dk, err := device.MarshalBinary()
	if err != nil {
		return nil, err
	}
	start, err := counter.Value()
	if err != nil {
		return nil, err
	}
	s := &Store{flash: f, region: r, counter: counter, rand: rnd, sealed: sealed, active: 1, generation: start}
	if s.aead, err = newAEAD(root); err != nil {
		return nil, err
	}
	// Bank 1 is erased too, so that no earlier store can outrank this one.
	if err := f.EraseSector(r.bankOff(1)); err != nil {
		return nil, err
	}
	if err := s.write(state{DeviceKeys: dk, Policy: sp}); err != nil {
		return nil, err
	}
	return s, nil
}

// Open reads the current generation, unseals its root key, decrypts it,
// and checks it against counter: the generation the counter holds, or the
// one above it when a power cut fell between a change's bank and the
// counter's advance, which Open then completes. An older one is ErrStale.
func Open(f Flash, r Region, sealer Sealer, counter Counter) (*Store, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	var best *bankRecord
	bank := -1
	for b := range 2 {
		rec, err := r.readBank(f, b)
		if err != nil {
			return nil, err
		}
		if rec != nil && (best == nil || rec.generation > best.generation) {
			best, bank = rec, b
		}
	}
	if best == nil {
		return nil, ErrNoStore
	}
	root, err := sealer.Unseal(best.sealed)
	if err != nil {
		return nil, fmt.Errorf("%w: root key: %v", ErrTampered, err)
	}
	s := &Store{flash: f, region: r, counter: counter, rand: rand.Reader, sealed: best.sealed, active: bank, generation: best.generation}
	if s.aead, err = newAEAD(root); err != nil {
		return nil, err
	}
	plain, err := s.aead.Open(nil, best.nonce, best.ciphertext, best.additionalData())
	if err != nil {
		return nil, fmt.Errorf("%w: generation %d: %v", ErrTampered, best.generation, err)
	}
	if err := decode(plain, &s.state); err != nil {
		return nil, fmt.Errorf("%w: generation %d: %v", ErrTampered, best.generation, err)
	}
	// Only now is the generation known authentic: a forged one must not
	// move the counter.
	if err := s.checkCounter(); err != nil {
		return nil, err
	}
	return s, nil
}

// checkCounter compares the current generation with the counter.
func (s *Store) checkCounter() error {
	c, err := s.counter.Value()
	if err != nil {
		return err
	}
	switch g := s.generation; {
	case g == c:
		return nil
	case g == c+1:
		return s.counter.AdvanceTo(g) // the change's last step, cut off
	case g < c:
		return fmt.Errorf("%w: generation %d, counter %d", ErrStale, g, c)
	default:
		return fmt.Errorf("%w: generation %d is ahead of the counter at %d", ErrTampered, g, c)
	}
}

func newAEAD(root []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(root)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func (r Region) validate() error {
	if r.BankSectors < 1 || r.SectorSize < headerSize || r.WriteAlign < 1 || r.SectorSize%r.WriteAlign != 0 {
		return fmt.Errorf("storage: region of %d sectors of %d bytes (alignment %d) cannot hold a store",
			r.BankSectors, r.SectorSize, r.WriteAlign)
	}
	return nil
}

// write makes next the current state: one generation up, in the other
// bank, then the counter up to it. Once the bank is written the change
// stands, and write reports it done even if the counter then fails to
// advance (a TPM that cannot save its NV, a full disk under the emulator's
// TPM): Open would find that bank and complete the advance, so the state
// is the new one whatever happens next, and saying otherwise would be a
// lie. Before a bank of the next generation is written, a counter left
// behind that way is raised first; if it still cannot be, the change is
// refused with nothing written, since a counter two generations behind the
// banks is what Open takes for tampering.
func (s *Store) write(next state) error {
	if s.behind {
		if err := s.counter.AdvanceTo(s.generation); err != nil {
			return fmt.Errorf("storage: raise the counter to generation %d: %w", s.generation, err)
		}
		s.behind = false
	}
	plain, err := encode(next)
	if err != nil {
		return err
	}
	rec := &bankRecord{generation: s.generation + 1, sealed: s.sealed, nonce: make([]byte, nonceSize)}
	if _, err := io.ReadFull(s.rand, rec.nonce); err != nil {
		return err
	}
	// The length is in the additional data: know it before sealing.
	rec.ciphertext = make([]byte, len(plain)+s.aead.Overhead())
	rec.ciphertext = s.aead.Seal(rec.ciphertext[:0], rec.nonce, plain, rec.additionalData())
	bank := 1 - s.active
	if err := s.region.writeBank(s.flash, bank, rec); err != nil {
		return err
	}
	s.active, s.generation, s.state = bank, rec.generation, next
	if err := s.counter.AdvanceTo(rec.generation); err != nil {
		s.behind = true
	}
	return nil
}

// Generation is the store's generation: the counter's value when it was
// formatted, plus one for the format and one for each change since.
func (s *Store) Generation() uint64 { return s.generation }

// DeviceKeys returns the device's private keys.
func (s *Store) DeviceKeys() (*keys.Device, error) {
	return keys.UnmarshalDevice(s.state.DeviceKeys)
}

// TAs lists the TA records, unlinked ones included (they keep the
// sequence number an unlinking manifest reached), ordered by ID.
func (s *Store) TAs() []TA {
	out := make([]TA, len(s.state.TAs))
	for i, rec := range s.state.TAs {
		out[i] = cloneTA(rec)
	}
	return out
}

// Lookup finds the record of a TA.
func (s *Store) Lookup(id suit.ComponentID) (TA, bool) {
	i := s.index(id)
	if i < 0 {
		return TA{}, false
	}
	return cloneTA(s.state.TAs[i]), true
}

func (s *Store) index(id suit.ComponentID) int {
	return slices.IndexFunc(s.state.TAs, func(rec TA) bool { return rec.ID.Equal(id) })
}

// Apply replaces the records of the TAs in changes (installing, updating
// or unlinking them) in one step: after a power cut, all of changes or
// none is in the store. A change must not lower a TA's sequence number.
func (s *Store) Apply(changes []TA) error {
	next := state{DeviceKeys: s.state.DeviceKeys, TAs: slices.Clone(s.state.TAs), Policy: s.state.Policy}
	for _, c := range changes {
		if err := c.Validate(); err != nil {
			return err
		}
		i := slices.IndexFunc(next.TAs, func(rec TA) bool { return rec.ID.Equal(c.ID) })
		if i < 0 {
			next.TAs = append(next.TAs, cloneTA(c))
			continue
		}
		if c.SequenceNumber < next.TAs[i].SequenceNumber {
			return fmt.Errorf("%w: %s at %d, change to %d", ErrRollback, c.ID, next.TAs[i].SequenceNumber, c.SequenceNumber)
		}
		next.TAs[i] = cloneTA(c)
	}
	slices.SortFunc(next.TAs, func(a, b TA) int { return compareIDs(a.ID, b.ID) })
	return s.write(next)
}
