package dryrun

import (
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/teeup/teeup/secure/suit"
)

// Errors of WriteImages. Neither is a suit.ErrRejected: the manifest
// processed; its components just cannot be laid out as files.
var (
	// ErrFileName: a component's file name would not be one plain file
	// name inside the output directory (too long for a file system).
	ErrFileName = errors.New("dryrun: component has no safe file name")
	// ErrFileCollision: two components would share one file, as on a
	// file system that ignores case.
	ErrFileCollision = errors.New("dryrun: two components map to one file")
)

// The file-name encoding of a component identifier; see FileName.
const (
	partSeparator = '+'
	hexMarker     = '%'
	rootFileName  = "@root"
)

// FileName is the name, without suffix, of the file that holds component
// id's image in an output directory. The encoding is injective, so no two
// identifiers share a file, and its result is always one file name that
// cannot leave the directory:
//
//   - a part whose bytes are all ASCII letters, digits, '_', '-' and '.',
//     and that does not begin with '.' or '-', is written as it is;
//   - any other part, the empty one included, is '%' and its bytes in
//     lowercase hex (so text '00' is "00" and the byte 0x00 is "%00");
//   - the parts are joined by '+', which no part contains;
//   - the identifier with no parts is "@root", which no list of parts
//     gives ('@' is in no part and is not the separator).
//
// For example ['a-b'] is "a-b", ['a','b'] is "a+b", [h'00','encrypted']
// is "%00+encrypted" and the one empty part is "%". Reading a name back splits it at
// '+' and decodes each part by its first byte, so distinct identifiers
// have distinct names. The result never contains '/', '\\' or NUL, never
// begins with '.' or '-', and is never empty.
func FileName(id suit.ComponentID) string {
	if len(id) == 0 {
		return rootFileName
	}
	var b strings.Builder
	for i, p := range id {
		if i > 0 {
			b.WriteByte(partSeparator)
		}
		if literalPart(p) {
			b.Write(p)
			continue
		}
		b.WriteByte(hexMarker)
		b.WriteString(hex.EncodeToString(p))
	}
	return b.String()
}

// literalPart reports whether p is written as it is: non-empty, of the
// portable file-name characters (POSIX 3.282) only, and not beginning
// with '.' (hidden, "." or "..") or '-' (read as an option).
func literalPart(p []byte) bool {
	if len(p) == 0 || p[0] == '.' || p[0] == '-' {
		return false
	}
	for _, c := range p {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '-', c == '.':
		default:
			return false
		}
	}
	return true
}

// ImageFile is one file WriteImages wrote.
type ImageFile struct {
	ID suit.ComponentID
	// Name is the file's name inside the output directory: FileName(ID)
	// with ".bin" for an image, ".simulated" for a simulated one, which
	// holds only the digest and size the manifest declared.
	Name      string
	Size      int
	Simulated bool
}

// WriteImages writes the image of every component that has one into dir,
// creating dir if needed, and lists the files in component order. It
// checks every name before it writes any file: a name that is not one
// plain file name (ErrFileName) or two names that a file system might
// take for one (ErrFileCollision, compared without case) write nothing.
// Files are opened through an os.Root on dir, so a symbolic link in dir
// cannot lead a write outside it. An existing file of the same name is
// replaced.
func (d *Device) WriteImages(dir string) ([]ImageFile, error) {
	var files []ImageFile
	var images []*Image
	byFolded := map[string]suit.ComponentID{}
	for _, c := range d.Components {
		if c.Image == nil {
			continue
		}
		f := ImageFile{ID: c.ID, Name: FileName(c.ID) + ".bin", Size: len(c.Image.Data), Simulated: c.Image.Simulated}
		if f.Simulated {
			f.Name = FileName(c.ID) + ".simulated"
		}
		if err := checkFileName(f.Name); err != nil {
			return nil, fmt.Errorf("component %s: %w", c.ID, err)
		}
		folded := strings.ToLower(f.Name)
		if other, dup := byFolded[folded]; dup {
			return nil, fmt.Errorf("components %s and %s as %s: %w", other, c.ID, f.Name, ErrFileCollision)
		}
		byFolded[folded] = c.ID
		files = append(files, f)
		images = append(images, c.Image)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	for i, f := range files {
		img := images[i]
		data := img.Data
		if f.Simulated {
			data = fmt.Appendf(nil, "simulated image: digest %x size %d\n", img.Digest.Bytes, img.Size)
		}
		if err := root.WriteFile(f.Name, data, 0o644); err != nil {
			return files[:i], fmt.Errorf("component %s: %w", f.ID, err)
		}
	}
	return files, nil
}

// checkFileName refuses a name that is not one plain, local file name.
func checkFileName(name string) error {
	if len(name) > maxFileName {
		return fmt.Errorf("%w: name of %d bytes exceeds %d", ErrFileName, len(name), maxFileName)
	}
	if !filepath.IsLocal(name) || filepath.Base(name) != name || strings.ContainsAny(name, "/\\\x00") || name[0] == '.' {
		return fmt.Errorf("%w: %q", ErrFileName, name)
	}
	return nil
}
