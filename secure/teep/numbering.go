package teep

// Numbering is a TEEP codepoint numbering. The registries were renumbered
// on 2026-02-18 (teep-protocol PR #420); IANA uses the new numbers.
type Numbering uint8

const (
	// Draft26 is the numbering of draft-ietf-teep-protocol-26 and IANA:
	// success 4, error 5, option labels 5..22 after the first four.
	Draft26 Numbering = iota
	// Legacy is the numbering of every draft up to 25 (and libteep, and
	// every Agent deployed before 2026): success 5, error 6, labels one
	// higher from selected-version (6) to err-code (23), and
	// ERR_MANIFEST_PROCESSING_FAILED 17.
	Legacy
)

func (n Numbering) String() string {
	switch n {
	case Draft26:
		return "draft-26"
	case Legacy:
		return "legacy"
	}
	return "numbering(?)"
}

func (n Numbering) valid() bool { return n == Draft26 || n == Legacy }

// MessageType is the kind of a TEEP message, as draft-26 numbers it.
type MessageType uint8

// The message types, with their draft-26 numbers.
const (
	TypeQueryRequest  MessageType = 1
	TypeQueryResponse MessageType = 2
	TypeUpdate        MessageType = 3
	TypeSuccess       MessageType = 4
	TypeError         MessageType = 5
)

func (t MessageType) String() string {
	switch t {
	case TypeQueryRequest:
		return "QueryRequest"
	case TypeQueryResponse:
		return "QueryResponse"
	case TypeUpdate:
		return "Update"
	case TypeSuccess:
		return "Success"
	case TypeError:
		return "Error"
	}
	return "MessageType(?)"
}

// wireType is t's type number in n.
func (n Numbering) wireType(t MessageType) uint64 {
	if n == Legacy && (t == TypeSuccess || t == TypeError) {
		return uint64(t) + 1
	}
	return uint64(t)
}

// messageType is the message type of wire type w in n.
func (n Numbering) messageType(w uint64) (MessageType, bool) {
	switch {
	case w >= 1 && w <= 3:
		return MessageType(w), true
	case n == Draft26 && (w == 4 || w == 5):
		return MessageType(w), true
	case n == Legacy && (w == 5 || w == 6):
		return MessageType(w - 1), true
	}
	return 0, false
}

// field is a TEEP option (or requested-tc-info key). Its value is its
// draft-26 label.
type field uint64

const (
	fCipherSuites      field = 1
	fChallenge         field = 2
	fVersions          field = 3
	fProfiles          field = 4
	fSelectedVersion   field = 5
	fAttPayload        field = 6
	fTCList            field = 7
	fExtList           field = 8
	fManifestList      field = 9
	fMsg               field = 10
	fErrMsg            field = 11
	fAttPayloadFormat  field = 12
	fRequestedTCList   field = 13
	fUnneededManifests field = 14
	fComponentID       field = 15
	fSequenceNumber    field = 16
	fHaveBinary        field = 17
	fSUITReports       field = 18
	fToken             field = 19
	fFreshness         field = 20
	fErrLang           field = 21
	fErrCode           field = 22
)

// label is f's label in n: labels 1..4 are the same in both, the others
// one higher in Legacy.
func (n Numbering) label(f field) uint64 {
	if n == Legacy && f > fProfiles {
		return uint64(f) + 1
	}
	return uint64(f)
}

// field is the field with label l in n, 0 when n defines none (Legacy
// has no label 5).
func (n Numbering) field(l uint64) field {
	if l <= uint64(fProfiles) {
		return field(l)
	}
	if n == Legacy {
		l--
		if l <= uint64(fProfiles) {
			return 0
		}
	}
	if l > uint64(fErrCode) {
		return 0
	}
	return field(l)
}

// CBOR major types.
const (
	majorUint  = 0
	majorNeg   = 1
	majorBytes = 2
	majorText  = 3
	majorArray = 4
	majorMap   = 5
	majorTag   = 6
	majorOther = 7
)

// fieldMajor is the major type of each option's value.
var fieldMajor = map[field]byte{
	fCipherSuites: majorArray, fChallenge: majorBytes, fVersions: majorArray,
	fProfiles: majorArray, fSelectedVersion: majorUint, fAttPayload: majorBytes,
	fTCList: majorArray, fExtList: majorArray, fManifestList: majorArray,
	fMsg: majorText, fErrMsg: majorText, fAttPayloadFormat: majorText,
	fRequestedTCList: majorArray, fUnneededManifests: majorArray,
	fSUITReports: majorArray, fToken: majorBytes, fFreshness: majorArray,
	fErrLang: majorText, fErrCode: majorUint,
}

// options lists the options each message type defines (the CDDL); any
// other uint label is an extension ($$teep-option-extensions).
var options = map[MessageType][]field{
	TypeQueryRequest: {fToken, fFreshness, fChallenge, fVersions,
		fAttPayloadFormat, fAttPayload, fSUITReports},
	TypeQueryResponse: {fToken, fSelectedVersion, fAttPayloadFormat, fAttPayload,
		fSUITReports, fTCList, fRequestedTCList, fUnneededManifests, fExtList},
	TypeUpdate: {fToken, fUnneededManifests, fManifestList, fAttPayloadFormat,
		fAttPayload, fErrCode, fErrMsg, fErrLang},
	TypeSuccess: {fToken, fMsg, fSUITReports},
	TypeError: {fToken, fErrMsg, fErrLang, fCipherSuites, fFreshness, fProfiles,
		fChallenge, fVersions, fSUITReports},
}

// defines reports whether message type t has option f; a draft-08 shaped
// QueryRequest (three elements) carries its cipher suites as option 1.
func defines(t MessageType, f field, draft08 bool) bool {
	if t == TypeQueryRequest && f == fCipherSuites && draft08 {
		return true
	}
	for _, g := range options[t] {
		if g == f {
			return true
		}
	}
	return false
}
