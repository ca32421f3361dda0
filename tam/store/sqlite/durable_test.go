package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/storetest"
)

// A restart (Close, Open on the same file) loses nothing acknowledged.
func TestReopen(t *testing.T) {
	var path string
	storetest.Reopen(t, func(t *testing.T) store.Store {
		path = filepath.Join(t.TempDir(), "tam.db")
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, func(t *testing.T, old store.Store) store.Store {
		if err := old.Close(); err != nil {
			t.Fatal(err)
		}
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// crashEnv makes the test binary the TAM that TestKilledLosesNothingAcked
// kills: it writes to the store in the file the variable names, and prints
// "ack N" after each write returned.
const crashEnv = "TEEUP_SQLITE_CRASH_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashEnv); path != "" {
		os.Exit(crashChild(path))
	}
	os.Exit(m.Run())
}

func crashChild(path string) int {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	w := bufio.NewWriter(os.Stdout)
	for i := 1; ; i++ {
		// Three kinds of write, each acknowledged only once it returned.
		var err error
		switch i % 3 {
		case 0:
			_, err = s.AppendAudit(ctx, store.AuditEntry{Time: colTime(int64(i)), Action: "write", Target: strconv.Itoa(i), Result: "ok"})
		case 1:
			err = s.CreateSession(ctx, store.Session{Token: []byte(strconv.Itoa(i)), State: store.QuerySent, Expires: colTime(1 << 62)})
		case 2:
			err = s.AdvanceSession(ctx, store.Session{Token: []byte(strconv.Itoa(i - 1)), State: store.UpdateSent, Expires: colTime(1 << 62)}, store.QuerySent, colTime(1))
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Fprintf(w, "ack %d\n", i)
		w.Flush()
	}
}

// The TAM process is killed (SIGKILL, no Close) while it writes as fast
// as it can; every write it acknowledged before is in the file when the
// next TAM opens it. Run on several kills, counted.
func TestKilledLosesNothingAcked(t *testing.T) {
	t.Parallel()
	const kills = 3
	for k := range kills {
		path := filepath.Join(t.TempDir(), "tam.db")
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashEnv+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		acked := 0
		// Kill after a number of acks that differs per run, so the kill
		// lands in a different write each time.
		target := 60 + 37*k
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			n, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "ack "))
			if err != nil || n != acked+1 {
				t.Fatalf("child said %q after ack %d", sc.Text(), acked)
			}
			acked = n
			if acked == target {
				cmd.Process.Signal(syscall.SIGKILL)
				break
			}
		}
		// Acks the child wrote before the signal landed count too.
		for sc.Scan() {
			if n, err := strconv.Atoi(strings.TrimPrefix(sc.Text(), "ack ")); err == nil && n == acked+1 {
				acked = n
			}
		}
		cmd.Wait()
		if acked < target {
			t.Fatalf("kill %d: the child stopped after %d acks: %s", k, acked, stderr.String())
		}
		verifyAcked(t, path, acked)
		t.Logf("kill %d: %d writes acknowledged, all found after the restart", k, acked)
	}
}

func verifyAcked(t *testing.T, path string, acked int) {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var check string
	if err := s.r.QueryRowContext(t.Context(), `PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity check after the kill: %q, %v", check, err)
	}
	audit, err := s.ListAudit(t.Context(), 0, store.MaxPage)
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, e := range audit {
		targets[e.Target] = true
	}
	for i := 1; i <= acked; i++ {
		switch i % 3 {
		case 0:
			if !targets[strconv.Itoa(i)] {
				t.Fatalf("acknowledged audit entry %d lost", i)
			}
		case 1:
			sess, err := s.Session(t.Context(), []byte(strconv.Itoa(i)))
			if err != nil {
				t.Fatalf("acknowledged session %d lost: %v", i, err)
			}
			if i+1 <= acked && sess.State != store.UpdateSent {
				t.Fatalf("acknowledged advance of session %d lost: %s", i, sess.State)
			}
		}
	}
}
