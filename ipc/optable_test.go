package ipc

import (
	"reflect"
	"testing"
)

// TestOpTable: every row is named, its arguments type maps back to it,
// and its zero arguments and result cross the wire as that op's.
func TestOpTable(t *testing.T) {
	t.Parallel()
	for _, r := range opTable {
		t.Run(r.name, func(t *testing.T) {
			if r.op.String() != r.name {
				t.Errorf("op %d is named %q", r.op, r.op.String())
			}
			args := reflect.New(r.args).Elem().Interface()
			if got, _ := argsOp(args); got != r.op {
				t.Errorf("its arguments map to %v", got)
			}
			req := &Request{Version: ProtocolVersion, ID: 1, Op: r.op, Args: args}
			got, err := DecodeRequest(mustEncode(t, EncodeRequest, req))
			if err != nil || got.Op != r.op || reflect.TypeOf(got.Args) != r.args {
				t.Errorf("request round trip: %+v, %v", got, err)
			}
			var res any
			if r.result.typ != nil {
				res = reflect.New(r.result.typ).Elem().Interface()
			}
			resp := &Response{Version: ProtocolVersion, ID: 1, Result: res}
			back, err := DecodeResponse(mustEncode(t, EncodeResponse, resp), r.op)
			if err != nil || reflect.TypeOf(back.Result) != r.result.typ {
				t.Errorf("response round trip: %+v, %v", back, err)
			}
		})
	}
	if got := Op(99).String(); got != "op(99)" {
		t.Errorf("an unknown op is named %q", got)
	}
}
