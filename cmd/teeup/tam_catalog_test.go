package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/teeup/teeup/emulator/device"
	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/tam"
	"github.com/teeup/teeup/tam/auth"
	"github.com/teeup/teeup/tam/catalog"
	"github.com/teeup/teeup/tam/store"
	"github.com/teeup/teeup/tam/store/sqlite"
)

// catalogTAM is a whole TAM (tam.New: the auth gate, the catalog, the
// TEEP endpoint) over HTTP on loopback with a fresh store and a first
// operator: the server, its store, its public key's file and the
// operator's token.
func catalogTAM(t *testing.T) (url string, st store.Store, keyFile, token string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "tam.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(nil)
	url = "http://" + hs.Listener.Addr().String()
	srv, err := tam.New(tam.Config{Store: db, Key: key, BaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	hs.Config.Handler = srv.Handler()
	hs.Start()
	t.Cleanup(func() { hs.Close(); srv.Close() })
	admin, err := auth.InitAdmin(ctx, db, "admin", time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := tam.PublicKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile = filepath.Join(dir, "tam.pub.pem")
	if err := os.WriteFile(keyFile, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	return url, db, keyFile, admin.Token
}

// publicOf writes the public half of a development signing key beside it.
func publicOf(t *testing.T, private string) string {
	t.Helper()
	b, err := os.ReadFile(private)
	if err != nil {
		t.Fatal(err)
	}
	k, err := suit.ParseSigningKeyPEM(b)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := k.MarshalPublicPEM()
	if err != nil {
		t.Fatal(err)
	}
	out := strings.TrimSuffix(private, ".pem") + ".pub.pem"
	if err := os.WriteFile(out, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTAMCatalogEndToEnd: through the command line and a whole TAM, the
// operator registers two TA authors and a device (from the endorsement
// its `device init --tam-key` wrote); acme's token publishes acme's TA
// and cannot publish globex's valid one; the operator personalizes the
// TA for the device; the running device installs the TA and then the
// TAM's personalization manifest, fetching both payloads from the TAM's
// payload endpoint; its secure storage holds the plaintext, which the
// TAM never stored; the status table shows the device.
func TestTAMCatalogEndToEnd(t *testing.T) {
	url, st, tamKey, admin := catalogTAM(t)
	tamCmd := func(token string, args ...string) (string, string, int) {
		t.Helper()
		return teeup(t, append(append([]string{"tam"}, args...), "--tam", url, "--token", token)...)
	}

	// The device trusts the TAM (its TEEP Agent, and personalization).
	dir := filepath.Join(t.TempDir(), "dev")
	if out, e, code := teeup(t, "device", "init", "--dir", dir, "--tam-key", tamKey); code != 0 {
		t.Fatalf("device init: %s%s", out, e)
	}
	d := &runningDevice{t: t, dir: dir, args: []string{"--health-cmd", "true"}, log: &lockedBuffer{}}
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			t.Logf("device log:\n%s", d.log.String())
		}
	})
	d.start()

	for _, a := range []string{"acme", "globex"} {
		key := publicOf(t, filepath.Join(dir, "dev-keys", "ta-"+a+".pem"))
		if out, e, code := tamCmd(admin, "author", "add", "--name", a, "--key", key, "--prefix", "TA/"+a); code != 0 || !strings.Contains(out, "author "+a+" (ta) registered") {
			t.Fatalf("author add %s: %d %s%s", a, code, out, e)
		}
	}
	if out, e, code := tamCmd(admin, "user", "add", "acme-ci", "--role", "ta-author", "--author", "acme"); code != 0 {
		t.Fatalf("user add: %d %s%s", code, out, e)
	}
	out, e, code := tamCmd(admin, "token", "create", "--user", "acme-ci")
	if code != 0 {
		t.Fatalf("token create: %d %s", code, e)
	}
	acme := strings.TrimSpace(out)

	// acme's TA, its image fetched from the TAM.
	work := filepath.Dir(dir)
	image := strings.Repeat("hello TA from the TAM\n", 200)
	imageFile := filepath.Join(work, "hello.ta")
	os.WriteFile(imageFile, []byte(image), 0o644)
	sum := sha256.Sum256([]byte(image))
	hello := `"'TA'", "'acme'", "'hello'"`
	env := d.taEnvelope("hello-1", "acme", 1, fmt.Sprintf(`{"id": [%s], "file": "hello.ta", "uri": %q}`, hello, url+catalog.PayloadPath(sum[:])))
	if out, e, code := tamCmd(acme, "publish", env, imageFile); code != 0 || !strings.Contains(out, "published ta envelope") {
		t.Fatalf("publish: %d %s%s", code, out, e)
	}
	// The attack: acme's token with globex's valid envelope.
	foreign := d.taEnvelope("wallet-1", "globex", 1, `{"id": ["'TA'", "'globex'", "'wallet'"], "content": "00"}`)
	if out, e, code := tamCmd(acme, "publish", foreign); code != exitFailure || !strings.Contains(e, "the TAM refused") {
		t.Fatalf("acme's token publishing globex's envelope: %d %s%s", code, out, e)
	}
	// An envelope carrying its 130 KiB image fits no TEEP Update: the TAM
	// refuses it at publish (it could never be sent), and the CLI says why.
	os.WriteFile(filepath.Join(work, "big.ta"), make([]byte, 130<<10), 0o644)
	big := d.taEnvelope("big-1", "acme", 1, `{"id": ["'TA'", "'acme'", "'big'"], "file": "big.ta", "integrate": true}`)
	if out, e, code := tamCmd(acme, "publish", big); code != exitFailure || !strings.Contains(e, "the TAM refused") || !strings.Contains(e, "does not fit in one TEEP Update") {
		t.Fatalf("publishing an envelope too large for TEEP: %d %s%s", code, out, e)
	}
	if _, e, code := tamCmd(acme, "device", "list"); code != exitFailure || !strings.Contains(e, "the TAM refused") {
		t.Fatalf("a TA author listing devices: %d %s", code, e)
	}

	// The device, registered from its endorsement; its agreement key is
	// read from beside it.
	out, e, code = tamCmd(admin, "device", "add", "--endorsement", device.EndorsementFile(dir),
		"--reference", device.FactoryReferenceFile(dir), "--name", "kitchen", "--json")
	var dev catalog.DeviceJSON
	if code != 0 || json.Unmarshal([]byte(out), &dev) != nil || !dev.HasAgreementKey || dev.ID != agentThumbprint(t, dir) {
		t.Fatalf("device add: %d %s%s", code, out, e)
	}

	secret := "wifi-psk=personalized by the TAM"
	conf := filepath.Join(work, "hello.conf")
	os.WriteFile(conf, []byte(secret), 0o600)
	if out, e, code := tamCmd(admin, "personalize", "--device", dev.ID, "--tc", "TA/acme/hello", "--file", conf); code != 0 || !strings.Contains(out, "personalization of TA/acme/hello for device "+dev.ID) {
		t.Fatalf("personalize: %d %s%s", code, out, e)
	}

	// The device installs the TA, then the personalization, as the TAM
	// would send them; the normal world fetches both payloads from the TAM.
	if out, e, code := d.update(env); code != 0 || !strings.Contains(out, "['TA','acme','hello']: UPDATED, sequence 1") {
		t.Fatalf("TA install: %d %s%s", code, out, e)
	}
	all, err := st.LatestFor(context.Background(), dev.ID)
	if err != nil {
		t.Fatal(err)
	}
	var pers []byte
	for _, e := range all {
		if e.Kind == store.PersonalizationEnvelope && e.Device == dev.ID {
			pers = e.Raw
		}
	}
	if pers == nil {
		t.Fatalf("no personalization envelope for the device among %d", len(all))
	}
	persFile := filepath.Join(work, "personalization.suit")
	os.WriteFile(persFile, pers, 0o644)
	if out, e, code := d.update(persFile); code != 0 {
		t.Fatalf("personalization install: %d %s%s", code, out, e)
	}
	d.stop()
	tas := deviceTAs(t, dir)
	if len(tas) != 1 || string(tas[0].Image) != image || string(tas[0].Personalization) != secret {
		t.Fatalf("the TA store holds %d TAs: %+v", len(tas), tas)
	}

	out, e, code = tamCmd(admin, "status")
	if code != 0 || !strings.Contains(out, "devices: 1 (") || !strings.Contains(out, "DEVICE") || !strings.Contains(out, "kitchen") || !strings.Contains(out, dev.ID[:16]) {
		t.Fatalf("status: %d %s%s", code, out, e)
	}
	out, _, code = tamCmd(admin, "status", "--json")
	var status catalog.StatusJSON
	if code != 0 || json.Unmarshal([]byte(out), &status) != nil || len(status.Devices) != 1 || status.Devices[0].Name != "kitchen" ||
		status.Summary == nil || status.Summary.Devices != 1 || status.Next != "" {
		t.Fatalf("status --json: %d %s", code, out)
	}
	if strings.Contains(out, hex.EncodeToString([]byte(secret))) || strings.Contains(out, secret) {
		t.Fatal("the status shows the personalization data")
	}
}

// deviceTAs is what a stopped device's secure storage holds, read with
// its own TPM.
func deviceTAs(t *testing.T, dir string) []taRecord {
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
	var out []taRecord
	for _, r := range st.TAs() {
		out = append(out, taRecord{Image: r.Image, Personalization: r.Personalization})
	}
	return out
}

type taRecord struct{ Image, Personalization []byte }
