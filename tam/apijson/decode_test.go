package apijson_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/teeup/teeup/tam/apijson"
)

// request is the shape the tests decode: a string, a list and a nested
// object, as the API's requests have.
type request struct {
	Name  string   `json:"name"`
	Tags  []string `json:"tags,omitempty"`
	Inner *struct {
		N int `json:"n"`
	} `json:"inner,omitempty"`
}

// testLimit bounds the bodies of these tests.
const testLimit = 64

func TestRead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want error // nil: decodes into wantName
		// wantName is the decoded name.
		wantName string
	}{
		{name: "one object", body: `{"name":"acme"}`, wantName: "acme"},
		{name: "white space around it", body: " \n\t{\"name\":\"acme\"}\r\n ", wantName: "acme"},
		{name: "nested", body: `{"name":"a","tags":["x"],"inner":{"n":1}}`, wantName: "a"},
		{name: "exactly the bound", body: `{"name":"` + strings.Repeat("a", testLimit-11) + `"}`, wantName: strings.Repeat("a", testLimit-11)},
		{name: "empty", body: ``, want: apijson.ErrMalformed},
		{name: "only white space", body: "  \n", want: apijson.ErrMalformed},
		{name: "an unknown field", body: `{"name":"a","evil":1}`, want: apijson.ErrMalformed},
		{name: "an unknown nested field", body: `{"name":"a","inner":{"n":1,"m":2}}`, want: apijson.ErrMalformed},
		{name: "a wrong type", body: `{"name":1}`, want: apijson.ErrMalformed},
		{name: "two values", body: `{"name":"a"}{"name":"b"}`, want: apijson.ErrMalformed},
		{name: "a number after the value", body: `{"name":"a"} 5`, want: apijson.ErrMalformed},
		{name: "a stray brace after the value", body: `{"name":"a"}}`, want: apijson.ErrMalformed},
		{name: "a comma after the value", body: `{"name":"a"},`, want: apijson.ErrMalformed},
		{name: "truncated", body: `{"name":"a"`, want: apijson.ErrMalformed},
		{name: "not JSON", body: `name=a`, want: apijson.ErrMalformed},
		{name: "a list, not an object", body: `["a"]`, want: apijson.ErrMalformed},
		{name: "one byte over the bound", body: `{"name":"` + strings.Repeat("a", testLimit-10) + `"}`, want: apijson.ErrTooLarge},
		{name: "a value within the bound, padding past it", body: `{"name":"a"}` + strings.Repeat(" ", testLimit), want: apijson.ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			var got request
			err := apijson.Read(httptest.NewRecorder(), r, testLimit, &got)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("Read(%q) = %v, want %v", tc.body, err, tc.want)
				}
				// A refusal is one of the two, never both.
				if errors.Is(err, apijson.ErrMalformed) == errors.Is(err, apijson.ErrTooLarge) {
					t.Fatalf("Read(%q) = %v: both or neither sentinel", tc.body, err)
				}
				return
			}
			if err != nil || got.Name != tc.wantName {
				t.Fatalf("Read(%q) = %+v, %v; want name %q", tc.body, got, err, tc.wantName)
			}
		})
	}
}

func TestReadOptional(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		want     error
		wantName string
	}{
		{name: "empty leaves the value", body: ``, wantName: "before"},
		{name: "white space leaves the value", body: " \r\n", wantName: "before"},
		{name: "a value", body: `{"name":"after"}`, wantName: "after"},
		{name: "an unknown field", body: `{"reason":"x"}`, want: apijson.ErrMalformed},
		{name: "two values", body: `{} {}`, want: apijson.ErrMalformed},
		{name: "white space over the bound", body: strings.Repeat(" ", testLimit+1), want: apijson.ErrTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(tc.body))
			got := request{Name: "before"}
			err := apijson.ReadOptional(httptest.NewRecorder(), r, testLimit, &got)
			if !errors.Is(err, tc.want) || (tc.want == nil && got.Name != tc.wantName) {
				t.Fatalf("ReadOptional(%q) = %+v, %v; want %q, %v", tc.body, got, err, tc.wantName, tc.want)
			}
		})
	}
}

func TestBodyError(t *testing.T) {
	t.Parallel()
	tooBig := &http.MaxBytesError{Limit: 1}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{name: "over the bound", err: tooBig, want: apijson.ErrTooLarge},
		{name: "over the bound, wrapped", err: errors.Join(errors.New("multipart"), tooBig), want: apijson.ErrTooLarge},
		{name: "anything else", err: errors.New("unexpected EOF"), want: apijson.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := apijson.BodyError(tc.err)
			if !errors.Is(got, tc.want) || !errors.Is(got, tc.err) {
				t.Fatalf("BodyError(%v) = %v, want %v wrapping it", tc.err, got, tc.want)
			}
		})
	}
}

// FuzzDecode: whatever the body, Read decodes one value that re-encodes
// and decodes to the same, from a body within its bound, or refuses it with
// exactly one of its two sentinels; it never panics.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"name":"acme"}`, `{"name":"a","tags":["x","y"],"inner":{"n":-1}}`, ` {"name":"a"} `,
		`{"name":"a"}{"name":"b"}`, `{"name":"a","evil":1}`, `{"name":"\u00e9\ud83d\ude00"}`, `null`, `{}`, `[`, ``,
		`{"name":"a"}` + strings.Repeat(" ", testLimit),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		var got request
		err := apijson.Read(httptest.NewRecorder(), r, testLimit, &got)
		if err != nil {
			if errors.Is(err, apijson.ErrMalformed) == errors.Is(err, apijson.ErrTooLarge) {
				t.Fatalf("Read(%q) = %v: both or neither sentinel", body, err)
			}
			if errors.Is(err, apijson.ErrTooLarge) && len(body) <= testLimit {
				t.Fatalf("Read(%q) = %v for %d bytes, within the bound", body, err, len(body))
			}
			return
		}
		if len(body) > testLimit {
			t.Fatalf("Read accepted %d bytes, over the bound of %d", len(body), testLimit)
		}
		// What it decoded re-encodes to JSON that decodes to the same
		// value (an empty list and none encode alike: compared encoded).
		enc, err := json.Marshal(got)
		if err != nil {
			t.Fatal(err)
		}
		var again request
		if err := apijson.Decode(bytes.NewReader(enc), &again); err != nil {
			t.Fatalf("%+v re-encoded as %s: %v", got, enc, err)
		}
		if enc2, _ := json.Marshal(again); !bytes.Equal(enc2, enc) {
			t.Fatalf("%s decodes to %+v, which encodes as %s", enc, again, enc2)
		}
	})
}
