package teep

import "github.com/fxamacker/cbor/v2"

// Message is one of *QueryRequest, *QueryResponse, *Update, *Success,
// *Error.
//
// In every message a nil slice is an absent option and a non-nil empty
// one an option present with nothing in it (tolerated for lists, as real
// peers send an empty tc-list); an empty string is an absent text option.
// Extensions hold the options the message type does not define, by
// label, each value as received: the CDDL's $$teep-option-extensions
// (uint => any), kept so that a message re-encodes as it came.
type Message interface {
	Type() MessageType
	extensions() map[uint64]cbor.RawMessage
}

// QueryRequestShape is the array shape of a QueryRequest.
type QueryRequestShape uint8

const (
	// ShapeCurrent: [type, options, cipher-suites, suit-cose-profiles,
	// data-item-requested] (draft-12 on).
	ShapeCurrent QueryRequestShape = iota
	// ShapeNoProfiles: [type, options, cipher-suites, data-item-requested]
	// (draft-10/11).
	ShapeNoProfiles
	// ShapeDraft08: [type, options, data-item-requested], the cipher
	// suites in option 1.
	ShapeDraft08
)

// DataItems is the data-item-requested bitmap.
type DataItems uint64

// The data items a TAM can request.
const (
	DataAttestation       DataItems = 1 << 0
	DataTrustedComponents DataItems = 1 << 1
	DataExtensions        DataItems = 1 << 2
	DataSUITReports       DataItems = 1 << 3
)

// QueryRequest is the TAM's first message of a session.
type QueryRequest struct {
	Token                    []byte
	FreshnessMechanisms      []uint64
	Challenge                []byte
	Versions                 []uint64
	AttestationPayloadFormat string
	AttestationPayload       []byte
	SUITReports              [][]byte
	Extensions               map[uint64]cbor.RawMessage

	CipherSuites     []CipherSuite
	SUITCOSEProfiles []SUITCOSEProfile
	DataItems        DataItems
	Shape            QueryRequestShape
}

// RequestedTC is one entry of a QueryResponse's requested-tc-list.
type RequestedTC struct {
	ComponentID    ComponentID
	SequenceNumber *uint64
	HaveBinary     *bool
}

// ComponentID is a SUIT_Component_Identifier: [+ bstr].
type ComponentID [][]byte

// QueryResponse is the Agent's answer to a QueryRequest.
type QueryResponse struct {
	Token                    []byte
	SelectedVersion          *uint64
	AttestationPayloadFormat string
	AttestationPayload       []byte
	SUITReports              [][]byte
	// TCList holds system-property-claims maps as received.
	TCList            []cbor.RawMessage
	RequestedTCList   []RequestedTC
	UnneededManifests []ComponentID
	ExtList           []uint64
	Extensions        map[uint64]cbor.RawMessage
}

// Manifest is one SUIT envelope of an Update's manifest-list.
type Manifest struct {
	// Envelope is the SUIT_Envelope, without tag 107.
	Envelope []byte
	// Tagged: the envelope came as SUIT_Envelope_Tagged (107) inside the
	// byte string; real peers send both.
	Tagged bool
}

// Update tells the Agent what to unlink and which manifests to process.
type Update struct {
	Token                    []byte
	UnneededManifests        []ComponentID
	Manifests                []Manifest
	AttestationPayloadFormat string
	AttestationPayload       []byte
	ErrCode                  *ErrCode
	ErrMsg                   string
	ErrLang                  string
	Extensions               map[uint64]cbor.RawMessage
}

// Success is the Agent's report that an Update was processed.
type Success struct {
	Token       []byte
	Msg         string
	SUITReports [][]byte
	Extensions  map[uint64]cbor.RawMessage
}

// Error is a peer's report that a message failed.
type Error struct {
	Token               []byte
	ErrMsg              string
	ErrLang             string
	CipherSuites        []CipherSuite
	FreshnessMechanisms []uint64
	SUITCOSEProfiles    []SUITCOSEProfile
	Challenge           []byte
	Versions            []uint64
	SUITReports         [][]byte
	Extensions          map[uint64]cbor.RawMessage
	Code                ErrCode
}

// Type is TypeQueryRequest.
func (*QueryRequest) Type() MessageType { return TypeQueryRequest }

// Type is TypeQueryResponse.
func (*QueryResponse) Type() MessageType { return TypeQueryResponse }

// Type is TypeUpdate.
func (*Update) Type() MessageType { return TypeUpdate }

// Type is TypeSuccess.
func (*Success) Type() MessageType { return TypeSuccess }

// Type is TypeError.
func (*Error) Type() MessageType { return TypeError }

func (m *QueryRequest) extensions() map[uint64]cbor.RawMessage  { return m.Extensions }
func (m *QueryResponse) extensions() map[uint64]cbor.RawMessage { return m.Extensions }
func (m *Update) extensions() map[uint64]cbor.RawMessage        { return m.Extensions }
func (m *Success) extensions() map[uint64]cbor.RawMessage       { return m.Extensions }
func (m *Error) extensions() map[uint64]cbor.RawMessage         { return m.Extensions }
