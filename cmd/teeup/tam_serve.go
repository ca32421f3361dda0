package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam"
	"github.com/teeup/teeup/tam/auth"
)

// tamServeOptions are the flags of teeup tam serve.
type tamServeOptions struct {
	data, db, listen, numbering, baseURL string
	tagged                               bool
	// The gate's flags (issue 17): TLS and the first operator.
	cert, key           string
	insecureHTTP        bool
	initAdmin, adminOut string
	// teepRate and teepBurst are the per-source rate limit of /tam and
	// /tam/poll, as given; rate is them checked.
	teepRate  float64
	teepBurst int
	rate      auth.Rate
}

func (a *app) tamServeCmd() *cobra.Command {
	var o tamServeOptions
	c := &cobra.Command{
		Use:   "serve --data DIR [--db postgres://...] [--listen ADDR] [--numbering draft26|earlier] [--cert F --key F | --insecure-http] [--teep-rate R --teep-burst B]",
		Short: "Run the TAM: the TEEP endpoint devices post to, and the operator API",
		Long: `Run a Trusted Application Manager until Ctrl-C or SIGTERM, with its state in DIR: the
store (DIR/tam.db, SQLite; or the PostgreSQL database of --db postgres://USER@HOST/DB, or of
$TEEUP_TAM_DB, which several replicas may share, each with a copy of DIR's key), its signing key (DIR/tam-key.pem, ESP256, made on the first start;
devices are given its public half, GET /api/v1/tam-key), and its self-signed TLS certificate
when no --cert is given. Devices' brokers post TEEP messages to /tam and long-poll /tam/poll;
operators call /api/v1/... with a token (--init-admin prints the first one).

--numbering chooses the TEEP codepoints the TAM's sessions speak: draft26 (the IANA registry,
the default) or earlier (every draft up to 25, as deployed Agents speak).

--teep-rate and --teep-burst set the rate limit of /tam and /tam/poll per source address (an
IPv6 /64): a burst of B requests, then R a second (default 5 a second after 20, a device's
session and poll). Past it a request gets 429 with Retry-After. Raise them for many devices
behind one address, such as teeup fleet simulate on this machine.`,
		Example: `  teeup tam serve --data tam --listen 127.0.0.1:8443 --init-admin admin
  teeup tam serve --data tam --listen 127.0.0.1:8080 --insecure-http`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required(cmd, "data"); err != nil {
				return err
			}
			if (o.cert == "") != (o.key == "") {
				return usageError("%s: --cert and --key go together", where(cmd))
			}
			if o.insecureHTTP && o.cert != "" {
				return usageError("%s: --insecure-http serves no certificate", where(cmd))
			}
			if _, err := parseNumbering(o.numbering); err != nil {
				return err
			}
			var err error
			if o.rate, err = auth.NewRate(o.teepRate, o.teepBurst); err != nil {
				return usageError("%s: --teep-rate %v --teep-burst %d: %v", where(cmd), o.teepRate, o.teepBurst, err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			l, err := net.Listen("tcp", o.listen)
			if err != nil {
				return err
			}
			return a.tamServe(ctx, l, o)
		},
	}
	f := c.Flags()
	f.StringVar(&o.data, "data", "", "the TAM's folder: store, key, certificate (made if missing)")
	f.StringVar(&o.db, "db", os.Getenv(tamDBEnv), "the store: a postgres:// URL, or an SQLite file (default DIR/tam.db; env "+tamDBEnv+")")
	f.StringVar(&o.listen, "listen", "127.0.0.1:8443", "address to listen on")
	f.StringVar(&o.numbering, "numbering", "draft26", "TEEP codepoints of the TAM's sessions: draft26 or earlier")
	f.StringVar(&o.baseURL, "base-url", "", "the TAM's URL as devices reach it (default: the scheme and listen address)")
	f.BoolVar(&o.tagged, "tagged-envelopes", false, "send an Update's SUIT envelopes tagged (107), as hackathon Agents expect")
	f.StringVar(&o.cert, "cert", "", "the TLS certificate (PEM); without it a self-signed one kept in DIR")
	f.StringVar(&o.key, "key", "", "the TLS certificate's private key (PEM)")
	f.BoolVar(&o.insecureHTTP, "insecure-http", false, "serve plain HTTP, without TLS: for a loopback test only")
	f.StringVar(&o.initAdmin, "init-admin", "", "make the first operator NAME and print its API token once (nothing if an operator exists)")
	f.StringVar(&o.adminOut, "init-admin-token-file", "", "write --init-admin's token to this file (0600) instead of printing it")
	f.Float64Var(&o.teepRate, "teep-rate", float64(auth.DefaultTEEPRate.Per), "TEEP requests a second per source address, after the burst")
	f.IntVar(&o.teepBurst, "teep-burst", auth.DefaultTEEPRate.Burst, "TEEP requests per source address at once")
	return c
}

// parseNumbering reads --numbering.
func parseNumbering(s string) (teep.Numbering, error) {
	switch s {
	case "draft26", "draft-26":
		return teep.Draft26, nil
	case "earlier", "legacy":
		return teep.Legacy, nil
	}
	return 0, usageError("--numbering %q: draft26 or earlier", s)
}

// tamServe runs the TAM of o on l until ctx ends, then shuts it down
// gracefully: the requests in flight finish (long polls end at once), and
// the store is closed last.
func (a *app) tamServe(ctx context.Context, l net.Listener, o tamServeOptions) (err error) {
	defer l.Close()
	n, err := parseNumbering(o.numbering)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.data, 0o700); err != nil {
		return err
	}
	key, created, err := tam.LoadOrCreateKey(filepath.Join(o.data, tam.KeyFile))
	if err != nil {
		return err
	}
	st, err := openTAMStore(ctx, o.db, o.data)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, st.Close()) }()

	scheme, tlsConfig := "http", (*tls.Config)(nil)
	if !o.insecureHTTP {
		scheme = "https"
		if tlsConfig, err = a.tamTLS(o, l.Addr()); err != nil {
			return err
		}
	}
	base := o.baseURL
	if base == "" {
		base = scheme + "://" + l.Addr().String()
	}
	logger := slog.New(slog.NewTextHandler(a.stderr, nil))
	srv, err := tam.New(tam.Config{Store: st, Key: key, BaseURL: base, Numbering: n, TaggedEnvelopes: o.tagged,
		TLS: tlsConfig, TEEPRate: o.rate, Logger: logger})
	if err != nil {
		return err
	}
	// A TAM stopped between recording an answer and checking its
	// rollout's thresholds left them unchecked: check them now.
	if err := srv.Rollouts().Recover(ctx); err != nil {
		return err
	}
	if o.initAdmin != "" {
		if err := a.tamInitAdmin(ctx, st, o); err != nil {
			return err
		}
	}
	made := ""
	if created {
		made = " (made now)"
	}
	fmt.Fprintf(a.stdout, "TAM key %s%s, thumbprint %s\n", filepath.Join(o.data, tam.KeyFile), made, hex.EncodeToString(srv.KeyThumbprint()))
	fmt.Fprintf(a.stdout, "TAM listening on %s://%s (TEEP %s numbering, devices reach it at %s) until Ctrl-C\n",
		scheme, l.Addr(), n, base)

	hs := srv.HTTPServer()
	hs.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	served := make(chan error, 1)
	go func() {
		if tlsConfig != nil {
			served <- hs.ServeTLS(l, "", "")
		} else {
			served <- hs.Serve(l)
		}
	}()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), tam.ShutdownGrace)
	defer cancel()
	if err := hs.Shutdown(shut); err != nil {
		// Connections that outlive the grace period are cut.
		err = errors.Join(err, hs.Close())
		fmt.Fprintf(a.stderr, "tam serve: %v\n", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	fmt.Fprintln(a.stdout, "TAM stopped")
	return nil
}

// tamTLS is the TLS configuration of --cert/--key, or of the self-signed
// certificate kept in the data folder (made for the listen address's
// host), whose fingerprint it prints for clients to pin.
func (a *app) tamTLS(o tamServeOptions, addr net.Addr) (*tls.Config, error) {
	if o.cert != "" {
		cert, err := tls.LoadX509KeyPair(o.cert, o.key)
		if err != nil {
			return nil, err
		}
		return auth.ServerTLS(cert), nil
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return nil, err
	}
	cert, created, err := auth.LoadOrCreateSelfSigned(o.data, []string{host}, time.Now())
	if err != nil {
		return nil, err
	}
	made := ""
	if created {
		made = " (made now)"
	}
	fmt.Fprintf(a.stdout, "TLS certificate self-signed%s, SHA-256 fingerprint %s\n", made, auth.Fingerprint(cert))
	return auth.ServerTLS(cert), nil
}

// tamInitAdmin makes the first operator and hands its token over once.
func (a *app) tamInitAdmin(ctx context.Context, st auth.Store, o tamServeOptions) error {
	tr, err := auth.InitAdmin(ctx, st, o.initAdmin, time.Now(), rand.Reader)
	switch {
	case errors.Is(err, auth.ErrOperatorExists):
		fmt.Fprintf(a.stdout, "--init-admin: %v; no token made\n", err)
		return nil
	case err != nil:
		return err
	case o.adminOut != "":
		if err := auth.WriteFile0600(o.adminOut, []byte(tr.Token+"\n")); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "operator %s made; its API token is in %s\n", tr.User, o.adminOut)
	default:
		fmt.Fprintf(a.stdout, "operator %s made; its API token (shown once): %s\n", tr.User, tr.Token)
	}
	return nil
}
