package service_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/teeup/teeup/emulator/device/devicetest"
	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/ipc/ipctest"
	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/service"
)

var testLayout = boot.Layout{SectorSize: 2048, WriteAlign: 16, SlotSectors: 4}

// world is a device whose secure world serves a hostile normal world over
// the real ipc codec; every byte that crosses is recorded.
type world struct {
	t      *testing.T
	kit    *devicetest.Rig
	dir    string
	client *ipc.Client
	rec    *ipctest.Recorder
	// shared, if set, is the region the worlds share for chunks' data.
	shared *ipc.Shared
}

func newWorld(t *testing.T) *world { return newWorldWith(t, nil) }

// newWorldWith is newWorld with a shared region (nil: none).
func newWorldWith(t *testing.T, shared *ipc.Shared) *world {
	t.Helper()
	kit := devicetest.NewWith(t, testLayout)
	w := &world{t: t, kit: kit, dir: kit.Dir, shared: shared}
	w.connect()
	return w
}

// boot resets the device and starts a new session, as a power cycle does.
func (w *world) boot() *boot.Result {
	w.t.Helper()
	res := w.kit.Reboot()
	w.connect()
	return res
}

func (w *world) connect() {
	w.t.Helper()
	w.rec = ipctest.NewRecorder(w.kit.Serve(w.shared))
	var err error
	if w.shared != nil {
		w.client, err = ipc.NewSharedClient(w.rec, w.shared, nil)
	} else {
		w.client, err = ipc.NewClient(w.rec)
	}
	if err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) release(c boot.Component, seq uint64) boot.Staged {
	return w.kit.Release(c, seq, 3000+int(seq))
}

func (w *world) update(rel boot.Staged) error {
	ctx := context.Background()
	res, err := w.client.StartUpdate(ctx, rel.Envelope)
	if err != nil {
		return err
	}
	for _, p := range res.Payloads {
		for off := 0; off < len(rel.Image); off += 1000 {
			if err := w.client.WriteChunk(ctx, res.Set, p.Index, uint64(off), rel.Image[off:min(off+1000, len(rel.Image))]); err != nil {
				return err
			}
		}
		if err := w.client.Finish(ctx, res.Set, p.Index); err != nil {
			return err
		}
	}
	return w.client.Install(ctx, res.Set)
}

// updateStreamed is update with every payload streamed by WriteChunks,
// in chunks of n bytes: through the shared region, if there is one.
func (w *world) updateStreamed(rel boot.Staged, n int) error {
	ctx := context.Background()
	res, err := w.client.StartUpdate(ctx, rel.Envelope)
	if err != nil {
		return err
	}
	for _, p := range res.Payloads {
		chunks := func(yield func(uint64, ipc.Chunk) bool) {
			for off := 0; off < len(rel.Image); off += n {
				if !yield(uint64(off), ipc.Chunk{Data: rel.Image[off:min(off+n, len(rel.Image))]}) {
					return
				}
			}
		}
		if err := w.client.WriteChunks(ctx, res.Set, p.Index, chunks); err != nil {
			return err
		}
		if err := w.client.Finish(ctx, res.Set, p.Index); err != nil {
			return err
		}
	}
	return w.client.Install(ctx, res.Set)
}

// TestUpdateThroughSharedRegion streams updates through a shared region,
// where the secure world copies each chunk straight into the buffer that
// hashes and programs it: an image of many chunks boots; one that does
// not match its digest fails its set, the old images boot, and the next
// honest update works.
func TestUpdateThroughSharedRegion(t *testing.T) {
	w := newWorldWith(t, ipc.NewShared(ipc.SharedSlots*ipc.MaxChunk))
	big := devicetest.Image(boot.Normal, 2, 6000)
	rel, err := w.kit.Signers.Release(boot.Normal, 2, big)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.updateStreamed(rel, 512); err != nil {
		t.Fatal(err)
	}
	if res := w.boot(); !res.Trial || res.Images[1].SequenceNumber != 2 {
		t.Fatalf("the streamed update boots normal %d (trial %v)", res.Images[1].SequenceNumber, res.Trial)
	}
	if err := w.client.Accept(context.Background()); err != nil {
		t.Fatal(err)
	}
	bad, err := w.kit.Signers.Release(boot.Normal, 3, devicetest.Image(boot.Normal, 3, 6000))
	if err != nil {
		t.Fatal(err)
	}
	bad.Image = bytes.Clone(bad.Image)
	bad.Image[4000] ^= 1
	if err := w.updateStreamed(bad, 512); !errors.Is(err, ipc.ErrRejected) {
		t.Fatalf("a payload that does not match its digest: %v, want ErrRejected", err)
	}
	if res := w.boot(); res.Trial || res.Images[1].SequenceNumber != 2 {
		t.Fatalf("after the refusal the device boots normal %d (trial %v)", res.Images[1].SequenceNumber, res.Trial)
	}
	if err := w.updateStreamed(w.release(boot.Secure, 4), 700); err != nil {
		t.Fatalf("honest update after the refusal: %v", err)
	}
	if res := w.boot(); !res.Trial || res.Images[0].SequenceNumber != 4 {
		t.Fatalf("the honest update boots secure %d", res.Images[0].SequenceNumber)
	}
}

// TestHostileNormalWorldOverIPC: a normal world that speaks the protocol
// but lies is refused with the right code, the device boots its old
// images, and the next honest update works.
func TestHostileNormalWorldOverIPC(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		attack func(w *world) error
		want   error
	}{
		{"altered manifest bytes", func(w *world) error {
			env := bytes.Clone(w.release(boot.Normal, 2).Envelope)
			env[40] ^= 0x10
			_, err := w.client.StartUpdate(ctx, env)
			return err
		}, ipc.ErrRejected},
		{"old manifest replayed", func(w *world) error {
			if err := w.update(w.release(boot.Normal, 3)); err != nil {
				return err
			}
			w.boot()
			if err := w.client.Accept(ctx); err != nil {
				return err
			}
			_, err := w.client.StartUpdate(ctx, w.release(boot.Normal, 2).Envelope)
			return err
		}, ipc.ErrRejected},
		{"chunks reordered", func(w *world) error {
			rel := w.release(boot.Normal, 2)
			res, _ := w.client.StartUpdate(ctx, rel.Envelope)
			return w.client.WriteChunk(ctx, res.Set, 0, 1000, rel.Image[1000:2000])
		}, ipc.ErrOutOfRange},
		{"chunks overlapping", func(w *world) error {
			rel := w.release(boot.Normal, 2)
			res, _ := w.client.StartUpdate(ctx, rel.Envelope)
			w.client.WriteChunk(ctx, res.Set, 0, 0, rel.Image[:1000])
			return w.client.WriteChunk(ctx, res.Set, 0, 999, rel.Image[999:1500])
		}, ipc.ErrOutOfRange},
		{"chunk past the declared size", func(w *world) error {
			rel := w.release(boot.Normal, 2)
			res, _ := w.client.StartUpdate(ctx, rel.Envelope)
			return w.client.WriteChunk(ctx, res.Set, 0, 0, append(bytes.Clone(rel.Image), 1, 2, 3))
		}, ipc.ErrOutOfRange},
		{"payload that does not match its digest", func(w *world) error {
			rel := w.release(boot.Normal, 2)
			rel.Image = bytes.Clone(rel.Image)
			rel.Image[100] ^= 1
			return w.update(rel)
		}, ipc.ErrRejected},
		{"install before finish", func(w *world) error {
			rel := w.release(boot.Normal, 2)
			res, _ := w.client.StartUpdate(ctx, rel.Envelope)
			return w.client.Install(ctx, res.Set)
		}, ipc.ErrBadState},
		{"accept with no trial", func(w *world) error { return w.client.Accept(ctx) }, ipc.ErrBadState},
		{"oversize frame", func(w *world) error {
			// Below the client: a raw frame that claims 64 MiB.
			normal, secure := ipctest.Pipe()
			done := make(chan error, 1)
			svc := w.kit.Service()
			go func() { done <- ipc.Serve(ctx, secure, &service.Handler{FWU: svc}) }()
			var hdr [4]byte
			binary.BigEndian.PutUint32(hdr[:], 64<<20)
			go func() { normal.Write(hdr[:]); normal.Write(make([]byte, 1024)) }()
			err := <-done
			normal.Close()
			return err
		}, ipc.ErrProtocol},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			if err := tc.attack(w); !errors.Is(err, tc.want) {
				t.Fatalf("attack met %v, want %v", err, tc.want)
			}
			infos, err := w.client.Query(ctx)
			if err != nil {
				t.Fatal(err)
			}
			seq := infos[1].SequenceNumber
			res := w.boot()
			if res.Trial || res.Images[1].SequenceNumber != seq {
				t.Fatalf("after the attack the device boots normal %d (trial %v), want %d", res.Images[1].SequenceNumber, res.Trial, seq)
			}
			if err := w.update(w.release(boot.Normal, seq+5)); err != nil {
				t.Fatalf("honest update after the attack: %v", err)
			}
			if res := w.boot(); res.Images[1].SequenceNumber != seq+5 || !res.Trial {
				t.Fatalf("honest update boots %d", res.Images[1].SequenceNumber)
			}
		})
	}
}

// TestNoKeyCrossesIPC: across a whole update, the bytes that crossed the
// channel hold none of the device's private keys.
func TestNoKeyCrossesIPC(t *testing.T) {
	w := newWorld(t)
	if err := w.update(w.release(boot.Secure, 2)); err != nil {
		t.Fatal(err)
	}
	w.client.Query(context.Background())
	for _, name := range []string{"author.pem", "operator.pem"} {
		raw, err := os.ReadFile(filepath.Join(w.dir, "dev-keys", name))
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(raw)
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		ec, ok := key.(*ecdsa.PrivateKey)
		if !ok {
			t.Fatalf("%s is a %T", name, key)
		}
		scalar, err := ec.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range [][]byte{block.Bytes, scalar} {
			if w.rec.Crossed(secret) {
				t.Errorf("%s crossed the channel", name)
			}
		}
	}
	if !w.rec.Crossed(w.release(boot.Secure, 2).Image[:64]) {
		t.Error("the recorder saw no payload: it records nothing")
	}
}

// TestTAOverIPC installs a TA with encrypted personalization over the
// recorded channel: the plaintext never crosses it, while the secure
// storage holds it; a replay, an altered envelope and another device's
// bytes are refused with the store untouched.
func TestTAOverIPC(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	st, err := w.kit.Dev.OpenStore()
	if err != nil {
		t.Fatal(err)
	}
	v1, err := taEnvelope(w.kit.Signers.TAAuthors["acme"], st, 1)
	if err != nil {
		t.Fatal(err)
	}
	install := func(env []byte) error {
		res, err := w.client.StartUpdate(ctx, env)
		if err != nil {
			return err
		}
		return w.client.Install(ctx, res.Set)
	}
	if err := install(v1); err != nil {
		t.Fatal(err)
	}
	if !w.rec.Crossed([]byte("hello TA")) {
		t.Fatal("the recording does not hold the TA that crossed")
	}
	if w.rec.Crossed([]byte("PLAINTEXT-PERSONALIZATION")) || w.rec.Crossed([]byte("PLAINTEXT")) {
		t.Fatal("the plaintext personalization crossed ipc")
	}
	dk, _ := st.DeviceKeys()
	if w.rec.Crossed(dk.Agreement.Bytes()) {
		t.Fatal("the device key crossed ipc")
	}
	st, _ = w.kit.Dev.OpenStore()
	if tas := st.TAs(); len(tas) != 1 || string(tas[0].Personalization) != "PLAINTEXT-PERSONALIZATION" {
		t.Fatalf("the store holds %+v", tas)
	}
	v2, _ := taEnvelope(w.kit.Signers.TAAuthors["acme"], st, 2)
	altered := bytes.Clone(v2)
	altered[len(altered)-40] ^= 1
	for name, env := range map[string][]byte{"altered": altered, "truncated": v2[:len(v2)-1]} {
		if err := install(env); !errors.Is(err, ipc.ErrRejected) {
			t.Errorf("%s: %v, want ErrRejected", name, err)
		}
	}
	if err := install(v2); err != nil {
		t.Fatal(err)
	}
	if err := install(v1); !errors.Is(err, ipc.ErrRejected) {
		t.Errorf("replayed v1: %v, want ErrRejected", err)
	}
	st, _ = w.kit.Dev.OpenStore()
	if tas := st.TAs(); len(tas) != 1 || tas[0].SequenceNumber != 2 {
		t.Fatalf("after the refusals the store holds %+v", tas)
	}
}
