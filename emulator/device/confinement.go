package device

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/teeup/teeup/normal/confine"
	normalworld "github.com/teeup/teeup/normal/world"
)

// ControlSocket is the normal world's control socket in the device
// directory; the supervisor makes it and passes it on.
const ControlSocket = "normal.sock"

// SpoolDir is the normal world's directory in the device directory: its
// working directory and the only one it may write, where `device update`
// hands it the operator's files. It belongs to the normal world's user.
const SpoolDir = normalworld.SpoolDir

// confinementFile holds, while a supervisor runs the device, the normal
// world's confinement as the supervisor checked it at the last power-on.
const confinementFile = "confinement.json"

// LoadConfinement reads the normal world's confinement, as its
// supervisor checked it, of the device running in dir.
func LoadConfinement(dir string) (*confine.Report, error) {
	var r confine.Report
	if err := readJSON(filepath.Join(dir, confinementFile), &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// ErrNotConfined is returned by Supervisor.Run when RequireConfinement
// is set and the normal world did not put every measure in force.
var ErrNotConfined = errors.New("device: the normal world is not confined")

// prepareSpool makes the spool, owned by the user the normal world
// becomes (when the supervisor is root, so is the normal world at
// first, and it drops to confine.Nobody).
func prepareSpool(dir string) (string, error) {
	spool := filepath.Join(dir, SpoolDir)
	if err := os.MkdirAll(spool, 0o700); err != nil {
		return "", err
	}
	if os.Geteuid() == 0 {
		if err := os.Chown(spool, confine.Nobody, confine.Nobody); err != nil {
			return "", err
		}
	}
	return spool, nil
}

// listenControl makes the control socket of one power-on; the file is
// the listening descriptor the normal world gets. Closing the listener
// removes the socket.
func listenControl(dir string) (*net.UnixListener, *os.File, error) {
	path := filepath.Join(dir, ControlSocket)
	os.Remove(path)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, nil, err
	}
	f, err := l.File()
	if err != nil {
		l.Close()
		return nil, nil, err
	}
	return l, f, nil
}

// checkConfinement reads the normal world's report and checks what the
// kernel says of the process (its /proc status: user, no_new_privs,
// seccomp mode) against it: a measure the kernel does not show is not in
// force, whatever the report says. Landlock's domain is not visible
// there; its report is taken as given.
func checkConfinement(pid int, raw []byte) *confine.Report {
	var r confine.Report
	if len(raw) == 0 || json.Unmarshal(raw, &r) != nil {
		return &confine.Report{Measures: []confine.Measure{{Name: "report", Detail: "the normal world reported no confinement"}}}
	}
	st, err := procStatus(pid)
	if err != nil {
		return overrule(&r, func(confine.Measure) string { return fmt.Sprintf("its process cannot be checked: %v", err) })
	}
	uids := strings.Fields(st["Uid"])
	return overrule(&r, func(m confine.Measure) string {
		switch m.Name {
		case confine.NoNewPrivs:
			if st["NoNewPrivs"] != "1" {
				return "the kernel shows NoNewPrivs " + st["NoNewPrivs"]
			}
		case confine.Seccomp:
			if st["Seccomp"] != "2" {
				return "the kernel shows seccomp mode " + st["Seccomp"]
			}
		case confine.User:
			for _, u := range uids {
				if u == "0" || u == strconv.Itoa(os.Geteuid()) {
					return "the kernel shows uids " + st["Uid"]
				}
			}
		}
		return ""
	})
}

// overrule marks not in force each measure the report claims that check
// contradicts.
func overrule(r *confine.Report, check func(confine.Measure) string) *confine.Report {
	for i, m := range r.Measures {
		if !m.InForce {
			continue
		}
		if why := check(m); why != "" {
			r.Measures[i].InForce = false
			r.Measures[i].Detail = "reported in force, but " + why
		}
	}
	return r
}

func procStatus(pid int) (map[string]string, error) {
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok {
			out[k] = strings.TrimSpace(v)
		}
	}
	return out, sc.Err()
}
