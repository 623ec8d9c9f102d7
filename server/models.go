package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	json "github.com/goccy/go-json"
	"github.com/gofiber/fiber/v2"

	"labelstudio/store"
)

// mlHTTP is the client for ML backends: bounded connect and overall time.
var mlHTTP = &http.Client{Timeout: 10 * time.Second}

// parseBackend reads "url" or "name=url" into a backend record (ml.md §1).
func parseBackend(project, spec string) (store.MLBackend, error) {
	spec = strings.TrimSpace(spec)
	name, u := "", spec
	if i := strings.Index(spec, "=http"); i > 0 {
		name, u = spec[:i], spec[i+1:]
	}
	parsed, err := url.Parse(u)
	if err != nil || parsed.Scheme == "" || parsed.Host == "" {
		return store.MLBackend{}, envelopeError(fiber.StatusBadRequest, fmt.Sprintf("Specified string %q doesn't look like URL.", u))
	}
	if name == "" {
		var b [2]byte
		_, _ = rand.Read(b[:])
		name = fmt.Sprintf("%s%x", path.Base(project), b)
	}
	return store.MLBackend{Name: name, URL: u}, nil
}

// mlURL joins an endpoint to a backend base URL (ml.md §3).
func mlURL(base, endpoint string) string {
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return base + endpoint
}

// mlHealthy asks GET <url>/health.
func mlHealthy(ctx context.Context, base string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, mlURL(base, "health"), nil)
	if err != nil {
		return false
	}
	req.Header.Set("User-Agent", "label-studio/")
	resp, err := mlHTTP.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode/100 == 2
}

// connectMLBackend handles PATCH /api/project {"ml_backend": ...}.
func (s *Server) connectMLBackend(c *fiber.Ctx, raw json.RawMessage) error {
	var spec string
	if err := json.Unmarshal(raw, &spec); err != nil {
		return envelopeError(fiber.StatusBadRequest, "ml_backend must be a string: a URL or name=URL")
	}
	name := s.projectName(c)
	b, err := parseBackend(name, spec)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if !mlHealthy(ctx, b.URL) {
		return envelopeError(fiber.StatusBadRequest, fmt.Sprintf("ML backend with URL: %q is not connected.", b.URL))
	}
	_, err = s.st.UpdateSettings(name, func(st *store.Settings) error {
		st.MLBackends = append(st.MLBackends, b)
		return nil
	})
	return err
}

// afterDeleteAllTasks tells every ML backend that the project's tasks are
// gone (ml.md §5); failures are only logged.
func (s *Server) afterDeleteAllTasks(c *fiber.Ctx) {
	p, err := s.st.Project(s.projectName(c))
	if err != nil {
		return
	}
	for _, b := range p.Settings.MLBackends {
		go func(b store.MLBackend) {
			body, _ := json.Marshal(map[string]string{"project": b.Name})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, mlURL(b.URL, "delete"), bytes.NewReader(body))
			if err != nil {
				return
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("User-Agent", "label-studio/")
			resp, err := mlHTTP.Do(req)
			if err != nil {
				s.log.Info("ML backend delete failed", "backend", b.Name, "err", err)
				return
			}
			resp.Body.Close()
		}(b)
	}
}
