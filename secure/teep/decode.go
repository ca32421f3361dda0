package teep

import (
	"github.com/fxamacker/cbor/v2"
)

// frame is a message split into its framework (teep-message-framework):
// the type number, the options map, all elements kept encoded.
type frame struct {
	wireType uint64
	elems    []cbor.RawMessage
	opts     map[uint64]cbor.RawMessage
}

func parseFrame(data []byte) (*frame, error) {
	if len(data) > MaxMessageSize {
		return nil, wrapf(ErrLimit, "message of %d bytes, at most %d", len(data), MaxMessageSize)
	}
	// One pass over the whole item with the strict mode, so that a
	// duplicate key or an indefinite length anywhere is refused, also in
	// the values kept encoded (tc-list claims, extensions).
	var whole any
	if err := decMode.Unmarshal(data, &whole); err != nil {
		return nil, cborError("message", err)
	}
	elems, err := readArray(data, 5, "message")
	if err != nil {
		return nil, err
	}
	if len(elems) < 2 {
		return nil, malformed("message of %d elements", len(elems))
	}
	f := &frame{elems: elems}
	if f.wireType, err = readUint(elems[0], "type"); err != nil {
		return nil, err
	}
	// teep-option = (uint => any): a label of another type is malformed.
	if f.opts, err = readUintMap(elems[1], "options"); err != nil {
		return nil, err
	}
	return f, nil
}

// arityOK reports whether a message of type t may have n elements.
func arityOK(t MessageType, n int) bool {
	switch t {
	case TypeQueryRequest:
		return n >= 3 && n <= 5
	case TypeError:
		return n == 3
	}
	return n == 2
}

// fits reports whether f reads as a message in numbering n, and how many
// of its options are ones n defines for its type (the evidence for n): a
// type n does not have, the wrong number of elements, or a defined label
// whose value has the wrong major type rule n out.
func (f *frame) fits(n Numbering) (score int, ok bool) {
	t, ok := n.messageType(f.wireType)
	if !ok || !arityOK(t, len(f.elems)) {
		return 0, false
	}
	draft08 := t == TypeQueryRequest && len(f.elems) == 3
	for l, raw := range f.opts {
		fl := n.field(l)
		if fl == 0 || !defines(t, fl, draft08) || uintToken(n, fl, raw) {
			continue
		}
		if major(raw) != fieldMajor[fl] {
			return 0, false
		}
		score++
	}
	return score, true
}

// Decode reads a TEEP message in whichever numbering it is in and says
// which. The numbering is decided as follows:
//   - the type settles it where the numberings differ: 4 is a draft-26
//     Success, 6 a legacy Error, and 5 a draft-26 Error when it has three
//     elements (it carries an err-code) but a legacy Success when it has
//     two;
//   - otherwise (types 1..3) a numbering is ruled out when one of the
//     message's labels is an option it defines for the type with a value
//     of the wrong CBOR type (token 19 is a bstr in draft-26, suit-reports
//     19 an array in legacy), and of the numberings left the one that
//     reads more of the labels as defined options wins;
//   - a message both read alike (no labels, or only labels 1..4, which
//     are the same in both) is ambiguous: it is read in prefer, the
//     numbering the caller uses with this peer (Draft26 when it has no
//     other knowledge).
func Decode(data []byte, prefer Numbering) (Message, Numbering, error) {
	if !prefer.valid() {
		prefer = Draft26
	}
	f, err := parseFrame(data)
	if err != nil {
		return nil, prefer, err
	}
	other := Legacy
	if prefer == Legacy {
		other = Draft26
	}
	sp, okp := f.fits(prefer)
	so, oko := f.fits(other)
	n := prefer
	switch {
	case oko && (!okp || so > sp):
		n = other
	case !okp && !oko:
		// Neither fits: report the error of the numbering that has the type.
		if _, has := prefer.messageType(f.wireType); !has {
			if _, has := other.messageType(f.wireType); has {
				n = other
			}
		}
	}
	m, err := f.decodeIn(n)
	return m, n, err
}

// DecodeAs reads a TEEP message in numbering n, the one a peer is known to
// use.
func DecodeAs(data []byte, n Numbering) (Message, error) {
	if !n.valid() {
		return nil, wrapf(ErrNumbering, "numbering %d", n)
	}
	f, err := parseFrame(data)
	if err != nil {
		return nil, err
	}
	return f.decodeIn(n)
}

// uintToken reports whether raw is a token of drafts up to 06, which were
// integers. Such a token reads as no token: it is kept as an extension
// (and re-encodes as it came) but never echoed, since a token now is 8 to
// 64 bytes. It neither rules a numbering out nor counts for one.
func uintToken(n Numbering, fl field, raw []byte) bool {
	return n == Legacy && fl == fToken && major(raw) == majorUint
}

// optionSet is a message's options split into the ones its type defines
// (by field) and extensions (by label).
type optionSet struct {
	n      Numbering
	fields map[field]cbor.RawMessage
	ext    map[uint64]cbor.RawMessage
}

func (f *frame) options(n Numbering, t MessageType) optionSet {
	s := optionSet{n: n, fields: map[field]cbor.RawMessage{}}
	draft08 := t == TypeQueryRequest && len(f.elems) == 3
	for l, raw := range f.opts {
		fl := n.field(l)
		if fl == 0 || !defines(t, fl, draft08) || uintToken(n, fl, raw) {
			if s.ext == nil {
				s.ext = map[uint64]cbor.RawMessage{}
			}
			s.ext[l] = raw
			continue
		}
		s.fields[fl] = raw
	}
	return s
}

func (f *frame) decodeIn(n Numbering) (Message, error) {
	t, ok := n.messageType(f.wireType)
	if !ok {
		return nil, wrapf(ErrUnknownType, "type %d in the %s numbering", f.wireType, n)
	}
	if !arityOK(t, len(f.elems)) {
		return nil, malformed("%s of %d elements", t, len(f.elems))
	}
	o := f.options(n, t)
	switch t {
	case TypeQueryRequest:
		return f.queryRequest(o)
	case TypeQueryResponse:
		return o.queryResponse()
	case TypeUpdate:
		return o.update()
	case TypeSuccess:
		return o.success()
	default:
		return f.errorMessage(o)
	}
}

// The options' readers: each reads the option if present and leaves the
// destination zero (nil) if not.

func (o optionSet) bytes(fl field, dst *[]byte, minLen, maxLen int, what string) error {
	raw, ok := o.fields[fl]
	if !ok {
		return nil
	}
	b, err := readBytes(raw, minLen, maxLen, what)
	*dst = b
	return err
}

func (o optionSet) text(fl field, dst *string, minLen, maxLen int, what string) error {
	raw, ok := o.fields[fl]
	if !ok {
		return nil
	}
	s, err := readText(raw, minLen, maxLen, what)
	*dst = s
	return err
}

func (o optionSet) uints(fl field, dst *[]uint64, maxLen int, what string) error {
	raw, ok := o.fields[fl]
	if !ok {
		return nil
	}
	v, err := readUintList(raw, maxLen, what)
	*dst = v
	return err
}

func (o optionSet) reports(dst *[][]byte) error {
	raw, ok := o.fields[fSUITReports]
	if !ok {
		return nil
	}
	v, err := readCBORBytesList(raw, MaxSUITReports, "suit-reports")
	*dst = v
	return err
}

func (o optionSet) token(dst *[]byte) error {
	return o.bytes(fToken, dst, MinTokenSize, MaxTokenSize, "token")
}

func (o optionSet) challenge(dst *[]byte) error {
	return o.bytes(fChallenge, dst, MinChallengeSize, MaxChallengeSize, "challenge")
}

func (o optionSet) attestation(format *string, payload *[]byte) error {
	if err := o.text(fAttPayloadFormat, format, 1, MaxMsgSize, "attestation-payload-format"); err != nil {
		return err
	}
	return o.bytes(fAttPayload, payload, 0, MaxMessageSize, "attestation-payload")
}

func (o optionSet) unneeded(dst *[]ComponentID) error {
	raw, ok := o.fields[fUnneededManifests]
	if !ok {
		return nil
	}
	v, err := readComponentIDs(raw, "unneeded-manifest-list")
	*dst = v
	return err
}

// all runs the readers in order and returns the first error.
func all(steps ...error) error {
	for _, err := range steps {
		if err != nil {
			return err
		}
	}
	return nil
}

func (f *frame) queryRequest(o optionSet) (*QueryRequest, error) {
	m := &QueryRequest{Extensions: o.ext}
	err := all(
		o.token(&m.Token),
		o.uints(fFreshness, &m.FreshnessMechanisms, MaxVersions, "supported-freshness-mechanisms"),
		o.challenge(&m.Challenge),
		o.uints(fVersions, &m.Versions, MaxVersions, "versions"),
		o.attestation(&m.AttestationPayloadFormat, &m.AttestationPayload),
		o.reports(&m.SUITReports),
	)
	if err != nil {
		return nil, err
	}
	var suites, items cbor.RawMessage
	switch len(f.elems) {
	case 5:
		m.Shape = ShapeCurrent
		suites, items = f.elems[2], f.elems[4]
		if m.SUITCOSEProfiles, err = readProfiles(f.elems[3], "supported-suit-cose-profiles"); err != nil {
			return nil, err
		}
	case 4:
		m.Shape = ShapeNoProfiles
		suites, items = f.elems[2], f.elems[3]
	default:
		m.Shape = ShapeDraft08
		suites, items = o.fields[fCipherSuites], f.elems[2]
		if suites == nil {
			return nil, wrapf(ErrMissing, "QueryRequest without cipher suites")
		}
	}
	if m.CipherSuites, err = readCipherSuites(suites, "supported-teep-cipher-suites"); err != nil {
		return nil, err
	}
	v, err := readUint(items, "data-item-requested")
	if err != nil {
		return nil, err
	}
	m.DataItems = DataItems(v)
	return m, nil
}

func (o optionSet) queryResponse() (*QueryResponse, error) {
	m := &QueryResponse{Extensions: o.ext}
	err := all(
		o.token(&m.Token),
		o.attestation(&m.AttestationPayloadFormat, &m.AttestationPayload),
		o.reports(&m.SUITReports),
		o.unneeded(&m.UnneededManifests),
		o.uints(fExtList, &m.ExtList, MaxVersions, "ext-list"),
	)
	if err != nil {
		return nil, err
	}
	if raw, ok := o.fields[fSelectedVersion]; ok {
		v, err := readUint(raw, "selected-version")
		if err != nil {
			return nil, err
		}
		m.SelectedVersion = &v
	}
	if raw, ok := o.fields[fTCList]; ok {
		if m.TCList, err = readArray(raw, MaxTCs, "tc-list"); err != nil {
			return nil, err
		}
		for _, c := range m.TCList {
			if err := expect(c, majorMap, "tc-list entry"); err != nil {
				return nil, err
			}
		}
	}
	if raw, ok := o.fields[fRequestedTCList]; ok {
		if m.RequestedTCList, err = readRequestedTCs(raw, o.n); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (o optionSet) update() (*Update, error) {
	m := &Update{Extensions: o.ext}
	err := all(
		o.token(&m.Token),
		o.unneeded(&m.UnneededManifests),
		o.attestation(&m.AttestationPayloadFormat, &m.AttestationPayload),
		o.text(fErrMsg, &m.ErrMsg, 1, MaxMsgSize, "err-msg"),
		o.text(fErrLang, &m.ErrLang, 1, MaxLangSize, "err-lang"),
	)
	if err != nil {
		return nil, err
	}
	if raw, ok := o.fields[fManifestList]; ok {
		if m.Manifests, err = readManifests(raw); err != nil {
			return nil, err
		}
	}
	if raw, ok := o.fields[fErrCode]; ok {
		c, err := readErrCode(raw, o.n)
		if err != nil {
			return nil, err
		}
		m.ErrCode = &c
	}
	return m, nil
}

func (o optionSet) success() (*Success, error) {
	m := &Success{Extensions: o.ext}
	err := all(
		o.token(&m.Token),
		o.text(fMsg, &m.Msg, 1, MaxMsgSize, "msg"),
		o.reports(&m.SUITReports),
	)
	if err != nil {
		return nil, err
	}
	return m, nil
}

func (f *frame) errorMessage(o optionSet) (*Error, error) {
	m := &Error{Extensions: o.ext}
	err := all(
		o.token(&m.Token),
		o.text(fErrMsg, &m.ErrMsg, 1, MaxMsgSize, "err-msg"),
		o.text(fErrLang, &m.ErrLang, 1, MaxLangSize, "err-lang"),
		o.uints(fFreshness, &m.FreshnessMechanisms, MaxVersions, "supported-freshness-mechanisms"),
		o.challenge(&m.Challenge),
		o.uints(fVersions, &m.Versions, MaxVersions, "versions"),
		o.reports(&m.SUITReports),
	)
	if err != nil {
		return nil, err
	}
	if raw, ok := o.fields[fCipherSuites]; ok {
		if m.CipherSuites, err = readCipherSuites(raw, "supported-teep-cipher-suites"); err != nil {
			return nil, err
		}
	}
	if raw, ok := o.fields[fProfiles]; ok {
		if m.SUITCOSEProfiles, err = readProfiles(raw, "supported-suit-cose-profiles"); err != nil {
			return nil, err
		}
	}
	if m.Code, err = readErrCode(f.elems[2], o.n); err != nil {
		return nil, err
	}
	return m, nil
}

func readErrCode(raw []byte, n Numbering) (ErrCode, error) {
	w, err := readUint(raw, "err-code")
	if err != nil {
		return 0, err
	}
	if w > MaxErrCode {
		return 0, wrapf(ErrLimit, "err-code %d", w)
	}
	return errCodeOf(w, n), nil
}
