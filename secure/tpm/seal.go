package tpm

import (
	"encoding/binary"
	"fmt"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport"
)

// The storage primary key is derived from the owner seed each time it is
// needed, so it is the same key after every restart for as long as the
// owner hierarchy is not cleared, and nothing of it is kept outside the TPM.
func storagePrimary(tr transport.TPM) (primary, func(), error) {
	rsp, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.TPMRHOwner,
		InPublic:      tpm2.New2B(tpm2.ECCSRKTemplate),
	}.Execute(tr)
	if err != nil {
		return primary{}, nil, fmt.Errorf("storage primary key: %w", err)
	}
	pub, err := rsp.OutPublic.Contents()
	if err != nil {
		tpm2.FlushContext{FlushHandle: rsp.ObjectHandle}.Execute(tr)
		return primary{}, nil, fmt.Errorf("storage primary key: %w", err)
	}
	flush := func() { tpm2.FlushContext{FlushHandle: rsp.ObjectHandle}.Execute(tr) }
	return primary{tpm2.NamedHandle{Handle: rsp.ObjectHandle, Name: rsp.Name}, *pub}, flush, nil
}

// primary is the storage primary key: its handle and its public area.
type primary struct {
	tpm2.NamedHandle
	public tpm2.TPMTPublic
}

// encrypted is a one-use session, salted with the storage primary key,
// that encrypts the first parameter of a command (in) or of its response
// (out) under AES-128: a secret crosses the command interface only in
// that form, so that a bus between the CPU and a discrete TPM never
// carries it in the clear.
func (p primary) encrypted(dir tpm2.AuthOption) tpm2.Session {
	return tpm2.HMAC(tpm2.TPMAlgSHA256, 16, dir, tpm2.Salted(p.Handle, p.public))
}

// Seal binds secret to this TPM: it becomes a sealed-data object under the
// owner's storage primary key, fixed to this TPM and that parent, and the
// returned blob (the object's public and TPM-encrypted private areas) is
// safe to store anywhere. Only Unseal on this TPM recovers the secret.
//
// The secret crosses the command interface encrypted, by a session salted
// with the storage primary key.
func (t *TPM) Seal(secret []byte) ([]byte, error) {
	if len(secret) == 0 || len(secret) > MaxSealed {
		return nil, fmt.Errorf("%w: a sealed secret holds 1 to %d bytes, not %d", ErrInvalidArgument, MaxSealed, len(secret))
	}
	var blob []byte
	err := t.do(func(tr transport.TPM) error {
		parent, flush, err := storagePrimary(tr)
		if err != nil {
			return err
		}
		defer flush()
		rsp, err := tpm2.Create{
			ParentHandle: tpm2.AuthHandle{Handle: parent.Handle, Name: parent.Name,
				Auth: parent.encrypted(tpm2.AESEncryption(128, tpm2.EncryptIn))},
			InSensitive: tpm2.TPM2BSensitiveCreate{Sensitive: &tpm2.TPMSSensitiveCreate{
				Data: tpm2.NewTPMUSensitiveCreate(&tpm2.TPM2BSensitiveData{Buffer: secret}),
			}},
			InPublic: tpm2.New2B(tpm2.TPMTPublic{
				Type:    tpm2.TPMAlgKeyedHash,
				NameAlg: tpm2.TPMAlgSHA256,
				ObjectAttributes: tpm2.TPMAObject{
					FixedTPM: true, FixedParent: true, UserWithAuth: true, NoDA: true,
				},
			}),
		}.Execute(tr)
		if err != nil {
			return fmt.Errorf("seal: %w", err)
		}
		pub, priv := tpm2.Marshal(rsp.OutPublic), tpm2.Marshal(rsp.OutPrivate)
		blob = binary.BigEndian.AppendUint16(nil, uint16(len(pub)))
		blob = append(append(blob, pub...), priv...)
		return nil
	})
	return blob, err
}

// Unseal recovers a secret sealed by Seal on this TPM. A blob that is
// malformed, altered, or sealed by another TPM is refused with
// ErrUnsealFailed. The secret crosses the command interface encrypted, as
// in Seal.
func (t *TPM) Unseal(blob []byte) ([]byte, error) {
	if len(blob) < 2 || len(blob) > MaxSealedBlob || int(binary.BigEndian.Uint16(blob)) > len(blob)-2 {
		return nil, fmt.Errorf("%w: blob of %d bytes is malformed", ErrUnsealFailed, len(blob))
	}
	n := int(binary.BigEndian.Uint16(blob))
	pub, err := tpm2.Unmarshal[tpm2.TPM2BPublic](blob[2 : 2+n])
	if err != nil {
		return nil, fmt.Errorf("%w: public area: %v", ErrUnsealFailed, err)
	}
	priv, err := tpm2.Unmarshal[tpm2.TPM2BPrivate](blob[2+n:])
	if err != nil {
		return nil, fmt.Errorf("%w: private area: %v", ErrUnsealFailed, err)
	}
	var secret []byte
	err = t.do(func(tr transport.TPM) error {
		parent, flush, err := storagePrimary(tr)
		if err != nil {
			return err
		}
		defer flush()
		loaded, err := tpm2.Load{ParentHandle: parent.NamedHandle, InPrivate: *priv, InPublic: *pub}.Execute(tr)
		if err != nil {
			return fmt.Errorf("%w: load: %v", ErrUnsealFailed, err)
		}
		defer tpm2.FlushContext{FlushHandle: loaded.ObjectHandle}.Execute(tr)
		rsp, err := tpm2.Unseal{ItemHandle: tpm2.AuthHandle{Handle: loaded.ObjectHandle, Name: loaded.Name,
			Auth: parent.encrypted(tpm2.AESEncryption(128, tpm2.EncryptOut))}}.Execute(tr)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrUnsealFailed, err)
		}
		secret = rsp.OutData.Buffer
		return nil
	})
	return secret, err
}
