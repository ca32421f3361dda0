package main

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/teeup/teeup/emulator/device"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/catalog"
)

// TestTAMWithdraw: a real device (two processes) installs acme's two TAs
// from a whole TAM. The attacks fail: another author's token cannot
// withdraw acme's TA, nor can the operator withdraw a firmware image, and
// neither changes anything. acme's own token withdraws one TA: the TAM
// wakes the device, whose next session's Update names the TA in its
// unneeded-manifest-list and nothing else; the Agent unlinks it, the TAM
// records the device's next tc-list without it, the withdrawal list shows
// no device running it, and the device's TA store in flash keeps nothing
// of it but its sequence number, the other TA untouched. Once acme ends
// the withdrawal, the device installs the TA again.
func TestTAMWithdraw(t *testing.T) {
	t.Parallel()
	f := newTAMFixture(t)
	f.run("manifest", "keygen", "--out", filepath.Join(f.dir, "keys", "globex.pem"))
	f.api("ops", "author", "add", "--name", "globex", "--kind", "ta", "--key", filepath.Join(f.dir, "keys", "globex.pub.pem"), "--prefix", "TA/globex")
	f.api("admin", "user", "add", "globex-ci", "--role", "ta-author", "--author", "globex")
	f.tokens["globex-ci"] = strings.TrimSpace(f.api("admin", "token", "create", "--user", "globex-ci", "--expires", "1h"))
	f.publishTA("hello", 1)
	f.publishTA("tool", 1)
	hello := suit.ComponentID{[]byte("TA"), []byte("acme"), []byte("hello")}

	d := f.newDevice("dev", "")
	proxy := newTEEPProxy(t, f)
	d.run(proxy.srv.URL, f.ca)
	has := func(s catalog.DeviceStatus, c string) bool {
		return slices.ContainsFunc(s.TCs, func(tc catalog.TCStatus) bool { return tc.Component == c })
	}
	waitFor(t, "both TAs at the device", func() bool {
		s := f.status(d.id)
		return has(s, "['TA','acme','hello']") && has(s, "['TA','acme','tool']")
	})

	// The attacks: each refused by the TAM, in its words, changing nothing.
	tamAs := func(user string, args ...string) (string, string, int) {
		return teeup(t, append(append([]string{"tam"}, args...), "--tam", f.tam.url, "--tam-ca", f.ca, "--token", f.tokens[user])...)
	}
	for _, a := range []struct {
		name, user, component, code string
	}{
		{"another author's token", "globex-ci", "TA/acme/hello", "outside_prefixes"},
		{"the operator, a firmware image", "ops", "secure", "not_withdrawable"},
		{"the TA's own author, the normal image", "acme-ci", "normal", "not_withdrawable"},
	} {
		out, e, code := tamAs(a.user, "withdraw", a.component)
		if code != exitFailure || !strings.Contains(e, "the TAM refused") {
			t.Fatalf("%s withdrawing %s: exit %d %s%s", a.name, a.component, code, out, e)
		}
		rows := f.auditRows()
		last := rows[len(rows)-1]
		if last.Action != "withdrawal.add" || last.Principal != a.user || !strings.Contains(last.Result, a.code) {
			t.Fatalf("%s: last audit row %+v, want the refusal %s", a.name, last, a.code)
		}
	}
	if list := f.withdrawals(); len(list) != 0 {
		t.Fatalf("withdrawals after the refused ones: %+v", list)
	}

	sessions := len(proxy.recorded())
	if out := f.api("acme-ci", "withdraw", "TA/acme/hello"); !strings.Contains(out, "TA ['TA','acme','hello'] withdrawn by acme-ci") {
		t.Fatalf("withdraw printed %q", out)
	}
	waitFor(t, "the TAM to see hello gone from the device's tc-list", func() bool {
		s := f.status(d.id)
		return !has(s, "['TA','acme','hello']") && has(s, "['TA','acme','tool']")
	})
	list := f.withdrawals()
	if len(list) != 1 || list[0].Component != "['TA','acme','hello']" || list[0].By != "acme-ci" || list[0].RunningCount != 0 || len(list[0].Running) != 0 {
		t.Fatalf("withdrawals %+v, want hello by acme-ci, running nowhere", list)
	}
	if out := f.api("ops", "withdraw", "list"); !strings.Contains(out, "['TA','acme','hello']") || !strings.Contains(out, "no device") {
		t.Fatalf("withdraw list:\n%s", out)
	}

	// On the wire: the Update after the withdrawal unlinked hello and
	// carried no envelope.
	var unlinks int
	for _, x := range proxy.recorded()[sessions:] {
		if len(x.resp) == 0 {
			continue
		}
		s, err := teep.Open(x.resp, []*suit.Key{f.key}, teep.Draft26)
		if err != nil {
			continue
		}
		if u, ok := s.Message.(*teep.Update); ok && len(u.UnneededManifests) > 0 {
			unlinks++
			if len(u.UnneededManifests) != 1 || !suit.ComponentID(u.UnneededManifests[0]).Equal(hello) || len(u.Manifests) != 0 {
				t.Fatalf("the unlinking Update: unneeded %v, %d manifests", u.UnneededManifests, len(u.Manifests))
			}
		}
	}
	if unlinks != 1 {
		t.Fatalf("%d Updates unlinked hello, want 1", unlinks)
	}

	if out, _ := teeupOK(t, "device", "status", "--dir", d.dir); !strings.Contains(out, "TA ['TA','acme','hello']: unlinked at sequence 1") ||
		!strings.Contains(out, "TA ['TA','acme','tool']: sequence 1, ") {
		t.Fatalf("the device's own status:\n%s", out)
	}
	d.stop()
	for _, r := range deviceTARecords(t, d.dir) {
		switch r.id {
		case hello.String():
			if !r.unlinked || r.image != 0 || r.seq != 1 {
				t.Fatalf("hello in flash: %+v, want unlinked, no image, its sequence kept", r)
			}
		case "['TA','acme','tool']":
			if r.unlinked || r.image == 0 {
				t.Fatalf("tool in flash: %+v, want installed", r)
			}
		default:
			t.Fatalf("unexpected TA %s in flash", r.id)
		}
	}

	// The withdrawal ended, the TA comes back to the restarted device: its
	// first session after the boot installs it again.
	if out := f.api("acme-ci", "withdraw", "cancel", "TA/acme/hello"); !strings.Contains(out, "withdrawal of TA ['TA','acme','hello'] (by acme-ci) ended") {
		t.Fatalf("withdraw cancel printed %q", out)
	}
	d.start()
	waitFor(t, "hello back at the device", func() bool { return has(f.status(d.id), "['TA','acme','hello']") })
	if out, _ := teeupOK(t, "device", "status", "--dir", d.dir); !strings.Contains(out, "TA ['TA','acme','hello']: sequence 1, ") {
		t.Fatalf("the device's own status after the withdrawal ended:\n%s", out)
	}
}

// withdrawals is the TAM's withdrawal list.
func (f *tamFixture) withdrawals() []catalog.WithdrawalStatusJSON {
	f.t.Helper()
	var out []catalog.WithdrawalStatusJSON
	if err := json.Unmarshal([]byte(f.api("ops", "withdraw", "list", "--json")), &out); err != nil {
		f.t.Fatal(err)
	}
	return out
}

// auditRows is the TAM's audit trail.
func (f *tamFixture) auditRows() []auth.AuditRow {
	f.t.Helper()
	var page auth.AuditPage
	if err := json.Unmarshal([]byte(f.api("admin", "audit", "--json")), &page); err != nil || len(page.Entries) == 0 {
		f.t.Fatalf("audit: %d rows, %v", len(page.Entries), err)
	}
	return page.Entries
}

// taInFlash is what a stopped device's TA store holds of one TA.
type taInFlash struct {
	id       string
	seq      uint64
	unlinked bool
	image    int
}

// deviceTARecords reads a stopped device's TA store with its own TPM.
func deviceTARecords(t *testing.T, dir string) []taInFlash {
	t.Helper()
	dev, err := device.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	st, err := dev.OpenStore()
	if err != nil {
		t.Fatal(err)
	}
	var out []taInFlash
	for _, r := range st.TAs() {
		out = append(out, taInFlash{id: r.ID.String(), seq: r.SequenceNumber, unlinked: r.Unlinked, image: len(r.Image) + len(r.Personalization)})
	}
	return out
}
