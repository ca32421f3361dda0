package catalog

import (
	"bytes"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/teeup/teeup/tam/apijson"
	"github.com/teeup/teeup/tam/store"
)

// PayloadPath is the path the payload with this SHA-256 is served at.
func PayloadPath(digest []byte) string { return "/payloads/" + hex.EncodeToString(digest) }

// ServePayload answers GET and HEAD /payloads/{sha256hex} with the payload
// of that SHA-256, with http.ServeContent's semantics: Range (a download
// cut in the middle resumes), If-Range and the strong ETag "<sha256hex>"
// (the digest names the bytes, so they never change), 404 for a digest
// the TAM does not hold. No authentication: integrity comes from the
// manifest that names the digest, confidentiality from SUIT encryption.
func (c *Catalog) ServePayload(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("digest")
	digest, err := hex.DecodeString(name)
	if err != nil || len(digest) != 32 || hex.EncodeToString(digest) != name {
		apijson.WriteError(w, http.StatusNotFound, "not_found", "no such payload: want /payloads/ and a lowercase hex SHA-256")
		return
	}
	data, err := c.st.Payload(r.Context(), digest)
	if errors.Is(err, store.ErrNotFound) {
		apijson.WriteError(w, http.StatusNotFound, "not_found", "no such payload")
		return
	}
	if err != nil {
		slog.Error("payload", "digest", name, "err", err)
		apijson.WriteError(w, http.StatusInternalServerError, "internal", "the payload could not be read")
		return
	}
	w.Header().Set("ETag", `"`+name+`"`)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}
