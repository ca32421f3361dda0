package service_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/teeup/teeup/emulator/device/devicetest"
	"github.com/teeup/teeup/ipc"
	"github.com/teeup/teeup/ipc/ipctest"
	"github.com/teeup/teeup/secure/boot"
	"github.com/teeup/teeup/secure/service"
	"github.com/teeup/teeup/secure/storage"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/author"
	"github.com/teeup/teeup/secure/ta"
	"github.com/teeup/teeup/secure/teep"
)

// taEnvelope is a TA with an integrated image and personalization data
// encrypted for the device, signed by its author.
func taEnvelope(acme *suit.SigningKey, st *storage.Store, seq uint64) ([]byte, error) {
	dk, err := st.DeviceKeys()
	if err != nil {
		return nil, err
	}
	id := suit.ComponentID{[]byte("TA"), []byte("acme"), []byte("hello")}
	env, err := author.Build(&author.Manifest{SequenceNumber: seq, VendorID: devicetest.VendorID, ClassID: devicetest.ClassID,
		Components: []author.Component{
			{ID: id, Payload: []byte("hello TA"), Integrate: true, Name: "ta"},
			{ID: append(id, []byte(ta.PersonalizationSuffix)), Payload: []byte("PLAINTEXT-PERSONALIZATION"), Write: true,
				Encrypt: &author.EncryptSpec{RecipientKey: dk.Agreement.PublicKey()}},
		}})
	if err != nil {
		return nil, err
	}
	if err := env.Sign(acme); err != nil {
		return nil, err
	}
	return env.Encode(), nil
}

func frame(body []byte) []byte {
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(body)))
	return append(hdr[:], body...)
}

// FuzzSecureDispatcher feeds fuzzed request streams, after a valid hello,
// to the real secure world (update service, TEEP Agent, bootloader,
// flash, TPM). No input may panic it or keep it from answering; state may
// change, as a hostile normal world would change it.
func FuzzSecureDispatcher(f *testing.F) {
	tamKey, err := suit.GenerateSigningKey(suit.AlgESP256)
	if err != nil {
		f.Fatal(err)
	}
	tamPub, err := tamKey.Public()
	if err != nil {
		f.Fatal(err)
	}
	kit := devicetest.NewWithTAMs(f, testLayout, tamPub)
	store, err := kit.Dev.OpenStore()
	if err != nil {
		f.Fatal(err)
	}
	taEnv, err := taEnvelope(kit.Signers.TAAuthors["acme"], store, 1)
	if err != nil {
		f.Fatal(err)
	}
	rel := kit.Release(boot.Normal, 2, 1500)
	token := bytes.Repeat([]byte{7}, 16)
	signed := func(m teep.Message) []byte {
		b, err := teep.Sign(m, teep.Draft26, tamKey)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	query := signed(&teep.QueryRequest{Token: token, Challenge: bytes.Repeat([]byte{9}, 32), CipherSuites: []teep.CipherSuite{teep.SuiteESP256},
		SUITCOSEProfiles: []teep.SUITCOSEProfile{}, DataItems: teep.DataAttestation | teep.DataTrustedComponents})
	type req struct {
		op   ipc.Op
		args any
	}
	for _, reqs := range [][]req{
		{{ipc.OpQuery, ipc.QueryArgs{}}},
		{{ipc.OpStartUpdate, ipc.StartUpdateArgs{Envelope: rel.Envelope}}, {ipc.OpWriteChunk, ipc.WriteChunkArgs{Set: 1, Payload: 0, Data: rel.Image[:700]}},
			{ipc.OpWriteChunk, ipc.WriteChunkArgs{Set: 1, Payload: 0, Offset: 700, Data: rel.Image[700:]}},
			{ipc.OpFinish, ipc.FinishArgs{Set: 1}}, {ipc.OpInstall, ipc.InstallArgs{Set: 1}}},
		{{ipc.OpAccept, ipc.AcceptArgs{}}, {ipc.OpReject, ipc.RejectArgs{}}, {ipc.OpGetEvidence, ipc.GetEvidenceArgs{Nonce: []byte("n")}}},
		// A set abandoned half way, then the status.
		{{ipc.OpStartUpdate, ipc.StartUpdateArgs{Envelope: rel.Envelope}}, {ipc.OpWriteChunk, ipc.WriteChunkArgs{Set: 1, Payload: 0, Data: rel.Image[:700]}},
			{ipc.OpCancel, ipc.CancelArgs{Set: 1}}, {ipc.OpClean, ipc.CleanArgs{}}, {ipc.OpDeviceStatus, ipc.DeviceStatusArgs{}}},
		{{ipc.OpStartUpdate, ipc.StartUpdateArgs{Envelope: taEnv}}, {ipc.OpInstall, ipc.InstallArgs{Set: 1}}, {ipc.OpQuery, ipc.QueryArgs{}}},
		// The image through the shared region, which holds it.
		{{ipc.OpStartUpdate, ipc.StartUpdateArgs{Envelope: rel.Envelope}}, {ipc.OpWriteShared, ipc.WriteSharedArgs{Set: 1, Length: 700}},
			{ipc.OpWriteShared, ipc.WriteSharedArgs{Set: 1, Offset: 700, Start: 700, Length: uint32(len(rel.Image) - 700)}},
			{ipc.OpFinish, ipc.FinishArgs{Set: 1}}, {ipc.OpInstall, ipc.InstallArgs{Set: 1}}},
		// A TEEP session: the Agent's query, an Update of the TA and of
		// the normal image (whose payload is written), continue.
		{{ipc.OpRelayTEEP, ipc.RelayTEEPArgs{Message: query}},
			{ipc.OpRelayTEEP, ipc.RelayTEEPArgs{Message: signed(&teep.Update{Token: token, Manifests: []teep.Manifest{{Envelope: taEnv}}})}},
			{ipc.OpRelayTEEP, ipc.RelayTEEPArgs{Message: []byte{}}}},
		{{ipc.OpRelayTEEP, ipc.RelayTEEPArgs{Message: query}},
			{ipc.OpRelayTEEP, ipc.RelayTEEPArgs{Message: signed(&teep.Update{Token: token, Manifests: []teep.Manifest{{Envelope: rel.Envelope}}})}},
			{ipc.OpWriteChunk, ipc.WriteChunkArgs{Set: 1, Payload: 0, Data: rel.Image}}, {ipc.OpFinish, ipc.FinishArgs{Set: 1}},
			{ipc.OpRelayTEEP, ipc.RelayTEEPArgs{Message: []byte{}}}},
	} {
		var stream []byte
		for i, a := range reqs {
			body, err := ipc.EncodeRequest(&ipc.Request{Version: ipc.ProtocolVersion, ID: uint64(i + 1), Op: a.op, Args: a.args})
			if err != nil {
				f.Fatal(err)
			}
			stream = append(stream, frame(body)...)
		}
		f.Add(stream)
	}
	hello, err := ipc.EncodeHello(&ipc.Hello{Version: ipc.ProtocolVersion, Role: ipc.RoleNormal})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		normal, secure := ipctest.Pipe()
		svc, err := kit.Dev.Service()
		if err != nil {
			t.Fatal(err)
		}
		ev, err := kit.Dev.Secure.Evidence()
		if err != nil {
			t.Fatal(err)
		}
		agent, err := kit.Dev.Secure.Agent(svc, ev)
		if err != nil {
			t.Fatal(err)
		}
		// A shared region that holds the image, as the normal world
		// would have written it there.
		mem := make([]byte, 2*len(rel.Image))
		copy(mem, rel.Image)
		shared := ipc.NewSharedFrom(mem)
		done := make(chan error, 1)
		go func() {
			done <- ipc.ServeShared(context.Background(), secure, &service.Handler{FWU: svc, Boot: kit.Dev.Boot, Store: store, Attest: ev, Agent: agent}, shared)
		}()
		go io.Copy(io.Discard, normal) // answers are not checked, only that they come
		// The secure world may stop reading mid-stream (a framing error
		// ends the session): write from a goroutine that closing unblocks.
		go func() {
			normal.Write(append(frame(hello), stream...))
			normal.Close()
		}()
		select {
		case <-done:
			normal.Close()
		case <-time.After(10 * time.Second):
			t.Fatal("the secure world did not finish a session of fuzzed requests")
		}
	})
}
