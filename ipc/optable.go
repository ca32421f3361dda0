package ipc

import (
	"context"
	"reflect"
	"strconv"
)

// The op table: one row per operation, holding everything the codec, the
// server and the client know about it. Adding an operation is a new Op
// number (ops.go), its arguments and result types with their bounds
// (ops.go), one row here, and the method of each side's API that carries
// it: the Handler method the row dispatches to and the Client method that
// calls it. Nothing else in the package names an operation.
var opTable = []opRow{
	withResult(OpQuery, "Query", componentsResult,
		func(ctx context.Context, s *session, _ QueryArgs) ([]ComponentInfo, error) { return s.h.Query(ctx) }),
	withResult(OpStartUpdate, "StartUpdate", resultAs[StartResult](),
		func(ctx context.Context, s *session, a StartUpdateArgs) (StartResult, error) {
			r, err := s.h.StartUpdate(ctx, a.Envelope)
			if err == nil && r == nil {
				err = Errorf(Internal, "StartUpdate returned no result")
			}
			if err != nil {
				return StartResult{}, err
			}
			return *r, nil
		}),
	// The data of a chunk is taken from the frame, not copied out of it,
	// and the next frame is read while a chunk is handled.
	noResultOp(OpWriteChunk, "WriteChunk",
		func(ctx context.Context, s *session, a WriteChunkArgs) error {
			return s.h.WriteChunk(ctx, a.Set, a.Payload, a.Offset, a.Data)
		}).decodedBy(decodeWriteChunk).readingAhead(),
	noResultOp(OpFinish, "Finish",
		func(ctx context.Context, s *session, a FinishArgs) error { return s.h.Finish(ctx, a.Set, a.Payload) }),
	noResultOp(OpInstall, "Install",
		func(ctx context.Context, s *session, a InstallArgs) error { return s.h.Install(ctx, a.Set) }),
	noResultOp(OpAccept, "Accept",
		func(ctx context.Context, s *session, _ AcceptArgs) error { return s.h.Accept(ctx) }),
	noResultOp(OpReject, "Reject",
		func(ctx context.Context, s *session, _ RejectArgs) error { return s.h.Reject(ctx) }),
	withResult(OpRelayTEEP, "RelayTEEP", relayTEEPResult,
		func(ctx context.Context, s *session, a RelayTEEPArgs) (RelayTEEPResult, error) {
			r, err := s.h.RelayTEEP(ctx, a.Message)
			if err == nil && r == nil {
				err = Errorf(Internal, "RelayTEEP returned no result")
			}
			if err != nil {
				return RelayTEEPResult{}, err
			}
			return *r, nil
		}),
	withResult(OpGetEvidence, "GetEvidence", resultAs[EvidenceResult](),
		func(ctx context.Context, s *session, a GetEvidenceArgs) (EvidenceResult, error) {
			e, err := s.h.Evidence(ctx, a.Nonce)
			return EvidenceResult{Evidence: e}, err
		}),
	// A reset agreed to ends the session once its answer is sent.
	noResultOp(OpReboot, "Reboot",
		func(ctx context.Context, s *session, _ RebootArgs) error { return s.h.Reboot(ctx) }).endingWith(ErrReboot),
	noResultOp(OpWriteShared, "WriteShared",
		func(ctx context.Context, s *session, a WriteSharedArgs) error {
			data, e := s.sharedChunk(a)
			if e != nil {
				return sessionError{e}
			}
			return s.h.WriteChunk(ctx, a.Set, a.Payload, a.Offset, data)
		}),
	noResultOp(OpCancel, "Cancel",
		func(ctx context.Context, s *session, a CancelArgs) error { return s.h.Cancel(ctx, a.Set) }),
	noResultOp(OpClean, "Clean",
		func(ctx context.Context, s *session, _ CleanArgs) error { return s.h.Clean(ctx) }),
	withResult(OpDeviceStatus, "DeviceStatus", resultAs[DeviceStatusResult](),
		func(ctx context.Context, s *session, _ DeviceStatusArgs) (DeviceStatusResult, error) {
			r, err := s.h.DeviceStatus(ctx)
			if err == nil && r == nil {
				err = Errorf(Internal, "DeviceStatus returned no result")
			}
			if err != nil {
				return DeviceStatusResult{}, err
			}
			return *r, nil
		}),
}

// opRow is one row of the op table.
type opRow struct {
	op   Op
	name string
	args reflect.Type // the …Args type of op
	// decodeArgs decodes the arguments strictly and checks their bounds.
	decodeArgs func(raw []byte, what string) (any, error)
	result     resultForm
	// serve calls the session's handler with decoded arguments, of type
	// args, and returns the result in its public form (nil for none).
	serve func(ctx context.Context, s *session, args any) (any, error)
	// readAhead: the server reads the next frame while it serves this
	// op, for a peer that streams them.
	readAhead bool
	// ends, if not nil, is what Serve returns after answering this op
	// successfully: the session ends.
	ends error
}

// resultForm is how the result of an op crosses the wire.
type resultForm struct {
	typ    reflect.Type                      // the public form, in Response.Result; nil for no result
	wire   func(any) validator               // the public form to the encodable one
	decode func([]byte, string) (any, error) // raw to the public form
}

// noResultForm is the result of the ops that return nothing: an empty
// array on the wire, nil in Response.Result.
var noResultForm = resultForm{
	wire: func(any) validator { return noResult{} },
	decode: func(raw []byte, what string) (any, error) {
		if _, err := decodeAs[noResult](raw, what); err != nil {
			return nil, err
		}
		return nil, nil
	},
}

// componentsResult is the result of Query: a []ComponentInfo, bounded as
// a whole.
var componentsResult = resultForm{
	typ:  reflect.TypeFor[[]ComponentInfo](),
	wire: func(v any) validator { return componentList(v.([]ComponentInfo)) },
	decode: func(raw []byte, what string) (any, error) {
		l, err := decodeAs[componentList](raw, what)
		if err != nil {
			return nil, err
		}
		return []ComponentInfo(l), nil
	},
}

// relayTEEPResult is the result of RelayTEEP: a RelayTEEPResult, whose
// Reboot crosses the wire as 0 or 1.
var relayTEEPResult = resultForm{
	typ:  reflect.TypeFor[RelayTEEPResult](),
	wire: func(v any) validator { return v.(RelayTEEPResult).wire() },
	decode: func(raw []byte, what string) (any, error) {
		w, err := decodeAs[relayTEEPWire](raw, what)
		if err != nil {
			return nil, err
		}
		return w.public(), nil
	},
}

// resultAs is the result form of a type that crosses the wire as it is.
func resultAs[R validator]() resultForm {
	return resultForm{
		typ:    reflect.TypeFor[R](),
		wire:   func(v any) validator { return v.(R) },
		decode: decodeAny[R],
	}
}

// withResult is the row of an op with arguments A and a result.
func withResult[A validator, R any](op Op, name string, res resultForm, serve func(context.Context, *session, A) (R, error)) opRow {
	return opRow{op: op, name: name, args: reflect.TypeFor[A](), decodeArgs: decodeAny[A], result: res,
		serve: func(ctx context.Context, s *session, args any) (any, error) {
			r, err := serve(ctx, s, args.(A))
			if err != nil {
				return nil, err
			}
			return r, nil
		}}
}

// noResultOp is the row of an op with arguments A that returns nothing.
func noResultOp[A validator](op Op, name string, serve func(context.Context, *session, A) error) opRow {
	return opRow{op: op, name: name, args: reflect.TypeFor[A](), decodeArgs: decodeAny[A], result: noResultForm,
		serve: func(ctx context.Context, s *session, args any) (any, error) {
			return nil, serve(ctx, s, args.(A))
		}}
}

func (r opRow) decodedBy(f func([]byte, string) (any, error)) opRow { r.decodeArgs = f; return r }
func (r opRow) readingAhead() opRow                                 { r.readAhead = true; return r }
func (r opRow) endingWith(err error) opRow                          { r.ends = err; return r }

// The table's indexes: by op, by arguments type, by result type.
var (
	rowsByOp     = map[Op]*opRow{}
	rowsByArgs   = map[reflect.Type]*opRow{}
	resultsByTyp = map[reflect.Type]resultForm{}
)

func init() {
	for i := range opTable {
		r := &opTable[i]
		if rowsByOp[r.op] != nil || rowsByArgs[r.args] != nil {
			panic("ipc: op table: " + r.name + " twice")
		}
		rowsByOp[r.op], rowsByArgs[r.args] = r, r
		if r.result.typ != nil {
			resultsByTyp[r.result.typ] = r.result
		}
	}
}

// rowOf returns the row of op, if op is known.
func rowOf(op Op) (*opRow, bool) {
	r, ok := rowsByOp[op]
	return r, ok
}

// argsOp returns the op whose arguments a is, and a as a validator.
func argsOp(a any) (Op, validator) {
	r, ok := rowsByArgs[reflect.TypeOf(a)]
	if !ok {
		return 0, nil
	}
	return r.op, a.(validator)
}

// resultValidator returns the encodable form of a result: nil for none,
// else a value of the result type of some op.
func resultValidator(res any) (validator, bool) {
	if res == nil {
		return noResult{}, true
	}
	f, ok := resultsByTyp[reflect.TypeOf(res)]
	if !ok {
		return nil, false
	}
	return f.wire(res), true
}

// String returns the operation's name.
func (o Op) String() string {
	if r, ok := rowOf(o); ok {
		return r.name
	}
	return "op(" + strconv.FormatUint(uint64(o), 10) + ")"
}
