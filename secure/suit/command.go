package suit

import (
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
	// Offset is where the command's code begins, in bytes from the start
	// of the top-level sequence that holds it (a command nested in
	// try-each or run-sequence counts from the outer sequence too), as
	// suit-record-section-offset reports it.
	Offset int
	// Policy is the reporting policy of conditions and of the directives
	// that take one.
	Policy uint64
	// Index is the argument of set-component-index.
	Index *IndexArg
	// Params is the argument of override-parameters and set-parameters.
	Params Parameters
	// Multiple is the argument of override-multiple, in the order given.
	Multiple []IndexedParams
	// CopyFrom is the argument of copy-params, in the order given.
	CopyFrom []IndexedKeys
	// Sequences holds the alternatives of try-each (a nil entry is the
	// empty alternative) or the one sequence of run-sequence.
	Sequences []Sequence
	// Custom is the raw argument of a custom (negative) command.
	Custom cbor.RawMessage
}

// IndexedParams is one entry of override-multiple: parameters for the
// component at Index.
type IndexedParams struct {
	Index  uint64
	Params Parameters
}

// IndexedKeys is one entry of copy-params: the parameters to copy from
// the component at Index.
type IndexedKeys struct {
	Index uint64
	Keys  []int64
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
	one  [1]uint64 // backing store of Indices for a single index
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

// param returns the parameter at key if it holds a T.
func param[T any](p Parameters, key int64) (T, bool) {
	v, ok := p[key].(T)
	return v, ok
}

// Uint returns an unsigned parameter.
func (p Parameters) Uint(key int64) (uint64, bool) {
	return param[uint64](p, key)
}

// Text returns a text parameter.
func (p Parameters) Text(key int64) (string, bool) {
	return param[string](p, key)
}

// Bool returns a boolean parameter.
func (p Parameters) Bool(key int64) (bool, bool) {
	return param[bool](p, key)
}

// Digest returns the image-digest parameter.
func (p Parameters) Digest(key int64) (Digest, bool) {
	return param[Digest](p, key)
}

// Int returns a signed integer parameter (update-priority).
func (p Parameters) Int(key int64) (int64, bool) {
	return param[int64](p, key)
}

// decodeSequence decodes a command sequence and, recursively, the
// sequences nested in try-each and run-sequence, so that a malformed
// manifest is refused before any command of it runs. base is the offset
// of data in the top-level sequence.
func decodeSequence(data []byte, depth, base int) (Sequence, error) {
	if depth > MaxSequenceDepth {
		return nil, malformed("command sequences nested deeper than %d", MaxSequenceDepth)
	}
	r := newReader(data)
	n, err := r.array(2 * MaxCommands)
	if err != nil {
		return nil, fmt.Errorf("command sequence: %w", err)
	}
	if n == 0 || n%2 != 0 {
		return nil, malformed("command sequence of %d items", n)
	}
	seq := make(Sequence, 0, n/2)
	for range n / 2 {
		offset := base + r.off
		code, err := r.int()
		if err != nil {
			return nil, fmt.Errorf("command code: %w", err)
		}
		cmd, err := readCommand(r, code, depth, base)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", CommandName(code), err)
		}
		cmd.Offset = offset
		seq = append(seq, cmd)
	}
	return seq, r.done()
}

func readCommand(r *reader, code int64, depth, base int) (Command, error) {
	cmd := Command{Code: code}
	var err error
	switch {
	case code == DirSetComponentIndex:
		cmd.Index, err = readIndexArg(r)
	case code == DirOverrideParameters, code == DirSetParameters:
		cmd.Params, err = readParameters(r)
	case code == DirOverrideMultiple:
		cmd.Multiple, err = readOverrideMultiple(r)
	case code == DirCopyParams:
		cmd.CopyFrom, err = readCopyParams(r)
	case code == DirTryEach:
		var n int
		if n, err = r.array(MaxTryEach); err != nil {
			return cmd, err
		}
		if n < 2 {
			return cmd, malformed("try-each with %d alternatives", n)
		}
		for i := range n {
			if r.null() {
				if i != n-1 {
					return cmd, malformed("try-each: nil before the last alternative")
				}
				cmd.Sequences = append(cmd.Sequences, nil)
				continue
			}
			b, err := r.bytes()
			if err != nil {
				return cmd, err
			}
			s, err := decodeSequence(b, depth+1, base+r.off-len(b))
			if err != nil {
				return cmd, err
			}
			cmd.Sequences = append(cmd.Sequences, s)
		}
	case code == DirRunSequence:
		var b []byte
		if b, err = r.bytes(); err != nil {
			return cmd, err
		}
		var s Sequence
		s, err = decodeSequence(b, depth+1, base+r.off-len(b))
		cmd.Sequences = []Sequence{s}
	case code < 0:
		// A custom command's argument: bstr, tstr, int or nil.
		start := r.off
		if !r.null() {
			switch m, _ := r.peek(); m {
			case majorBytes:
				_, err = r.bytes()
			case majorText:
				_, err = r.text()
			default:
				_, err = r.int()
			}
		}
		cmd.Custom = r.data[start:r.off]
	default:
		// Conditions and the remaining directives take a reporting policy.
		if cmd.Policy, err = r.uint(); err == nil && cmd.Policy > 0xf {
			err = malformed("reporting policy %#x", cmd.Policy)
		}
	}
	return cmd, err
}

func readIndexArg(r *reader) (*IndexArg, error) {
	switch m, _ := r.peek(); m {
	case majorUint:
		i, err := r.uint()
		// One allocation: the index lives in the argument itself.
		idx := &IndexArg{}
		idx.one[0] = i
		idx.Indices = idx.one[:]
		return idx, err
	case majorArray:
		n, err := r.array(MaxComponents)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, malformed("empty component index list")
		}
		idx := &IndexArg{List: true, Indices: make([]uint64, n)}
		for i := range idx.Indices {
			if idx.Indices[i], err = r.uint(); err != nil {
				return nil, err
			}
		}
		return idx, nil
	}
	all, err := r.bool()
	if err != nil || !all {
		return nil, malformed("component index is not an index, a list or true")
	}
	return &IndexArg{All: true}, nil
}

func readOverrideMultiple(r *reader) ([]IndexedParams, error) {
	n, err := r.mapHead()
	if err != nil {
		return nil, err
	}
	if n == 0 || n > MaxComponents {
		return nil, malformed("override-multiple of %d components", n)
	}
	out := make([]IndexedParams, 0, n)
	for range n {
		i, err := r.uint()
		if err != nil {
			return nil, err
		}
		for _, e := range out {
			if e.Index == i {
				return nil, r.errf("duplicate component index %d", i)
			}
		}
		p, err := readParameters(r)
		if err != nil {
			return nil, fmt.Errorf("component %d: %w", i, err)
		}
		out = append(out, IndexedParams{Index: i, Params: p})
	}
	return out, nil
}

func readCopyParams(r *reader) ([]IndexedKeys, error) {
	n, err := r.mapHead()
	if err != nil {
		return nil, err
	}
	if n == 0 || n > MaxComponents {
		return nil, malformed("copy-params from %d components", n)
	}
	out := make([]IndexedKeys, 0, n)
	for range n {
		i, err := r.uint()
		if err != nil {
			return nil, err
		}
		for _, e := range out {
			if e.Index == i {
				return nil, r.errf("duplicate component index %d", i)
			}
		}
		count, err := r.array(maxMapPairs)
		if err != nil {
			return nil, err
		}
		if count == 0 {
			return nil, malformed("copy-params with no parameters")
		}
		keys := make([]int64, count)
		for j := range keys {
			if keys[j], err = r.int(); err != nil {
				return nil, err
			}
			if _, known := paramSpecs[keys[j]]; !known && keys[j] >= 0 {
				return nil, unsupportedParam(keys[j], "parameter %d", keys[j])
			}
		}
		out = append(out, IndexedKeys{Index: i, Keys: keys})
	}
	return out, nil
}

func readParameters(r *reader) (Parameters, error) {
	n, err := r.mapHead()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, malformed("empty parameter map")
	}
	p := make(Parameters, n)
	for range n {
		key, err := r.int()
		if err != nil {
			return nil, err
		}
		if _, dup := p[key]; dup {
			return nil, r.errf("duplicate parameter %d", key)
		}
		if p[key], err = readParam(r, key); err != nil {
			return nil, fmt.Errorf("parameter %s: %w", ParamName(key), err)
		}
	}
	return p, nil
}

func readParam(r *reader, key int64) (any, error) {
	spec, known := paramSpecs[key]
	if !known {
		if key >= 0 {
			return nil, unsupportedParam(key, "parameter %d", key)
		}
		// A custom parameter: int, bool, tstr or bstr.
		switch m, _ := r.peek(); m {
		case majorBytes:
			return r.bytes()
		case majorText:
			return r.text()
		case majorSimple:
			return r.bool()
		}
		return r.int()
	}
	switch spec.kind {
	case kindBytes:
		b, err := r.bytes()
		if err == nil && key == ParamContent && len(b) > MaxContentSize {
			err = malformed("content of %d bytes", len(b))
		}
		return b, err
	case kindVendor, kindUUID:
		pen, err := r.tag(tagPEN)
		if err != nil {
			return nil, err
		}
		if pen && spec.kind != kindVendor {
			return nil, malformed("cbor-pen tag on a UUID parameter")
		}
		b, err := r.bytes()
		if err != nil {
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
		return r.uint()
	case kindText:
		return r.text()
	case kindBool:
		return r.bool()
	case kindDigest:
		return readWrapped(r, decodeDigest)
	case kindInt:
		return r.int()
	case kindVersion:
		return readWrapped(r, decodeVersionMatch)
	case kindWaitInfo:
		return readWrapped(r, decodeWaitInfo)
	case kindMetadata:
		return readWrapped(r, decodeComponentMetadata)
	case kindEncInfo:
		// Checked now, so that a manifest whose encryption info cannot be
		// used is refused before any command runs; kept as bytes, which
		// is what the platform's decryptor takes.
		b, err := r.bytes()
		if err != nil {
			return nil, err
		}
		if _, err := ParseEncryptionInfo(b); err != nil {
			return nil, err
		}
		return b, nil
	}
	return nil, unsupportedParam(key, "parameter %d", key)
}

// readWrapped reads a parameter that is a bstr holding CBOR, and decodes
// its content with decode.
func readWrapped[T any](r *reader, decode func([]byte) (T, error)) (any, error) {
	b, err := r.bytes()
	if err != nil {
		return nil, err
	}
	return decode(b)
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
	case c.Code == DirOverrideParameters, c.Code == DirSetParameters:
		return c.Params.wire()
	case c.Code == DirOverrideMultiple:
		m := make(map[uint64]any, len(c.Multiple))
		for _, e := range c.Multiple {
			m[e.Index] = e.Params.wire()
		}
		return m
	case c.Code == DirCopyParams:
		m := make(map[uint64]any, len(c.CopyFrom))
		for _, e := range c.CopyFrom {
			m[e.Index] = e.Keys
		}
		return m
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
		case VersionMatch:
			m[k] = x.Encode()
		case WaitInfo:
			m[k] = x.Encode()
		case ComponentMetadata:
			m[k] = []byte(x)
		default:
			m[k] = v
		}
	}
	return m
}
