package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/teeup/teeup/emulator/device"
	"github.com/teeup/teeup/secure/suit"
)

// trustFlags are device init's flags for the user's own keys.
type trustFlags struct {
	file, author, operator string
	taAuthors              []string
}

// trustFile is TRUST.json: the keys a new device trusts, file names
// relative to it.
type trustFile struct {
	Author    string            `json:"author"`
	Operator  string            `json:"operator"`
	TAAuthors map[string]string `json:"ta-authors"`
}

func (t *trustFlags) add(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&t.file, "trust", "", "TRUST.json naming the author's and operator's signing keys and the TA authors' public keys")
	f.StringVar(&t.author, "author-key", "", "the firmware author's signing key (PEM): trusted for both images, signs the factory images")
	f.StringVar(&t.operator, "operator-key", "", "the device operator's signing key (PEM): co-signs the secure image")
	f.StringArrayVar(&t.taAuthors, "ta-author", nil, "NAME=PUB.pem: a TA author's public key, trusted for ['TA', NAME] only; repeatable")
}

// load reads the keys the flags name; nil when they name none (the device
// then gets development keys).
func (t *trustFlags) load() (*device.OwnKeys, error) {
	spec := trustFile{TAAuthors: map[string]string{}}
	if t.file != "" {
		raw, err := os.ReadFile(t.file)
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&spec); err != nil {
			return nil, &plainError{plain: t.file + ": not a trust file (author, operator, ta-authors)", err: err}
		}
		rel := func(p string) string {
			if p == "" || filepath.IsAbs(p) {
				return p
			}
			return filepath.Join(filepath.Dir(t.file), p)
		}
		spec.Author, spec.Operator = rel(spec.Author), rel(spec.Operator)
		for name, p := range spec.TAAuthors {
			spec.TAAuthors[name] = rel(p)
		}
	}
	if t.author != "" {
		spec.Author = t.author
	}
	if t.operator != "" {
		spec.Operator = t.operator
	}
	for _, ta := range t.taAuthors {
		name, file, ok := strings.Cut(ta, "=")
		if !ok || name == "" || file == "" {
			return nil, usageError("--ta-author takes NAME=PUB.pem, got %q", ta)
		}
		spec.TAAuthors[name] = file
	}
	if spec.Author == "" && spec.Operator == "" && len(spec.TAAuthors) == 0 {
		return nil, nil
	}
	if spec.Author == "" || spec.Operator == "" {
		return nil, usageError("device init: your own keys need both the author's and the operator's (--author-key, --operator-key or in --trust)")
	}
	signers, err := readSigningKeys([]string{spec.Author, spec.Operator})
	if err != nil {
		return nil, err
	}
	own := &device.OwnKeys{Author: signers[0], Operator: signers[1], TAAuthors: map[string]*suit.Key{}}
	for name, file := range spec.TAAuthors {
		if strings.ContainsAny(name, "/\x00") {
			return nil, usageError("device init: TA author name %q", name)
		}
		k, err := readPublicKeys([]string{file})
		if err != nil {
			return nil, err
		}
		own.TAAuthors[name] = k[0]
	}
	return own, nil
}

// errSize: a size that is not a number of bytes, KiB, MiB or GiB.
var errSize = errors.New("not a size (bytes, or a number with KiB, MiB or GiB)")

// parseSize reads "65536", "64KiB", "32MiB", "1GiB" (K, M, G and KB, MB,
// GB are taken as the same binary units).
func parseSize(s string) (uint64, error) {
	units := []struct {
		suffix string
		mul    uint64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10},
		{"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}}
	mul := uint64(1)
	num := strings.TrimSpace(s)
	for _, u := range units {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mul = strings.TrimSpace(n), u.mul
			break
		}
	}
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || n == 0 || n > (1<<40)/mul {
		return 0, fmt.Errorf("%q: %w", s, errSize)
	}
	return n * mul, nil
}

// formatSize writes a size in the largest binary unit that divides it.
func formatSize(n uint64) string {
	for _, u := range []struct {
		name string
		mul  uint64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.mul && n%u.mul == 0 {
			return fmt.Sprintf("%d %s", n/u.mul, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}
