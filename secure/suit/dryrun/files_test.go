package dryrun_test

import (
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/suit/dryrun"
)

// idFromFileName inverts dryrun.FileName as its doc comment describes
// the encoding; that it exists and round-trips proves FileName injective.
func idFromFileName(name string) (suit.ComponentID, bool) {
	if name == "@root" {
		return suit.ComponentID{}, true
	}
	var id suit.ComponentID
	for _, part := range strings.Split(name, "+") {
		if strings.HasPrefix(part, "%") {
			b, err := hex.DecodeString(part[1:])
			if err != nil || hex.EncodeToString(b) != part[1:] {
				return nil, false
			}
			id = append(id, b)
			continue
		}
		if part == "" {
			return nil, false
		}
		id = append(id, []byte(part))
	}
	return id, true
}

// checkName fails unless name is one plain file name that stays in its
// directory and decodes back to id.
func checkName(t *testing.T, id suit.ComponentID, name string) {
	t.Helper()
	if name == "" || !filepath.IsLocal(name) || filepath.Base(name) != name || strings.ContainsAny(name, "/\\\x00") ||
		name[0] == '.' || name[0] == '-' {
		t.Errorf("%s: name %q is not one plain local file name", id, name)
	}
	back, ok := idFromFileName(name)
	if !ok || !back.Equal(id) || (len(id) == 0) != (len(back) == 0) {
		t.Errorf("%s: name %q decodes to %v, %v", id, name, back, ok)
	}
}

func ids(parts ...string) suit.ComponentID {
	id := suit.ComponentID{}
	for _, p := range parts {
		id = append(id, []byte(p))
	}
	return id
}

// TestFileNameDistinct: the identifiers that shared a file, or left the
// output directory, on 9d2e92e each get a name of their own inside it.
func TestFileNameDistinct(t *testing.T) {
	tests := []struct {
		name string
		a, b suit.ComponentID
	}{
		{"one empty part and no parts", ids(""), ids()},
		{"a dash and two parts", ids("a-b"), ids("a", "b")},
		{"root and no parts", ids("root"), ids()},
		{"text 00 and byte 00", ids("00"), ids("\x00")},
		{"empty part and two empty parts", ids(""), ids("", "")},
		{"text 2e and a dot", ids("2e"), ids(".")},
		{"separator in text", ids("a+b"), ids("a", "b")},
		{"marker in text", ids("%61"), ids("a")},
		{"hex of text", ids("%00"), ids("\x00")},
		{"dotdot", ids(".."), ids("2e2e")},
		{"slash", ids("a/b"), ids("a", "b")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			na, nb := dryrun.FileName(tc.a), dryrun.FileName(tc.b)
			if na == nb {
				t.Errorf("%s and %s share the name %q", tc.a, tc.b, na)
			}
			checkName(t, tc.a, na)
			checkName(t, tc.b, nb)
		})
	}
}

// TestFileNameReadable pins the names of common identifiers, which the
// CLI prints and the documentation shows.
func TestFileNameReadable(t *testing.T) {
	for id, want := range map[string]string{
		"normal":             "normal",
		"plaintext-firmware": "plaintext-firmware",
		"\x00":               "%00",
		"\x00+encrypted":     "%00+encrypted",
		"":                   "%",
	} {
		got := dryrun.FileName(ids(strings.Split(id, "+")...))
		if got != want {
			t.Errorf("FileName(%q) = %q, want %q", id, got, want)
		}
	}
	if got := dryrun.FileName(suit.ComponentID{}); got != "@root" {
		t.Errorf("FileName([]) = %q", got)
	}
}

// TestFileNameInjectiveRandom draws identifiers from a small alphabet that
// is rich in the encoding's own characters, so that distinct identifiers
// with similar names are common, and checks that no two share a name.
func TestFileNameInjectiveRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 10))
	alphabet := []byte("a-+%.@0_/\x00\xff")
	byName := map[string]suit.ComponentID{}
	for range 20000 {
		id := make(suit.ComponentID, rng.IntN(4))
		for i := range id {
			p := make([]byte, rng.IntN(4))
			for j := range p {
				p[j] = alphabet[rng.IntN(len(alphabet))]
			}
			id[i] = p
		}
		name := dryrun.FileName(id)
		if other, ok := byName[name]; ok && !other.Equal(id) {
			t.Fatalf("%s and %s share the name %q", other, id, name)
		}
		byName[name] = id
		checkName(t, id, name)
	}
	if len(byName) < 5000 {
		t.Fatalf("only %d distinct identifiers drawn", len(byName))
	}
}

// FuzzFileName: every identifier's name is a plain local file name that
// decodes back to it.
func FuzzFileName(f *testing.F) {
	f.Add([]byte(""), 0)
	f.Add([]byte("a-b"), 1)
	f.Add([]byte("\x00root"), 2)
	f.Add([]byte("..+%00"), 3)
	f.Fuzz(func(t *testing.T, data []byte, cuts int) {
		// The parts are data cut at the positions cuts's bits mark, so
		// that empty parts and no parts are both reachable.
		id := suit.ComponentID{}
		if cuts >= 0 {
			start := 0
			for i := 0; i <= len(data) && i < 16; i++ {
				if i == len(data) || cuts&(1<<i) != 0 {
					id = append(id, data[start:i])
					start = i
				}
			}
		}
		checkName(t, id, dryrun.FileName(id))
	})
}

func withImage(id suit.ComponentID, data string) *dryrun.Component {
	return &dryrun.Component{ID: id, Image: &dryrun.Image{Data: []byte(data)}}
}

// TestWriteImagesStaysInside: the component of one empty part, which
// wrote DIR.bin beside DIR on 9d2e92e, and every pair that shared a file,
// each land in a file of their own inside DIR.
func TestWriteImagesStaysInside(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	dev := &dryrun.Device{Components: []*dryrun.Component{
		withImage(ids(""), "empty part"), withImage(ids(), "no parts"), withImage(ids("root"), "root"),
		withImage(ids("a-b"), "a-b"), withImage(ids("a", "b"), "a,b"),
		withImage(ids("00"), "text 00"), withImage(ids("\x00"), "byte 00"),
		withImage(ids(".."), "dotdot"), withImage(ids("../x"), "escape"),
	}}
	files, err := dev.WriteImages(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(dev.Components) {
		t.Fatalf("%d files for %d components", len(files), len(dev.Components))
	}
	for i, f := range files {
		c := dev.Components[i]
		got, err := os.ReadFile(filepath.Join(dir, f.Name))
		if err != nil || string(got) != string(c.Image.Data) || !f.ID.Equal(c.ID) || f.Size != len(c.Image.Data) {
			t.Errorf("%s: %s holds %q, %v", c.ID, f.Name, got, err)
		}
	}
	entries, err := os.ReadDir(parent)
	if err != nil || len(entries) != 1 || entries[0].Name() != "out" {
		t.Errorf("beside the output directory: %v, %v", entries, err)
	}
	entries, err = os.ReadDir(dir)
	if err != nil || len(entries) != len(files) {
		t.Errorf("%d files in the output directory, want %d: %v", len(entries), len(files), err)
	}
}

// TestWriteImagesRefuses: names a file system could take for one, or too
// long for one, are typed errors, and nothing is written.
func TestWriteImagesRefuses(t *testing.T) {
	tests := []struct {
		name  string
		comps []*dryrun.Component
		want  error
	}{
		{"names differing in case", []*dryrun.Component{withImage(ids("ok"), "x"), withImage(ids("App"), "A"), withImage(ids("app"), "a")}, dryrun.ErrFileCollision},
		{"the same identifier twice", []*dryrun.Component{withImage(ids("x"), "1"), withImage(ids("x"), "2")}, dryrun.ErrFileCollision},
		{"a name too long", []*dryrun.Component{withImage(ids("ok"), "x"), withImage(ids(strings.Repeat("\x01", 200)), "long")}, dryrun.ErrFileName},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "out")
			files, err := (&dryrun.Device{Components: tc.comps}).WriteImages(dir)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if files != nil {
				t.Errorf("files %v", files)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("output directory created: %v", err)
			}
		})
	}
}

// TestWriteImagesSymlink: a symbolic link planted in the output directory
// under a component's file name cannot lead the write outside it.
func TestWriteImagesSymlink(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(parent, "victim")
	if err := os.WriteFile(victim, []byte("untouched"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, "a.bin")); err != nil {
		t.Fatal(err)
	}
	dev := &dryrun.Device{Components: []*dryrun.Component{withImage(ids("a"), "overwritten")}}
	if _, err := dev.WriteImages(dir); err == nil {
		t.Error("wrote through a symbolic link out of the directory")
	}
	if got, _ := os.ReadFile(victim); string(got) != "untouched" {
		t.Errorf("victim holds %q", got)
	}
}

// TestWriteImagesSimulated: a simulated image is described, not written.
func TestWriteImagesSimulated(t *testing.T) {
	dir := t.TempDir()
	dev := &dryrun.Device{Components: []*dryrun.Component{{ID: ids("\x00"),
		Image: &dryrun.Image{Simulated: true, Size: 3, Digest: suit.Digest{Alg: suit.AlgSHA256, Bytes: []byte{0xab}}}}}}
	files, err := dev.WriteImages(dir)
	if err != nil || len(files) != 1 || files[0].Name != "%00.simulated" || !files[0].Simulated {
		t.Fatalf("%+v, %v", files, err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, files[0].Name)); string(got) != "simulated image: digest ab size 3\n" {
		t.Errorf("holds %q", got)
	}
}
