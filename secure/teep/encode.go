package teep

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// Encode encodes m in numbering n, deterministically (core deterministic
// CBOR; options in label order; values kept encoded, such as tc-list
// claims and extensions, as they are). It refuses (ErrEncode) a message
// that DecodeAs would refuse in n, so nothing it emits is malformed; a
// message decoded from canonical bytes re-encodes to the same bytes.
func Encode(m Message, n Numbering) ([]byte, error) {
	if !n.valid() {
		return nil, fmt.Errorf("%w: numbering %d", ErrEncode, n)
	}
	e := encoder{n: n, t: m.Type(), opts: map[uint64]cbor.RawMessage{}}
	var tail []any
	switch m := m.(type) {
	case *QueryRequest:
		e.draft08 = m.Shape == ShapeDraft08
		e.queryRequest(m)
		switch m.Shape {
		case ShapeCurrent:
			tail = []any{suitesValue(m.CipherSuites), profilesValue(m.SUITCOSEProfiles), uint64(m.DataItems)}
		case ShapeNoProfiles:
			tail = []any{suitesValue(m.CipherSuites), uint64(m.DataItems)}
			if m.SUITCOSEProfiles != nil {
				e.fail("a QueryRequest of shape %d has no profiles", m.Shape)
			}
		case ShapeDraft08:
			tail = []any{uint64(m.DataItems)}
			e.put(fCipherSuites, suitesValue(m.CipherSuites))
			if m.SUITCOSEProfiles != nil {
				e.fail("a QueryRequest of shape %d has no profiles", m.Shape)
			}
		default:
			e.fail("QueryRequest shape %d", m.Shape)
		}
	case *QueryResponse:
		e.queryResponse(m)
	case *Update:
		e.update(m)
	case *Success:
		e.bytes(fToken, m.Token)
		e.text(fMsg, m.Msg)
		e.list(fSUITReports, m.SUITReports)
	case *Error:
		e.errorMessage(m)
		tail = []any{m.Code.wire(n)}
	default:
		return nil, fmt.Errorf("%w: message of type %T", ErrEncode, m)
	}
	for l, v := range m.extensions() {
		if fl := n.field(l); fl != 0 && defines(e.t, fl, e.draft08) && !uintToken(n, fl, v) {
			e.fail("extension label %d is the %s option %d", l, n, fl)
		}
		if _, dup := e.opts[l]; dup {
			e.fail("extension label %d is taken", l)
		}
		e.opts[l] = v
	}
	if e.err != nil {
		return nil, e.err
	}
	opts, err := encMode.Marshal(e.opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEncode, err)
	}
	out, err := encMode.Marshal(append([]any{n.wireType(e.t), cbor.RawMessage(opts)}, tail...))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEncode, err)
	}
	if _, err := DecodeAs(out, n); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEncode, err)
	}
	return out, nil
}

type encoder struct {
	n       Numbering
	t       MessageType
	draft08 bool
	opts    map[uint64]cbor.RawMessage
	err     error
}

func (e *encoder) fail(format string, args ...any) {
	if e.err == nil {
		e.err = fmt.Errorf("%w: %s", ErrEncode, fmt.Sprintf(format, args...))
	}
}

func (e *encoder) put(fl field, v any) {
	b, err := encMode.Marshal(v)
	if err != nil {
		e.fail("%v", err)
		return
	}
	e.opts[e.n.label(fl)] = b
}

func (e *encoder) bytes(fl field, b []byte) {
	if b != nil {
		e.put(fl, b)
	}
}

func (e *encoder) text(fl field, s string) {
	if s != "" {
		e.put(fl, s)
	}
}

func (e *encoder) list(fl field, v [][]byte) {
	if v != nil {
		e.put(fl, v)
	}
}

func (e *encoder) uints(fl field, v []uint64) {
	if v != nil {
		e.put(fl, v)
	}
}

func (e *encoder) ids(fl field, v []ComponentID) {
	if v != nil {
		e.put(fl, v)
	}
}

func (e *encoder) queryRequest(m *QueryRequest) {
	e.bytes(fToken, m.Token)
	e.uints(fFreshness, m.FreshnessMechanisms)
	e.bytes(fChallenge, m.Challenge)
	e.uints(fVersions, m.Versions)
	e.text(fAttPayloadFormat, m.AttestationPayloadFormat)
	e.bytes(fAttPayload, m.AttestationPayload)
	e.list(fSUITReports, m.SUITReports)
}

func (e *encoder) queryResponse(m *QueryResponse) {
	e.bytes(fToken, m.Token)
	if m.SelectedVersion != nil {
		e.put(fSelectedVersion, *m.SelectedVersion)
	}
	e.text(fAttPayloadFormat, m.AttestationPayloadFormat)
	e.bytes(fAttPayload, m.AttestationPayload)
	e.list(fSUITReports, m.SUITReports)
	if m.TCList != nil {
		e.put(fTCList, m.TCList)
	}
	if m.RequestedTCList != nil {
		tcs := make([]map[uint64]any, len(m.RequestedTCList))
		for i, tc := range m.RequestedTCList {
			v := map[uint64]any{e.n.label(fComponentID): tc.ComponentID}
			if tc.SequenceNumber != nil {
				v[e.n.label(fSequenceNumber)] = *tc.SequenceNumber
			}
			if tc.HaveBinary != nil {
				v[e.n.label(fHaveBinary)] = *tc.HaveBinary
			}
			tcs[i] = v
		}
		e.put(fRequestedTCList, tcs)
	}
	e.ids(fUnneededManifests, m.UnneededManifests)
	e.uints(fExtList, m.ExtList)
}

func (e *encoder) update(m *Update) {
	e.bytes(fToken, m.Token)
	e.ids(fUnneededManifests, m.UnneededManifests)
	if m.Manifests != nil {
		list := make([][]byte, len(m.Manifests))
		for i, mf := range m.Manifests {
			if mf.Tagged {
				list[i] = append(append([]byte{}, suitEnvelopeTag...), mf.Envelope...)
			} else {
				list[i] = mf.Envelope
			}
		}
		e.put(fManifestList, list)
	}
	e.text(fAttPayloadFormat, m.AttestationPayloadFormat)
	e.bytes(fAttPayload, m.AttestationPayload)
	if m.ErrCode != nil {
		e.put(fErrCode, m.ErrCode.wire(e.n))
	}
	e.text(fErrMsg, m.ErrMsg)
	e.text(fErrLang, m.ErrLang)
}

func (e *encoder) errorMessage(m *Error) {
	e.bytes(fToken, m.Token)
	e.text(fErrMsg, m.ErrMsg)
	e.text(fErrLang, m.ErrLang)
	if m.CipherSuites != nil {
		e.put(fCipherSuites, suitesValue(m.CipherSuites))
	}
	e.uints(fFreshness, m.FreshnessMechanisms)
	if m.SUITCOSEProfiles != nil {
		e.put(fProfiles, profilesValue(m.SUITCOSEProfiles))
	}
	e.bytes(fChallenge, m.Challenge)
	e.uints(fVersions, m.Versions)
	e.list(fSUITReports, m.SUITReports)
}

// suitesValue is the wire form of cipher suites, each in its shape. A
// triple whose operations do not fit one is written as operations, and
// decoding refuses what is wrong with it.
func suitesValue(suites []CipherSuite) []any {
	out := make([]any, len(suites))
	for i, s := range suites {
		if s.Triple {
			if t, ok := tripleOf(s); ok {
				out[i] = t
				continue
			}
		}
		ops := make([][2]int64, len(s.Ops))
		for j, op := range s.Ops {
			ops[j] = [2]int64{op.COSEType, op.Alg}
		}
		out[i] = ops
	}
	return out
}

// tripleOf is the draft-08 [sign, encrypt, mac] form of s.
func tripleOf(s CipherSuite) ([3]any, bool) {
	var sign, encrypt, mac any
	for _, op := range s.Ops {
		var slot *any
		switch op.COSEType {
		case COSESign1:
			slot = &sign
		case COSEEncrypt0:
			slot = &encrypt
		case COSEMac0:
			slot = &mac
		default:
			return [3]any{}, false
		}
		if *slot != nil {
			return [3]any{}, false
		}
		*slot = op.Alg
	}
	return [3]any{sign, encrypt, mac}, true
}

func profilesValue(ps []SUITCOSEProfile) [][]int64 {
	out := make([][]int64, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}
