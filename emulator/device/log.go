package device

import (
	"fmt"
	"io"
	"log/slog"
	"os"
)

// LogLevelEnv is the environment variable that sets the level of the
// device's logs (debug, info, warn, error; default info). The supervisor
// passes its level to the worlds through it.
const LogLevelEnv = "TEEUP_LOG_LEVEL"

// NewLog is a device log: text lines with levels on w, at level (empty:
// the level LogLevelEnv names, else info).
func NewLog(w io.Writer, level string) (*slog.Logger, error) {
	if level == "" {
		level = os.Getenv(LogLevelEnv)
	}
	var l slog.Level
	if level != "" {
		if err := l.UnmarshalText([]byte(level)); err != nil {
			return nil, fmt.Errorf("device: log level %q: want debug, info, warn or error", level)
		}
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
