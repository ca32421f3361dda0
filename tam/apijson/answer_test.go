package apijson_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/teeup/teeup/tam/apijson"
)

var (
	errRefused = errors.New("test: refused")
	errMissing = errors.New("test: missing")
)

// testStatuses is a package's table as the API packages write theirs.
var testStatuses = apijson.Statuses{
	{Err: apijson.ErrTooLarge, Status: http.StatusRequestEntityTooLarge, Code: "too_large"},
	{Err: apijson.ErrMalformed, Status: http.StatusBadRequest, Code: "invalid"},
	{Err: errRefused, Status: http.StatusForbidden, Code: "refused"},
	{Err: errMissing, Status: http.StatusNotFound, Code: "missing"},
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		status     int
		v          any
		wantStatus int
		wantBody   string
	}{
		{name: "an object", status: http.StatusCreated, v: map[string]int{"n": 1}, wantStatus: 201, wantBody: "{\"n\":1}\n"},
		{name: "an error body, error before code", status: http.StatusConflict, v: apijson.ErrorBody{Error: "exists", Code: "exists"},
			wantStatus: 409, wantBody: "{\"error\":\"exists\",\"code\":\"exists\"}\n"},
		{name: "HTML escaped", status: http.StatusOK, v: "<a>", wantStatus: 200, wantBody: "\"\\u003ca\\u003e\"\n"},
		{name: "a value that does not encode", status: http.StatusOK, v: map[string]any{"c": make(chan int)},
			wantStatus: 500, wantBody: "{\"error\":\"internal error\",\"code\":\"internal\"}\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := httptest.NewRecorder()
			apijson.WriteJSON(w, tc.status, tc.v)
			if w.Code != tc.wantStatus || w.Body.String() != tc.wantBody {
				t.Errorf("answered %d %q, want %d %q", w.Code, w.Body, tc.wantStatus, tc.wantBody)
			}
			if ct, cc := w.Header().Get("Content-Type"), w.Header().Get("Cache-Control"); ct != "application/json" || cc != "no-store" {
				t.Errorf("Content-Type %q, Cache-Control %q", ct, cc)
			}
		})
	}
}

func TestStatusesOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
	}{
		{name: "a row", err: errRefused, wantStatus: 403, wantCode: "refused"},
		{name: "wrapped", err: fmt.Errorf("device %q: %w", "d", errMissing), wantStatus: 404, wantCode: "missing"},
		{name: "the first row that matches", err: fmt.Errorf("%w: %w", errMissing, errRefused), wantStatus: 403, wantCode: "refused"},
		{name: "a malformed body", err: apijson.BodyError(errors.New("EOF")), wantStatus: 400, wantCode: "invalid"},
		{name: "a body over its bound", err: apijson.BodyError(&http.MaxBytesError{Limit: 1}), wantStatus: 413, wantCode: "too_large"},
		{name: "a bare MaxBytesError", err: fmt.Errorf("read: %w", &http.MaxBytesError{Limit: 1}), wantStatus: 413, wantCode: "too_large"},
		{name: "no row", err: errors.New("disk on fire"), wantStatus: 500, wantCode: "internal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if status, code := testStatuses.Of(tc.err); status != tc.wantStatus || code != tc.wantCode {
				t.Errorf("Of(%v) = %d %q, want %d %q", tc.err, status, code, tc.wantStatus, tc.wantCode)
			}
		})
	}
}

// TestResponderError: a refusal is answered with its own text; an
// internal fault's text is logged and never reaches the client.
func TestResponderError(t *testing.T) {
	t.Parallel()
	const secret = "postgres://admin:hunter2@db/teeup: connection refused"
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantBody   apijson.ErrorBody
		wantLogged bool
	}{
		{name: "a refusal", err: fmt.Errorf("device %q: %w", "d", errMissing), wantStatus: 404,
			wantBody: apijson.ErrorBody{Error: `device "d": test: missing`, Code: "missing"}},
		{name: "a malformed body", err: apijson.BodyError(errors.New("unexpected EOF")), wantStatus: 400,
			wantBody: apijson.ErrorBody{Error: "apijson: malformed JSON body: unexpected EOF", Code: "invalid"}},
		{name: "an internal fault", err: errors.New(secret), wantStatus: 500,
			wantBody: apijson.ErrorBody{Error: "internal error", Code: "internal"}, wantLogged: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var log bytes.Buffer
			a := apijson.Responder{Statuses: testStatuses, Log: slog.New(slog.NewTextHandler(&log, nil))}
			w := httptest.NewRecorder()
			a.Error(w, tc.err)
			var got apijson.ErrorBody
			dec := json.NewDecoder(w.Body)
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil || w.Code != tc.wantStatus || got != tc.wantBody {
				t.Fatalf("answered %d %+v (%v), want %d %+v", w.Code, got, err, tc.wantStatus, tc.wantBody)
			}
			if w.Header().Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q", w.Header().Get("Content-Type"))
			}
			if logged := strings.Contains(log.String(), tc.err.Error()); logged != tc.wantLogged {
				t.Errorf("logged %q, want the error logged: %v", log.String(), tc.wantLogged)
			}
		})
	}
}

// TestResponderRead: Read answers its refusal, with the status of its
// sentinel, and says so.
func TestResponderRead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		optional   bool
		body       string
		wantOK     bool
		wantStatus int
	}{
		{name: "a value", body: `{"name":"a"}`, wantOK: true, wantStatus: 200},
		{name: "malformed", body: `{"name":`, wantStatus: 400},
		{name: "too large", body: strings.Repeat(" ", testLimit+1), wantStatus: 413},
		{name: "optional, empty", optional: true, body: ``, wantOK: true, wantStatus: 200},
		{name: "optional, too large", optional: true, body: strings.Repeat(" ", testLimit+1), wantStatus: 413},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := apijson.Responder{Statuses: testStatuses, Log: slog.New(slog.DiscardHandler)}
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			w := httptest.NewRecorder()
			var v request
			read := a.Read
			if tc.optional {
				read = a.ReadOptional
			}
			if ok := read(w, r, testLimit, &v); ok != tc.wantOK || w.Code != tc.wantStatus {
				t.Fatalf("%v, answered %d %s; want %v, %d", ok, w.Code, w.Body, tc.wantOK, tc.wantStatus)
			}
		})
	}
}
