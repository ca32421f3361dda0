package catalog_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/teeup/teeup/tam/apijson"
	"github.com/teeup/teeup/tam/catalog"
	"github.com/teeup/teeup/tam/store"
)

// mux routes the catalog's handlers as tam/server.go does, with a gate
// that puts the principal of the test in every request.
func (r *rig) mux(principal func() context.Context) *http.ServeMux {
	gate := func(h http.HandlerFunc) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			h(w, req.WithContext(principal()))
		})
	}
	m := http.NewServeMux()
	m.HandleFunc("GET /payloads/{digest}", r.cat.ServePayload)
	m.Handle("POST /api/v1/authors", gate(r.cat.HandleAddAuthor))
	m.Handle("GET /api/v1/authors", gate(r.cat.HandleListAuthors))
	m.Handle("POST /api/v1/publish", gate(r.cat.HandlePublish))
	m.Handle("POST /api/v1/personalize", gate(r.cat.HandlePersonalize))
	m.Handle("POST /api/v1/devices", gate(r.cat.HandleAddDevice))
	m.Handle("GET /api/v1/devices", gate(r.cat.HandleListDevices))
	m.Handle("GET /api/v1/status", gate(r.cat.HandleStatus))
	return m
}

func do(t *testing.T, h http.Handler, method, path, contentType string, body []byte, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func jsonBody(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAPIStatuses: each refusal has its status and code, in JSON; the
// publish body may be JSON or multipart.
func TestAPIStatuses(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	img := []byte("hello TA image")
	env := envelope(t, id("TA", "acme", "hello"), 1, img, r.signers["acme"])
	globexEnv := envelope(t, id("TA", "globex", "wallet"), 1, img, r.signers["globex"])
	h := r.mux(func() context.Context { return as("acme", store.RoleTAAuthor) })

	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	part, _ := mw.CreateFormFile("envelope", "hello.suit")
	part.Write(env)
	part, _ = mw.CreateFormFile("payload", "hello.bin")
	part.Write(img)
	mw.Close()

	d := newDevice(t, 1)
	tests := []struct {
		name, method, path, ctype string
		body                      []byte
		status                    int
		code                      string
	}{
		{"publish multipart", "POST", "/api/v1/publish", mw.FormDataContentType(), mp.Bytes(), 201, ""},
		{"publish again, JSON", "POST", "/api/v1/publish", "application/json",
			jsonBody(t, catalog.PublishRequest{Envelope: env, Payloads: [][]byte{img}}), 409, "exists"},
		{"another author's envelope", "POST", "/api/v1/publish", "application/json",
			jsonBody(t, catalog.PublishRequest{Envelope: globexEnv}), 403, "bad_signature"},
		{"as another author", "POST", "/api/v1/publish", "application/json",
			jsonBody(t, catalog.PublishRequest{Author: "globex", Envelope: globexEnv}), 403, "not_author"},
		{"a payload that does not match", "POST", "/api/v1/publish", "application/json",
			jsonBody(t, catalog.PublishRequest{Envelope: envelope(t, id("TA", "acme", "x"), 1, img, r.signers["acme"]), Payloads: [][]byte{[]byte("y")}}), 400, "payload_digest"},
		{"an envelope no TEEP Update can carry", "POST", "/api/v1/publish", "application/json",
			jsonBody(t, catalog.PublishRequest{Envelope: integrated(t, id("TA", "acme", "big"), 1, make([]byte, 128<<10), r.signers["acme"])}), 413, "too_large_for_teep"},
		{"unknown fields", "POST", "/api/v1/publish", "application/json", []byte(`{"envelope":"","evil":1}`), 400, "invalid"},
		{"too large", "POST", "/api/v1/authors", "application/json", []byte(`{"name":"` + strings.Repeat("a", catalog.MaxJSONBody) + `"}`), 413, "too_large"},
		{"too many prefixes", "POST", "/api/v1/authors", "application/json",
			jsonBody(t, catalog.AuthorRequest{Name: "many", Kind: "ta", Key: string(publicPEM(t, &d.agent.PublicKey)), Prefixes: make([]string, catalog.MaxPrefixes+1)}), 400, "invalid"},
		{"an author", "POST", "/api/v1/authors", "application/json",
			jsonBody(t, catalog.AuthorRequest{Name: "initech", Kind: "ta", Key: string(publicPEM(t, &d.agent.PublicKey)), Prefixes: []string{"TA/initech"}}), 201, ""},
		{"a device", "POST", "/api/v1/devices", "application/json",
			jsonBody(t, catalog.DeviceRequest{Name: "kitchen", Endorsement: d.endorsement, AgreementKey: string(d.agreement)}), 201, ""},
		{"personalize", "POST", "/api/v1/personalize", "application/json",
			jsonBody(t, catalog.PersonalizeRequest{Device: d.id(t), TC: "['TA','acme','hello']", Data: []byte("k=v")}), 201, ""},
		{"personalize an unknown device", "POST", "/api/v1/personalize", "application/json",
			jsonBody(t, catalog.PersonalizeRequest{Device: strings.Repeat("0", 64), TC: "TA/acme/hello", Data: []byte("k=v")}), 404, "unknown_device"},
		{"status", "GET", "/api/v1/status", "", nil, 200, ""},
		{"authors", "GET", "/api/v1/authors", "", nil, 200, ""},
		{"devices", "GET", "/api/v1/devices", "", nil, 200, ""},
		{"status, a page of one", "GET", "/api/v1/status?limit=1&after=" + strings.Repeat("0", 64), "", nil, 200, ""},
		{"status, a limit over the page, clamped", "GET", "/api/v1/status?limit=1000000", "", nil, 200, ""},
		{"status, limit 0", "GET", "/api/v1/status?limit=0", "", nil, 400, "invalid"},
		{"status, a negative limit", "GET", "/api/v1/status?limit=-1", "", nil, 400, "invalid"},
		{"status, a limit not a number", "GET", "/api/v1/status?limit=ten", "", nil, 400, "invalid"},
		{"status, after not hex", "GET", "/api/v1/status?after=kitchen", "", nil, 400, "invalid"},
		{"status, after in capitals", "GET", "/api/v1/status?after=" + strings.Repeat("A", 64), "", nil, 400, "invalid"},
		{"status, after too long", "GET", "/api/v1/status?after=" + strings.Repeat("a", store.MaxKey+1), "", nil, 400, "invalid"},
		{"devices, a page of one", "GET", "/api/v1/devices?limit=1", "", nil, 200, ""},
		{"devices, limit 0", "GET", "/api/v1/devices?limit=0", "", nil, 400, "invalid"},
		{"devices, after not hex", "GET", "/api/v1/devices?after=%27%3B--", "", nil, 400, "invalid"},
	}
	for _, tc := range tests {
		w := do(t, h, tc.method, tc.path, tc.ctype, tc.body)
		if w.Code != tc.status {
			t.Fatalf("%s: status %d, want %d: %s", tc.name, w.Code, tc.status, w.Body)
		}
		if w.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s: Content-Type %q", tc.name, w.Header().Get("Content-Type"))
		}
		if tc.code != "" {
			var e apijson.ErrorBody
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Code != tc.code || e.Error == "" {
				t.Errorf("%s: error body %s, want code %q", tc.name, w.Body, tc.code)
			}
		}
	}
	var st catalog.StatusJSON
	if err := json.Unmarshal(do(t, h, "GET", "/api/v1/status", "", nil).Body.Bytes(), &st); err != nil ||
		len(st.Devices) != 1 || st.Devices[0].ID != d.id(t) || st.Devices[0].Name != "kitchen" ||
		st.Summary == nil || st.Summary.Devices != 1 || st.Summary.NeverSeen != 1 || st.Next != "" {
		t.Fatalf("status %+v, %v", st, err)
	}
	var list catalog.DeviceListJSON
	if err := json.Unmarshal(do(t, h, "GET", "/api/v1/devices", "", nil).Body.Bytes(), &list); err != nil ||
		len(list.Devices) != 1 || list.Devices[0].ID != d.id(t) || list.Next != "" {
		t.Fatalf("devices %+v, %v", list, err)
	}
}

// TestServePayload: a payload by its digest, whole, in ranges, resumed
// after a cut with If-Range, HEAD, and 404 for a digest the TAM lacks.
func TestServePayload(t *testing.T) {
	t.Parallel()
	r := newRig(t)
	img := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	if _, err := r.cat.Publish(acme(r), catalog.Publication{Envelope: envelope(t, id("TA", "acme", "big"), 1, img, r.signers["acme"]),
		Payloads: [][]byte{img}}); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(img)
	name := hex.EncodeToString(sum[:])
	etag := `"` + name + `"`
	srv := httptest.NewServer(r.mux(context.Background))
	defer srv.Close()
	url := srv.URL + catalog.PayloadPath(sum[:])

	get := func(method, url string, header ...string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, url, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, b
	}
	// A download cut in the middle: the client read half and lost the
	// connection.
	resp, err := srv.Client().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	half := make([]byte, len(img)/2)
	if _, err := io.ReadFull(resp.Body, half); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("ETag") != etag {
		t.Fatalf("ETag %q, want %q", resp.Header.Get("ETag"), etag)
	}
	// It resumes where it stopped, if the payload is still the one it
	// began.
	resp, rest := get("GET", url, "Range", "bytes=32768-", "If-Range", etag)
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(append(half, rest...), img) {
		t.Fatalf("resume: %d, %d bytes", resp.StatusCode, len(rest))
	}
	tests := []struct {
		name, method, url string
		header            []string
		status            int
		body              []byte
	}{
		{"whole", "GET", url, nil, 200, img},
		{"a range", "GET", url, []string{"Range", "bytes=10-19"}, 206, img[10:20]},
		{"If-Range of another payload gives it whole", "GET", url, []string{"Range", "bytes=10-19", "If-Range", `"00"`}, 200, img},
		{"If-None-Match", "GET", url, []string{"If-None-Match", etag}, 304, nil},
		{"HEAD", "HEAD", url, nil, 200, nil},
		{"a range past the end", "GET", url, []string{"Range", "bytes=999999-"}, 416, nil},
		{"an unknown digest", "GET", srv.URL + "/payloads/" + strings.Repeat("ab", 32), nil, 404, nil},
		{"uppercase hex", "GET", srv.URL + "/payloads/" + strings.ToUpper(name), nil, 404, nil},
		{"not a digest", "GET", srv.URL + "/payloads/abc", nil, 404, nil},
	}
	for _, tc := range tests {
		resp, b := get(tc.method, tc.url, tc.header...)
		if resp.StatusCode != tc.status || (tc.body != nil && !bytes.Equal(b, tc.body)) {
			t.Errorf("%s: %d with %d bytes, want %d", tc.name, resp.StatusCode, len(b), tc.status)
		}
		if tc.method == "HEAD" && resp.ContentLength != int64(len(img)) {
			t.Errorf("HEAD: Content-Length %d", resp.ContentLength)
		}
	}
}

// FuzzPublishBody: whatever the body, ReadPublication answers a
// Publication or a typed refusal, never a panic, and a JSON body that
// decodes is bounded as the handler bounds it.
func FuzzPublishBody(f *testing.F) {
	f.Add("application/json", []byte(`{"envelope":"2BOh","payloads":["eA=="]}`))
	f.Add("application/json", []byte(`{"author":"acme","envelope":""}`))
	f.Add("multipart/form-data; boundary=X", []byte("--X\r\nContent-Disposition: form-data; name=\"envelope\"\r\n\r\nabc\r\n--X--\r\n"))
	f.Add("multipart/form-data; boundary=X", []byte("--X\r\nContent-Disposition: form-data; name=\"payload\"\r\n\r\n\r\n--X--\r\n"))
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		req := httptest.NewRequest("POST", "/api/v1/publish", bytes.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		pub, err := catalog.ReadPublication(req)
		if err != nil {
			if status, _ := catalog.StatusOf(err); status != 400 && status != 413 {
				t.Fatalf("status %d for %v", status, err)
			}
			return
		}
		if len(pub.Payloads) > catalog.MaxPayloads+2 {
			t.Fatalf("%d payloads", len(pub.Payloads))
		}
	})
}
