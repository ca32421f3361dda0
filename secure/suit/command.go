package suit

import (
	"bytes"
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// tagPEN is the cbor-pen tag of a vendor ID built from an IANA Private
// Enterprise Number (draft-37 §8.4.8.1).
const tagPEN = 112

// Command is one condition or directive of a SUIT_Command_Sequence, with
// its argument decoded according to its code.
type Command struct {
	Code int64
	// Policy is the reporting policy of conditions and of the directives
	// that take one.
	Policy uint64
	// Index is the argument of set-component-index.
	Index *IndexArg
	// Params is the argument of override-parameters.
	Params Parameters
	// Sequences holds the alternatives of try-each (a nil entry is the
	// empty alternative) or the one sequence of run-sequence.
	Sequences []Sequence
	// Custom is the raw argument of a custom (negative) command.
	Custom cbor.RawMessage
}

// Sequence is a decoded SUIT_Command_Sequence.
type Sequence []Command

// IndexArg is the argument of set-component-index: one index, a list of
// indices, or true for every component.
type IndexArg struct {
	All     bool
	Indices []uint64
	// List records that the argument was an array, even of one index.
	List bool
}

// Parameters maps parameter keys to values: []byte, PEN, uint64, string,
// bool or Digest, by the key's kind. Custom (negative) keys hold the value
// as decoded.
type Parameters map[int64]any

// PEN is a vendor ID given as an encoded IANA Private Enterprise Number OID.
type PEN []byte

// Bytes returns a byte-string parameter (a PEN as its bytes).
func (p Parameters) Bytes(key int64) ([]byte, bool) {
	switch v := p[key].(type) {
	case []byte:
		return v, true
	case PEN:
		return v, true
	}
	return nil, false
}

// Uint returns an unsigned parameter.
func (p Parameters) Uint(key int64) (uint64, bool) {
	v, ok := p[key].(uint64)
	return v, ok
}

// Text returns a text parameter.
func (p Parameters) Text(key int64) (string, bool) {
	v, ok := p[key].(string)
	return v, ok
}

// Bool returns a boolean parameter.
func (p Parameters) Bool(key int64) (bool, bool) {
	v, ok := p[key].(bool)
	return v, ok
}

// Digest returns the image-digest parameter.
func (p Parameters) Digest(key int64) (Digest, bool) {
	v, ok := p[key].(Digest)
	return v, ok
}

// decodeSequence decodes a command sequence and, recursively, the
// sequences nested in try-each and run-sequence, so that a malformed
// manifest is refused before any command of it runs.
func decodeSequence(data []byte, depth int) (Sequence, error) {
	if depth > MaxSequenceDepth {
		return nil, malformed("command sequences nested deeper than %d", MaxSequenceDepth)
	}
	var items []cbor.RawMessage
	if err := decodeOuter(data, &items); err != nil {
		return nil, fmt.Errorf("command sequence: %w", err)
	}
	if len(items) == 0 || len(items)%2 != 0 {
		return nil, malformed("command sequence of %d items", len(items))
	}
	if len(items)/2 > MaxCommands {
		return nil, malformed("command sequence of %d commands exceeds %d", len(items)/2, MaxCommands)
	}
	seq := make(Sequence, 0, len(items)/2)
	for i := 0; i < len(items); i += 2 {
		var code int64
		if err := decodeStrict(items[i], &code); err != nil {
			return nil, fmt.Errorf("command code: %w", err)
		}
		cmd, err := decodeCommand(code, items[i+1], depth)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", CommandName(code), err)
		}
		seq = append(seq, cmd)
	}
	return seq, nil
}

func decodeCommand(code int64, arg cbor.RawMessage, depth int) (Command, error) {
	cmd := Command{Code: code}
	switch {
	case code == DirSetComponentIndex:
		idx, err := decodeIndexArg(arg)
		cmd.Index = idx
		return cmd, err
	case code == DirOverrideParameters:
		p, err := decodeParameters(arg)
		cmd.Params = p
		return cmd, err
	case code == DirTryEach:
		var alts []cbor.RawMessage
		if err := decodeOuter(arg, &alts); err != nil {
			return cmd, err
		}
		if len(alts) < 2 || len(alts) > MaxTryEach {
			return cmd, malformed("try-each with %d alternatives", len(alts))
		}
		for i, raw := range alts {
			if bytes.Equal(raw, cborNull) {
				if i != len(alts)-1 {
					return cmd, malformed("try-each: nil before the last alternative")
				}
				cmd.Sequences = append(cmd.Sequences, nil)
				continue
			}
			var b []byte
			if err := decodeStrict(raw, &b); err != nil {
				return cmd, err
			}
			s, err := decodeSequence(b, depth+1)
			if err != nil {
				return cmd, err
			}
			cmd.Sequences = append(cmd.Sequences, s)
		}
		return cmd, nil
	case code == DirRunSequence:
		var b []byte
		if err := decodeStrict(arg, &b); err != nil {
			return cmd, err
		}
		s, err := decodeSequence(b, depth+1)
		cmd.Sequences = []Sequence{s}
		return cmd, err
	case code < 0:
		var v any
		if err := decodeStrict(arg, &v); err != nil {
			return cmd, err
		}
		switch v.(type) {
		case []byte, string, int64, nil:
		default:
			return cmd, malformed("custom command argument of type %T", v)
		}
		cmd.Custom = arg
		return cmd, nil
	default:
		// Conditions and the remaining directives take a reporting policy.
		if err := decodeStrict(arg, &cmd.Policy); err != nil {
			return cmd, err
		}
		if cmd.Policy > 0xf {
			return cmd, malformed("reporting policy %#x", cmd.Policy)
		}
		return cmd, nil
	}
}

func decodeIndexArg(arg cbor.RawMessage) (*IndexArg, error) {
	var v any
	if err := decodeStrict(arg, &v); err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case bool:
		if !x {
			return nil, malformed("component index false")
		}
		return &IndexArg{All: true}, nil
	case int64:
		if x < 0 {
			return nil, malformed("negative component index")
		}
		return &IndexArg{Indices: []uint64{uint64(x)}}, nil
	case []any:
		if len(x) == 0 {
			return nil, malformed("empty component index list")
		}
		idx := &IndexArg{List: true}
		for _, e := range x {
			n, ok := e.(int64)
			if !ok || n < 0 {
				return nil, malformed("component index list holds %v", e)
			}
			idx.Indices = append(idx.Indices, uint64(n))
		}
		return idx, nil
	}
	return nil, malformed("component index of type %T", v)
}

func decodeParameters(arg cbor.RawMessage) (Parameters, error) {
	var raw map[int64]cbor.RawMessage
	if err := decodeOuter(arg, &raw); err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return nil, malformed("empty parameter map")
	}
	p := make(Parameters, len(raw))
	for k, v := range raw {
		val, err := decodeParam(k, v)
		if err != nil {
			return nil, fmt.Errorf("parameter %s: %w", ParamName(k), err)
		}
		p[k] = val
	}
	return p, nil
}

func decodeParam(key int64, raw cbor.RawMessage) (any, error) {
	spec, known := paramSpecs[key]
	if !known {
		if key >= 0 {
			return nil, unsupported("parameter %d", key)
		}
		var v any
		if err := decodeStrict(raw, &v); err != nil {
			return nil, err
		}
		switch v.(type) {
		case []byte, string, int64, bool:
			return v, nil
		}
		return nil, malformed("custom parameter of type %T", v)
	}
	switch spec.kind {
	case kindBytes:
		var b []byte
		err := decodeStrict(raw, &b)
		if err == nil && b == nil {
			b = []byte{}
		}
		if err == nil && key == ParamContent && len(b) > MaxContentSize {
			err = malformed("content of %d bytes", len(b))
		}
		return b, err
	case kindVendor, kindUUID:
		body, pen := untag(raw, tagPEN)
		if pen && spec.kind != kindVendor {
			return nil, malformed("cbor-pen tag on a UUID parameter")
		}
		var b []byte
		if err := decodeStrict(body, &b); err != nil {
			return nil, err
		}
		if pen {
			return PEN(b), nil
		}
		if len(b) != 16 {
			return nil, malformed("UUID of %d bytes", len(b))
		}
		return b, nil
	case kindUint:
		var n uint64
		return n, decodeStrict(raw, &n)
	case kindText:
		var s string
		return s, decodeStrict(raw, &s)
	case kindBool:
		var b bool
		return b, decodeStrict(raw, &b)
	case kindDigest:
		var b []byte
		if err := decodeStrict(raw, &b); err != nil {
			return nil, err
		}
		return decodeDigest(b)
	}
	return nil, unsupported("parameter %d", key)
}

// Encode returns the deterministic encoding of the sequence.
func (s Sequence) Encode() []byte { return mustMarshal(s.wire()) }

func (s Sequence) wire() []any {
	out := make([]any, 0, 2*len(s))
	for _, c := range s {
		out = append(out, c.Code, c.wireArg())
	}
	return out
}

func (c Command) wireArg() any {
	switch {
	case c.Code == DirSetComponentIndex:
		switch {
		case c.Index.All:
			return true
		case c.Index.List || len(c.Index.Indices) != 1:
			return c.Index.Indices
		default:
			return c.Index.Indices[0]
		}
	case c.Code == DirOverrideParameters:
		return c.Params.wire()
	case c.Code == DirTryEach:
		alts := make([]any, len(c.Sequences))
		for i, s := range c.Sequences {
			if s == nil {
				alts[i] = nil
			} else {
				alts[i] = s.Encode()
			}
		}
		return alts
	case c.Code == DirRunSequence:
		return c.Sequences[0].Encode()
	case c.Code < 0:
		return c.Custom
	}
	return c.Policy
}

func (p Parameters) wire() map[int64]any {
	m := make(map[int64]any, len(p))
	for k, v := range p {
		switch x := v.(type) {
		case Digest:
			m[k] = x.Encode()
		case PEN:
			m[k] = cbor.Tag{Number: tagPEN, Content: []byte(x)}
		default:
			m[k] = v
		}
	}
	return m
}
