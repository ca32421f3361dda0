package main

import (
	"fmt"
	"net/http"
	"os"

	"github.com/spf13/cobra"

	"github.com/teeup/teeup/tam/client"
)

// tamConn is how an operator command reaches the TAM's API: --tam URL
// (env TEEUP_TAM), --token T (env TEEUP_TOKEN), --tam-ca PEM (the TAM's
// self-signed certificate, or its CA). Every `teeup tam` command that
// calls the API binds it.
type tamConn struct {
	url, token, caFile string
}

func (c *tamConn) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.url, "tam", os.Getenv("TEEUP_TAM"), "the TAM's URL, https://host:port (env TEEUP_TAM)")
	f.StringVar(&c.token, "token", os.Getenv("TEEUP_TOKEN"), "an API token (env TEEUP_TOKEN)")
	f.StringVar(&c.caFile, "tam-ca", "", "trust only this PEM certificate for the TAM (its self-signed one, or its CA)")
}

// client is the API client of the flags; a missing URL or token is a
// usage error.
func (c *tamConn) client(cmd *cobra.Command) (*client.Client, error) {
	if c.url == "" {
		return nil, usageError("%s: needs --tam URL (or TEEUP_TAM)", where(cmd))
	}
	if c.token == "" {
		return nil, usageError("%s: needs --token (or TEEUP_TOKEN)", where(cmd))
	}
	hc := &http.Client{Timeout: tamAuthRequestTimeout}
	if c.caFile != "" {
		pem, err := os.ReadFile(c.caFile)
		if err != nil {
			return nil, fmt.Errorf("--tam-ca: %w", err)
		}
		cfg, err := client.TLSConfig(pem)
		if err != nil {
			return nil, fmt.Errorf("--tam-ca %s: %w", c.caFile, err)
		}
		hc.Transport = &http.Transport{TLSClientConfig: cfg, Proxy: http.ProxyFromEnvironment}
	}
	cl, err := client.New(c.url, c.token, hc)
	if err != nil {
		return nil, usageError("%s: %v", where(cmd), err)
	}
	return cl, nil
}
