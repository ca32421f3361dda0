package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

func (a *app) serveCmd() *cobra.Command {
	var addr string
	c := &cobra.Command{
		Use:   "serve [--addr HOST:PORT] DIR",
		Short: "Serve the files of a folder over HTTP: envelopes and payloads for devices to fetch",
		Long: `Serve the files of DIR over HTTP, with Range requests (a device resumes a download where
it stopped), until Ctrl-C or SIGTERM: a firmware server for trying teeup out, not for
production (no TLS, no access control). Envelopes are verified by the device, so the
server need not be trusted.`,
		Example: "  teeup serve --addr 127.0.0.1:8080 public &\n  teeup device update --dir dev http://127.0.0.1:8080/normal-2.suit",
		Args:    exactArgs(1, "one DIR"),
		RunE: func(_ *cobra.Command, pos []string) error {
			if st, err := os.Stat(pos[0]); err != nil || !st.IsDir() {
				return fmt.Errorf("serve: %s is not a folder", pos[0])
			}
			l, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "serving %s at http://%s/ until Ctrl-C\n", pos[0], l.Addr())
			return a.serveUntilSignal(l, http.FileServer(http.Dir(pos[0])), "serve")
		},
	}
	c.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on")
	return c
}

// serveUntilSignal serves h on l until Ctrl-C or SIGTERM, then shuts down
// with a grace period for the requests in flight.
func (a *app) serveUntilSignal(l net.Listener, h http.Handler, what string) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shut); err != nil {
			// Connections that outlive the grace period are cut.
			if err := srv.Close(); err != nil {
				fmt.Fprintf(a.stderr, "%s: %v\n", what, err)
			}
		}
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
