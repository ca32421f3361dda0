package broker

import "context"

// Run runs a session at once, then one every PollInterval, and one at
// once whenever the TAM's long poll says it has something for this device
// (Config.DeviceID). After each session it calls done with its outcome
// and error; Run returns done's error if it is not nil (to reboot, say),
// and nil when ctx ends.
func (b *Broker) Run(ctx context.Context, done func(*Outcome, error) error) error {
	for {
		out, err := b.Session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err := done(out, err); err != nil {
			return err
		}
		if ctx.Err() != nil || b.waitNext(ctx) != nil {
			return nil
		}
	}
}

// waitNext returns when the next session is due: PollInterval has passed,
// or the TAM's long poll answered 200. Failed polls are retried with the
// backoff, as are polls the TAM answers far sooner than it may hold them,
// so that a TAM that does not wait cannot make the device hammer it. It
// returns the cause when ctx ends. Only Run calls it.
func (b *Broker) waitNext(ctx context.Context) error {
	if b.pollURL == "" {
		return b.sleep(ctx, b.interval)
	}
	pollCtx, cancel := context.WithTimeout(ctx, b.interval)
	defer cancel()
	failures := 0
	for {
		start := b.now()
		asked, err := b.pollOnce(pollCtx)
		switch {
		case ctx.Err() != nil:
			return context.Cause(ctx)
		case pollCtx.Err() != nil:
			return nil // the interval passed
		case asked:
			b.log.Info("the TAM asks for a session")
			return b.paceEager(pollCtx, ctx, b.now().Sub(start) < b.wait/2)
		case err == nil && b.now().Sub(start) >= b.wait/2:
			failures = 0
			continue
		case err != nil:
			b.log.Warn("long poll failed", "err", err)
		}
		failures++
		if err := b.sleep(pollCtx, b.delay(failures, err)); err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return nil // the interval passed
		}
	}
}

// paceEager is called when the TAM asked for a session, at once (the
// poll did not wait) or not. A TAM that asks at once again after every
// session would make the device loop: from the second time in a row, the
// session waits the backoff, growing, first. It returns the cause when
// ctx ends, nil when the session is due.
func (b *Broker) paceEager(pollCtx, ctx context.Context, atOnce bool) error {
	if !atOnce {
		b.eager = 0
		return nil
	}
	b.eager++
	if b.eager < 2 {
		return nil
	}
	if err := b.sleep(pollCtx, b.delay(b.eager-1, nil)); err != nil && ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}
