package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pkg/browser"
)

// addrFileName is the file next to the database that holds the URL of the
// running instance, so that a second launch can open the browser there.
const addrFileName = "labelstudio.addr"

// writeAddrFile records the running instance's URL in the data directory.
func writeAddrFile(dir, url string) error {
	return os.WriteFile(filepath.Join(dir, addrFileName), []byte(url+"\n"), 0o600)
}

func removeAddrFile(dir string) { _ = os.Remove(filepath.Join(dir, addrFileName)) }

// runningInstance returns the URL of a labelstudio that runs on the data
// directory and answers its health check, or "".
func runningInstance(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, addrFileName))
	if err != nil {
		return ""
	}
	url := strings.TrimSpace(string(b))
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(url, "/")+"/api/health", nil)
	if err != nil {
		return ""
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := client.Do(req)
	if err != nil {
		return ""
	}
	resp.Body.Close()
	// 401 means it runs with a password: it is still the running instance.
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusUnauthorized {
		return ""
	}
	return url
}

// openRunning handles a second launch on a data directory in use: it opens
// the browser on the running instance instead of failing on the lock.
func openRunning(dir string, noBrowser bool, stdout io.Writer) bool {
	url := runningInstance(dir)
	if url == "" {
		return false
	}
	fmt.Fprintf(stdout, "labelstudio is already running on %s at %s\n", dir, url)
	if !noBrowser {
		browser.Stdout, browser.Stderr = io.Discard, io.Discard
		if err := browser.OpenURL(url); err != nil {
			fmt.Fprintf(stdout, "Open %s in your browser.\n", url)
		}
	}
	return true
}

// isLoopback reports whether host only accepts connections from this
// machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// tlsListener wraps ln with TLS from a certificate and key file.
func tlsListener(ln net.Listener, cert, key string) (net.Listener, error) {
	if (cert == "") != (key == "") {
		return nil, errors.New("--cert and --key go together")
	}
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %w", err)
	}
	return tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}), nil
}
