package teepsrv

import (
	"context"
	"time"
)

// sweep drops the sessions expired at now, at most once a session
// lifetime, from the request that opens a session: the store keeps the
// sessions of about two lifetimes, not every session ever opened, and
// logs each one whose Update got no answer as expired (store.SessionLogs)
// in the transaction that drops it. A spent token it drops is refused all
// the same: it is no longer issued. A failed sweep is logged and tried
// again a lifetime later; the session being opened does not depend on it.
func (s *Server) sweep(ctx context.Context, now time.Time) {
	last := s.swept.Load()
	if last != 0 && now.Sub(time.Unix(0, last)) < s.cfg.SessionLifetime {
		return
	}
	if !s.swept.CompareAndSwap(last, now.UnixNano()) {
		return // another request sweeps
	}
	n, err := s.cfg.Store.DeleteExpiredSessions(ctx, now)
	if err != nil {
		s.log.Warn("drop expired sessions", "err", err)
		return
	}
	if n > 0 {
		s.log.Info("expired sessions dropped", "sessions", n)
	}
}
