package tam

import (
	"encoding/json"
	"net/http"
)

// apiError is the operator API's error body: {"error": "...", "code": "..."}.
type apiError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// writeError answers an API request with status and the error body.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(apiError{Error: msg, Code: code}) // a client that hung up has nothing more to hear
}
