package device

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// claimAll is a confinement report that claims every measure in force.
const claimAll = `{"measures":[{"name":"landlock","in_force":true},{"name":"landlock_scoped","in_force":true},` +
	`{"name":"user","in_force":true},{"name":"no_new_privs","in_force":true},{"name":"seccomp","in_force":true}]}`

// TestRequireConfinement: the supervisor does not take the normal
// world's word. A normal world that reports nothing, or claims every
// measure while the kernel shows its process unconfined (a shell of the
// supervisor's user, without no_new_privs or seccomp), stops a device
// that requires confinement with ErrNotConfined, naming what is missing;
// without the requirement the device runs and the log says what is
// missing.
func TestRequireConfinement(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, normal string
		require      bool
		wantErr      error
		wantLog      []string
	}{
		{"a lie is caught", fmt.Sprintf(`echo '%s' >&7; exec 7>&-; exec sleep 60`, claimAll), true, ErrNotConfined,
			[]string{"no_new_privs", "seccomp", "the kernel shows NoNewPrivs 0", "the kernel shows seccomp mode 0"}},
		{"no report", `exec 7>&-; exec sleep 60`, true, ErrNotConfined, []string{"reported no confinement"}},
		{"not required: runs, says so", `exec 7>&-; exec sleep 60`, false, nil,
			[]string{`msg="normal world runs with confinements missing"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			exe := filepath.Join(dir, "worlds.sh")
			script := "#!/bin/sh\ncase \"$2\" in\nsecure-world) exec sleep 60 ;;\nnormal-world) " + tc.normal + " ;;\nesac\n"
			if err := os.WriteFile(exe, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			var log syncBuffer
			s := &Supervisor{Dir: dir, Exe: exe, RequireConfinement: tc.require, Log: slog.New(slog.NewTextHandler(&log, nil))}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := s.Run(ctx)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("Run = %v, want %v\n%s", err, tc.wantErr, log.String())
			}
			if tc.wantErr == nil && ctx.Err() == nil {
				t.Fatalf("the device stopped before it was told to\n%s", log.String())
			}
			for _, want := range tc.wantLog {
				if !strings.Contains(log.String()+fmt.Sprint(err), want) {
					t.Errorf("neither the log nor the error says %q:\n%s\n%v", want, log.String(), err)
				}
			}
		})
	}
}
