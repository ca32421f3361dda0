package ipc

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/fxamacker/cbor/v2"
)

// ProtocolVersion is the version of the wire format this package speaks.
// Both worlds are built from one source tree, so they always agree; the
// handshake refuses a peer that does not.
const ProtocolVersion = 5

// The wire format.
//
// Every message is one frame (see ReadFrame) whose body is one CBOR data
// item: an array with one element per field of its Go struct, in order,
// encoded with the core deterministic rules of RFC 8949 §4.2.1 (shortest
// heads, definite lengths; no maps, tags, floats or simple values; an
// empty byte string or list is encoded as such, never as null). The
// decoder refuses anything else: a different number of elements, a wrong
// type, an integer that overflows its field, a head longer than needed, an
// array where a byte string is expected, null, undefined, booleans,
// floats, tags, indefinite lengths, invalid UTF-8, maps (and so duplicate
// map keys), nesting or counts over the limits, trailing bytes. The last
// check of every decoder re-encodes what it decoded and compares: each
// message has exactly one encoding, and nothing else is accepted.
//
// How the format may evolve: positions, op numbers, codes and state names
// are never reused or renumbered. Because decoders refuse unknown shapes,
// any change at all (a new field, a new op, a new code, a new state)
// increments ProtocolVersion; there is no optional field. Hello and
// HelloReply are frozen for all versions, so that two builds of different
// versions still understand each other enough to refuse with
// VersionMismatch.

// Role is who sends a Hello.
type Role uint8

// The roles.
const (
	RoleNormal Role = 1 // the normal world, the client
	RoleSecure Role = 2 // the secure world, the server
)

// String returns the role's name.
func (r Role) String() string {
	switch r {
	case RoleNormal:
		return "normal"
	case RoleSecure:
		return "secure"
	}
	return "role(" + strconv.Itoa(int(r)) + ")"
}

// Hello is the first message of a session, from the normal world.
//
//	Hello = [version: uint, role: uint]
type Hello struct {
	_       struct{} `cbor:",toarray"`
	Version uint64
	Role    Role
}

// HelloReply answers Hello with the secure world's version and bounds.
//
//	HelloReply = [version: uint, max-frame: uint, max-chunk: uint]
type HelloReply struct {
	_        struct{} `cbor:",toarray"`
	Version  uint64
	MaxFrame uint64
	MaxChunk uint64
}

// Request is one call from the normal world.
//
//	Request = [version: uint, id: uint, op: uint, args]
//
// args is the array of the Args type of op (QueryArgs for OpQuery,
// StartUpdateArgs for OpStartUpdate, ...). ID is chosen by the client,
// non-zero, and echoed in the response.
type Request struct {
	Version uint64
	ID      uint64
	Op      Op
	Args    any // the …Args value (not a pointer) for Op
}

// Response answers one Request.
//
//	Response = [version: uint, id: uint, status: uint, message: tstr, result]
//
// On success status is 0, message empty and result the encoding of the
// op's result: an array of ComponentInfo for Query, StartResult,
// RelayTEEPResult, EvidenceResult, or an empty array for the ops that
// return nothing. On failure status is a Code, message says why (at most
// MaxMessage bytes) and result is an empty array. ID is that of the
// request, or 0 when the request was too broken to read its ID.
type Response struct {
	Version uint64
	ID      uint64
	Status  Code
	Message string
	Result  any // []ComponentInfo, StartResult, RelayTEEPResult, EvidenceResult or nil
}

// Err returns nil for a successful response, else the *Error it carries:
// Where Secure for a secure code, Protocol for a protocol code.
func (r *Response) Err() error {
	if r.Status == OK {
		return nil
	}
	return &Error{Where: r.Status.where(), Code: r.Status, Message: r.Message}
}

type requestWire struct {
	_       struct{} `cbor:",toarray"`
	Version uint64
	ID      uint64
	Op      Op
	Args    rawItem
}

type responseWire struct {
	_       struct{} `cbor:",toarray"`
	Version uint64
	ID      uint64
	Status  Code
	Message string
	Result  rawItem
}

// rawItem is one encoded data item inside a message. Decoding aliases the
// input (no copy): it only lives until the inner decode, which copies.
type rawItem []byte

func (r *rawItem) UnmarshalCBOR(b []byte) error { *r = b; return nil }
func (r rawItem) MarshalCBOR() ([]byte, error)  { return r, nil }

var encMode = func() cbor.EncMode {
	opts := cbor.CoreDetEncOptions()
	opts.NilContainers = cbor.NilContainerAsEmpty
	em, err := opts.EncMode()
	if err != nil {
		panic(err)
	}
	return em
}()

// decMode is the one decoder of the package. See "The wire format".
var decMode = func() cbor.DecMode {
	simple, err := cbor.NewSimpleValueRegistryFromDefaults(
		cbor.WithRejectedSimpleValue(cbor.SimpleValue(20)), // false
		cbor.WithRejectedSimpleValue(cbor.SimpleValue(21)), // true
		cbor.WithRejectedSimpleValue(cbor.SimpleValue(22)), // null
		cbor.WithRejectedSimpleValue(cbor.SimpleValue(23)), // undefined
	)
	if err != nil {
		panic(err)
	}
	dm, err := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		MaxNestedLevels:   maxNestedLevels,
		MaxArrayElements:  maxArrayElements,
		MaxMapPairs:       maxMapPairs,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		UTF8:              cbor.UTF8RejectInvalid,
		SimpleValues:      simple,
		NaN:               cbor.NaNDecodeForbidden,
		Inf:               cbor.InfDecodeForbidden,
		BignumTag:         cbor.BignumTagForbidden,
	}.DecMode()
	if err != nil {
		panic(err)
	}
	return dm
}()

func malformed(what string, err error) *Error {
	return protocolError(Malformed, "decode "+what, err)
}

func versionError(got uint64) *Error {
	return protocolError(VersionMismatch, "peer speaks version "+strconv.FormatUint(got, 10)+", this side "+strconv.Itoa(ProtocolVersion), nil)
}

// unmarshal decodes one data item strictly.
func unmarshal(b []byte, v any, what string) error {
	if err := decMode.Unmarshal(b, v); err != nil {
		return malformed(what, err)
	}
	return nil
}

// canonical refuses a message that decoded but is not the one encoding of
// what it decoded to. fxamacker/cbor lets through a head longer than
// needed, a simple value or an array of small integers where a byte
// string is expected, and the like; re-encoding catches all of them at
// once. For a chunk that costs a compare, not a copy.
func canonical(m message, b []byte, what string) error {
	if m.len() != len(b) || !bytes.Equal(m.head, b[:len(m.head)]) || !bytes.Equal(m.tail, b[len(m.head):]) {
		return protocolError(Malformed, "decode "+what+": not the deterministic encoding", nil)
	}
	return nil
}

// decodeAs decodes raw as one T and checks its bounds.
func decodeAs[T validator](raw []byte, what string) (T, error) {
	var v T
	if err := unmarshal(raw, &v, what); err != nil {
		return v, err
	}
	if err := v.validate(); err != nil {
		return v, err
	}
	return v, nil
}

func decodeAny[T validator](raw []byte, what string) (any, error) {
	v, err := decodeAs[T](raw, what)
	if err != nil {
		return nil, err
	}
	return v, nil
}

func encode(v any, what string) ([]byte, error) {
	b, err := encMode.Marshal(v)
	if err != nil {
		return nil, protocolError(Malformed, "encode "+what, err)
	}
	return b, nil
}

// EncodeHello encodes h. It does not check the version.
func EncodeHello(h *Hello) ([]byte, error) { return encode(h, "hello") }

// DecodeHello decodes a Hello strictly. It does not check the version:
// the handshake does.
func DecodeHello(b []byte) (*Hello, error) {
	h, err := decodeAs[Hello](b, "hello")
	if err != nil {
		return nil, err
	}
	again, err := EncodeHello(&h)
	if err != nil {
		return nil, err
	}
	if err := canonical(message{head: again}, b, "hello"); err != nil {
		return nil, err
	}
	return &h, nil
}

// EncodeHelloReply encodes r.
func EncodeHelloReply(r *HelloReply) ([]byte, error) { return encode(r, "hello reply") }

// DecodeHelloReply decodes a HelloReply strictly. It does not check the
// version or the bounds: the handshake does.
func DecodeHelloReply(b []byte) (*HelloReply, error) {
	r, err := decodeAs[HelloReply](b, "hello reply")
	if err != nil {
		return nil, err
	}
	again, err := EncodeHelloReply(&r)
	if err != nil {
		return nil, err
	}
	if err := canonical(message{head: again}, b, "hello reply"); err != nil {
		return nil, err
	}
	return &r, nil
}

func (Hello) validate() error      { return nil }
func (HelloReply) validate() error { return nil }

// EncodeRequest encodes r after checking that Args is the arguments type
// of Op and within bounds. It does not check Version or ID.
func EncodeRequest(r *Request) ([]byte, error) {
	m, err := encodeRequest(r)
	if err != nil {
		return nil, err
	}
	return m.join(), nil
}

func encodeRequest(r *Request) (message, error) {
	op, v := argsOp(r.Args)
	if v == nil || op != r.Op {
		return message{}, protocolError(Malformed, "encode request: arguments of type "+typeName(r.Args)+" for "+r.Op.String(), nil)
	}
	if err := v.validate(); err != nil {
		return message{}, err
	}
	v, tail, hasTail := cutTail(v)
	args, err := encode(v, r.Op.String()+" arguments")
	if err != nil {
		return message{}, err
	}
	head, err := encode(requestWire{Version: r.Version, ID: r.ID, Op: r.Op, Args: args}, "request")
	if err != nil {
		return message{}, err
	}
	return splice(head, tail, hasTail)
}

// message is an encoded message in two parts: head, then the contents of
// the byte string that ends it, if any. A chunk, an envelope or a TEEP
// message is the last field of the last element of its message, so it can
// be framed and written from the caller's slice without being copied.
type message struct {
	head, tail []byte
}

func (m message) len() int { return len(m.head) + len(m.tail) }

func (m message) join() []byte {
	if len(m.tail) == 0 {
		return m.head
	}
	return append(m.head[:len(m.head):len(m.head)], m.tail...)
}

// tailed is implemented by the messages that end with a large byte
// string (an envelope, a chunk, a TEEP message, evidence): withoutTail
// returns the message with that byte string emptied, and the byte string.
type tailed interface {
	withoutTail() (validator, []byte)
}

// cutTail returns v with its trailing byte string emptied, and that byte
// string, if v's type ends with a large one.
func cutTail(v validator) (validator, []byte, bool) {
	if t, ok := v.(tailed); ok {
		v, tail := t.withoutTail()
		return v, tail, true
	}
	return v, nil, false
}

// splice replaces the empty byte string that ends head, where cutTail
// emptied it, by the head of a byte string of len(tail) bytes.
func splice(head, tail []byte, hasTail bool) (message, error) {
	if !hasTail {
		return message{head: head}, nil
	}
	if len(head) == 0 || head[len(head)-1] != 0x40 {
		return message{}, protocolError(Malformed, "encode: no byte string at the end to splice", nil)
	}
	return message{head: appendBstrHead(head[:len(head)-1], len(tail)), tail: tail}, nil
}

// appendBstrHead appends the shortest head of a byte string of n bytes.
func appendBstrHead(b []byte, n int) []byte {
	const major = 2 << 5
	u := uint64(n)
	switch {
	case u < 24:
		return append(b, major|byte(u))
	case u <= 0xff:
		return append(b, major|24, byte(u))
	case u <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, major|25), uint16(u))
	case u <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, major|26), uint32(u))
	}
	return binary.BigEndian.AppendUint64(append(b, major|27), u)
}

// DecodeRequest decodes a request strictly and checks it: the version is
// ProtocolVersion, the ID is not 0, the op is known, the arguments are
// those of the op and within bounds. Every failure is a Protocol *Error.
// The returned request shares no memory with b.
func DecodeRequest(b []byte) (*Request, error) {
	r, err := decodeRequest(b)
	if err != nil {
		return nil, err
	}
	if a, ok := r.Args.(aliasing); ok {
		r.Args = a.detached()
	}
	return r, nil
}

// decodeRequest is DecodeRequest, but the data of a WriteChunk aliases b,
// and on an error past the envelope it also returns the request with
// Version, ID and Op set, so that the server can address its answer.
func decodeRequest(b []byte) (*Request, error) {
	var w requestWire
	if err := unmarshal(b, &w, "request"); err != nil {
		return nil, err
	}
	r := &Request{Version: w.Version, ID: w.ID, Op: w.Op}
	if w.Version != ProtocolVersion {
		return r, versionError(w.Version)
	}
	if w.ID == 0 {
		return r, protocolError(Malformed, "request ID 0 is reserved", nil)
	}
	var err error
	if r.Args, err = decodeArgs(w.Op, w.Args); err != nil {
		return r, err
	}
	m, err := encodeRequest(r)
	if err != nil {
		return r, err
	}
	return r, canonical(m, b, "request")
}

func decodeArgs(op Op, raw []byte) (any, error) {
	r, ok := rowOf(op)
	if !ok {
		return nil, protocolError(UnknownOp, op.String(), nil)
	}
	return r.decodeArgs(raw, op.String()+" arguments")
}

// writeChunkWire is WriteChunkArgs with the data left encoded, so that it
// can be taken from the frame rather than copied out of it.
type writeChunkWire struct {
	_       struct{} `cbor:",toarray"`
	Set     uint64
	Payload uint32
	Offset  uint64
	Data    rawItem
}

// decodeWriteChunk decodes WriteChunkArgs whose Data aliases raw. The
// decoder has checked that Data is one well-formed item of definite
// length; its head is checked to be shortest by the re-encoding in
// decodeRequest.
func decodeWriteChunk(raw []byte, what string) (any, error) {
	var w writeChunkWire
	if err := unmarshal(raw, &w, what); err != nil {
		return nil, err
	}
	data, ok := bstrContent(w.Data)
	if !ok {
		return nil, protocolError(Malformed, "decode "+what+": data is not a byte string", nil)
	}
	a := WriteChunkArgs{Set: w.Set, Payload: w.Payload, Offset: w.Offset, Data: data}
	if err := a.validate(); err != nil {
		return nil, err
	}
	return a, nil
}

// aliasing is implemented by arguments that decode aliasing the frame
// (decodedBy a decoder of their own, as WriteChunk's): detached returns
// them with a copy of what aliases it.
type aliasing interface{ detached() any }

func (a WriteChunkArgs) detached() any {
	a.Data = bytes.Clone(a.Data)
	return a
}

// bstrContent returns the content of b, one well-formed data item, if it
// is a byte string of definite length.
func bstrContent(b []byte) ([]byte, bool) {
	if len(b) == 0 || b[0]>>5 != 2 {
		return nil, false
	}
	head := 1
	switch ai := b[0] & 0x1f; {
	case ai < 24:
	case ai <= 27:
		head += 1 << (ai - 24)
	default:
		return nil, false // indefinite length or reserved
	}
	if len(b) < head {
		return nil, false
	}
	return b[head:], true
}

// EncodeResponse encodes r after checking it: a known status, a message
// only on failure and within MaxMessage, a result only on success, of a
// result type and within bounds. It does not check that the result is the
// one of the request's op; the server does.
func EncodeResponse(r *Response) ([]byte, error) {
	m, err := encodeResponse(r)
	if err != nil {
		return nil, err
	}
	return m.join(), nil
}

func encodeResponse(r *Response) (message, error) {
	if !r.Status.onWire() {
		return message{}, protocolError(Malformed, "encode response: status "+r.Status.String()+" is not sent", nil)
	}
	v, ok := resultValidator(r.Result)
	if !ok {
		return message{}, protocolError(Malformed, "encode response: result of type "+typeName(r.Result), nil)
	}
	if r.Status != OK {
		if r.Result != nil {
			return message{}, protocolError(Malformed, "encode response: result with status "+r.Status.String(), nil)
		}
	} else if r.Message != "" {
		return message{}, protocolError(Malformed, "encode response: message with status ok", nil)
	}
	if err := checkText("message", r.Message, MaxMessage); err != nil {
		return message{}, err
	}
	if err := v.validate(); err != nil {
		return message{}, err
	}
	v, tail, hasTail := cutTail(v)
	res, err := encode(v, "result")
	if err != nil {
		return message{}, err
	}
	head, err := encode(responseWire{Version: r.Version, ID: r.ID, Status: r.Status, Message: r.Message, Result: res}, "response")
	if err != nil {
		return message{}, err
	}
	return splice(head, tail, hasTail)
}

// DecodeResponse decodes a response to a request for op, strictly, and
// checks it as EncodeResponse does, and that its version is
// ProtocolVersion. It does not check the ID; the client does. Every
// failure is a Protocol *Error. The returned response shares no memory
// with b.
func DecodeResponse(b []byte, op Op) (*Response, error) {
	var w responseWire
	if err := unmarshal(b, &w, "response"); err != nil {
		return nil, err
	}
	if w.Version != ProtocolVersion {
		return nil, versionError(w.Version)
	}
	if !w.Status.onWire() {
		return nil, protocolError(Malformed, "response status "+w.Status.String(), nil)
	}
	if err := checkText("message", w.Message, MaxMessage); err != nil {
		return nil, err
	}
	r := &Response{Version: w.Version, ID: w.ID, Status: w.Status, Message: w.Message}
	if w.Status != OK {
		if _, err := decodeAs[noResult](w.Result, "error result"); err != nil {
			return nil, err
		}
	} else {
		if w.Message != "" {
			return nil, protocolError(Malformed, "response message with status ok", nil)
		}
		var err error
		if r.Result, err = decodeResult(op, w.Result); err != nil {
			return nil, err
		}
	}
	m, err := encodeResponse(r)
	if err != nil {
		return nil, err
	}
	if err := canonical(m, b, "response"); err != nil {
		return nil, err
	}
	return r, nil
}

func decodeResult(op Op, raw []byte) (any, error) {
	r, ok := rowOf(op)
	if !ok {
		return nil, protocolError(UnknownOp, op.String(), nil)
	}
	return r.result.decode(raw, op.String()+" result")
}

func typeName(v any) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprintf("%T", v)
}
