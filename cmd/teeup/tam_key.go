package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/teeup/teeup/secure/suit"
	"github.com/teeup/teeup/secure/teep"
	"github.com/teeup/teeup/tam"
	"github.com/teeup/teeup/tam/auth"
)

func (a *app) tamKeyCmd() *cobra.Command {
	var data, url, caFile, out string
	c := &cobra.Command{
		Use:   "key (--data DIR | --tam URL [--tam-ca PEM]) [--out FILE]",
		Short: "Print the TAM's public key (PEM): what its devices trust (device init --tam-key)",
		Long: `Print the public half of the TAM's signing key, read from its data folder (--data, the key
teeup tam serve made there) or fetched from a running TAM (--tam, GET /api/v1/tam-key, which
needs no token). Its thumbprint, the kid of the TAM's TEEP messages, goes to standard error.`,
		Example: `  teeup tam key --data tam --out tam.pub.pem
  teeup device init --dir dev --tam-key tam.pub.pem`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (data == "") == (url == "") {
				return usageError("%s: takes --data DIR or --tam URL", where(cmd))
			}
			var pemBytes []byte
			if data != "" {
				key, err := tam.LoadKey(filepath.Join(data, tam.KeyFile))
				if errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("%s holds no TAM key: teeup tam serve --data %s makes it", data, data)
				}
				if err != nil {
					return err
				}
				if pemBytes, err = tam.PublicKeyPEM(key); err != nil {
					return err
				}
			} else {
				var err error
				if pemBytes, err = fetchTAMKey(url, caFile); err != nil {
					return err
				}
			}
			k, err := suit.ParsePublicKeyPEM(pemBytes)
			if err != nil {
				return fmt.Errorf("the TAM's key: %w", err)
			}
			tp, err := teep.Thumbprint(k.Public)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "TAM key thumbprint %x\n", tp)
			if out != "" && out != "-" {
				return a.writeFile(out, pemBytes, 0o644)
			}
			_, err = a.stdout.Write(pemBytes)
			return err
		},
	}
	f := c.Flags()
	f.StringVar(&data, "data", "", "the TAM's folder (teeup tam serve --data)")
	f.StringVar(&url, "tam", os.Getenv("TEEUP_TAM"), "a running TAM's URL (env TEEUP_TAM)")
	f.StringVar(&caFile, "tam-ca", "", "trust only this PEM certificate for the TAM")
	f.StringVar(&out, "out", "", "write the PEM to FILE instead of standard output")
	return c
}

// fetchTAMKey is GET {url}/api/v1/tam-key.
func fetchTAMKey(url, caFile string) ([]byte, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--tam-ca: %w", err)
		}
		tlsConfig, err := auth.ClientTLS(pem)
		if err != nil {
			return nil, fmt.Errorf("--tam-ca: %w", err)
		}
		client.Transport = &http.Transport{TLSClientConfig: tlsConfig}
	}
	rsp, err := client.Get(url + "/api/v1/tam-key")
	if err != nil {
		return nil, err
	}
	defer rsp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(rsp.Body, maxTAMKeyAnswer))
	if err != nil {
		return nil, err
	}
	if rsp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the TAM answered %s", rsp.Status)
	}
	return body, nil
}
