package auth_test

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/store"
)

// TestRateLimits: per source, the TEEP endpoint and the login take their
// burst and then refuse with 429 until the (fixed, advanced) clock
// refills them; another source is not affected.
func TestRateLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		rate  auth.Config
		route string
	}{
		{name: "teep", rate: auth.Config{TEEPRate: auth.Rate{Per: 1, Burst: 3}}, route: auth.RouteTEEP},
		{name: "poll", rate: auth.Config{TEEPRate: auth.Rate{Per: 1, Burst: 3}}, route: auth.RoutePoll},
		{name: "login", rate: auth.Config{LoginRate: auth.Rate{Per: 1, Burst: 3}}, route: auth.RouteLogin},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tc.rate)
			rt, _ := auth.RouteByName(tc.route)
			send := func(src string) int {
				r := f.request(rt)
				r.RemoteAddr = src
				return f.do(r).StatusCode
			}
			for i := range 3 {
				if got := send("192.0.2.1:1000"); got == http.StatusTooManyRequests {
					t.Fatalf("request %d within the burst: 429", i)
				}
			}
			if got := send("192.0.2.1:2000"); got != http.StatusTooManyRequests {
				t.Fatalf("past the burst, another port: %d", got)
			}
			if got := send("[2001:db8::1]:1"); got == http.StatusTooManyRequests {
				t.Fatalf("another source: 429")
			}
			f.clock.Advance(time.Second)
			if got := send("192.0.2.1:1000"); got == http.StatusTooManyRequests {
				t.Fatalf("after a refill: 429")
			}
			if got := send("192.0.2.1:1000"); got != http.StatusTooManyRequests {
				t.Fatalf("one refilled, two sent: %d", got)
			}
		})
	}
}

// TestIPv6SourcePrefix: addresses in one /64 share a bucket.
func TestIPv6SourcePrefix(t *testing.T) {
	t.Parallel()
	f := newFixture(t, auth.Config{TEEPRate: auth.Rate{Per: 1, Burst: 1}})
	rt, _ := auth.RouteByName(auth.RouteTEEP)
	r := f.request(rt)
	r.RemoteAddr = "[2001:db8:1:2::1]:1"
	if got := f.do(r).StatusCode; got == http.StatusTooManyRequests {
		t.Fatal("first request: 429")
	}
	r = f.request(rt)
	r.RemoteAddr = "[2001:db8:1:2:ffff::9]:1"
	if got := f.do(r).StatusCode; got != http.StatusTooManyRequests {
		t.Fatalf("same /64: %d", got)
	}
}

// TestFailedAuthThrottle: a source that keeps presenting bad tokens is
// throttled (429) before the gate writes more refusal rows.
func TestFailedAuthThrottle(t *testing.T) {
	t.Parallel()
	f := newFixture(t, auth.Config{FailureRate: auth.Rate{Per: 1, Burst: 5}})
	codes := map[int]int{}
	for range 20 {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/users", strings.NewReader(`{}`))
		r.Header.Set("Authorization", "Bearer "+f.tokens[credUnknown])
		codes[f.do(r).StatusCode]++
	}
	if codes[http.StatusUnauthorized] != 5 || codes[http.StatusTooManyRequests] != 15 {
		t.Fatalf("codes %v", codes)
	}
	if rows := f.snapshot(t).audit; len(rows) != 5 {
		t.Fatalf("%d refusal rows, want 5", len(rows))
	}
}

// TestBodyLimits: each route reads at most its MaxBody; past it the
// handler sees the limit error and nothing is stored.
func TestBodyLimits(t *testing.T) {
	t.Parallel()
	for _, rt := range auth.Routes {
		if rt.MaxBody > 1<<20 {
			continue // the publish bound is exercised by catalog's tests
		}
		t.Run(rt.Name, func(t *testing.T) {
			t.Parallel()
			var read int64
			var readErr error
			mux := http.NewServeMux()
			f := newFixture(t, auth.Config{})
			mux.Handle("/", f.gate.Wrap(rt, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				buf := make([]byte, 4096)
				for {
					n, err := r.Body.Read(buf)
					read += int64(n)
					if err != nil {
						readErr = err
						return
					}
				}
			})))
			r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(strings.Repeat("a", int(rt.MaxBody)+1)))
			r.Header.Set("Authorization", "Bearer "+f.tokens[string(store.RoleOperator)])
			if !rt.Public && !rt.Allows([]store.Role{store.RoleOperator}) {
				r.Header.Set("Authorization", "Bearer "+f.tokens[string(store.RoleTAAuthor)])
			}
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r)
			var tooBig *http.MaxBytesError
			if read > rt.MaxBody || !errors.As(readErr, &tooBig) {
				t.Fatalf("read %d of a %d-byte bound, then %v", read, rt.MaxBody, readErr)
			}
		})
	}
}

// TestSlowClient: a client that sends half a request line and stops is
// cut off by the hardened server's header timeout.
func TestSlowClient(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	auth.HardenServer(srv.Config)
	if srv.Config.ReadHeaderTimeout != auth.ReadHeaderTimeout || srv.Config.ReadTimeout != auth.ReadTimeout ||
		srv.Config.WriteTimeout != auth.WriteTimeout || srv.Config.IdleTimeout != auth.IdleTimeout || srv.Config.MaxHeaderBytes != auth.MaxHeaderBytes {
		t.Fatalf("HardenServer left %+v", srv.Config)
	}
	srv.Config.ReadHeaderTimeout = 50 * time.Millisecond // the real bound, shortened for the test
	srv.Start()
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	// The server closes the connection; a generous deadline only keeps a
	// broken server from hanging the test.
	if err := conn.SetReadDeadline(time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	_, err = bufio.NewReader(conn).ReadString('\n')
	if ne := net.Error(nil); errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the server kept a stalled client for a minute")
	}
	if err == nil {
		t.Fatal("the server answered a request it never got in full")
	}
}

// TestHeaderLimit: headers past MaxHeaderBytes are refused (431).
func TestHeaderLimit(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	auth.HardenServer(srv.Config)
	srv.Start()
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("X-Big", strings.Repeat("a", 2*auth.MaxHeaderBytes))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("status %d", resp.StatusCode)
	}
}
