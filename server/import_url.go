package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"

	"labelstudio/server/importer"
)

// downloadError is a failure to fetch the file of a url= import.
type downloadError struct {
	url string
	err error
}

func (e *downloadError) Error() string { return fmt.Sprintf("Failed to download %s: %v", e.url, e.err) }
func (e *downloadError) Unwrap() error { return e.err }

// importURL downloads the file a url= import names and reads it as an
// uploaded file (api.md §4.3, variant 2): http and https only, at most
// DownloadLimit bytes, within DownloadTimeout.
func (s *Server) importURL(run *importRun, raw string) (map[string]int, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, importErrorf("load_tasks: the url must be an http:// or https:// address, not %q", raw)
	}
	shown := u.Redacted()
	ctx, cancel := context.WithTimeout(context.Background(), run.limits.DownloadTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &ImportError{Messages: []string{(&downloadError{shown, err}).Error()}}
	}
	req.Header.Set("User-Agent", "labelstudio/"+s.opts.Version)
	client := &http.Client{
		CheckRedirect: func(r *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("too many redirects")
			}
			if r.URL.Scheme != "http" && r.URL.Scheme != "https" {
				return fmt.Errorf("redirect to a %s: address", r.URL.Scheme)
			}
			return nil
		},
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("no answer within %v", run.limits.DownloadTimeout)
		}
		return nil, &ImportError{Messages: []string{(&downloadError{shown, err}).Error()}}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &ImportError{Messages: []string{(&downloadError{shown, fmt.Errorf("the server answered %s", resp.Status)}).Error()}}
	}
	limit := run.limits.DownloadLimit
	if resp.ContentLength > limit {
		return nil, &ImportError{Messages: []string{(&downloadError{shown, fmt.Errorf("the file is %s, larger than the limit of %s", importer.HumanBytes(resp.ContentLength), importer.HumanBytes(limit))}).Error()}}
	}
	name := downloadName(u, resp.Header.Get("Content-Type"))
	proc := run.processor()
	body := &downloadBody{r: resp.Body, limit: limit, url: shown, ctx: ctx, timeout: run.limits.DownloadTimeout.String()}
	err = proc.File(name, body)
	var de *downloadError
	if errors.As(err, &de) {
		return nil, &ImportError{Messages: []string{de.Error()}}
	}
	if err != nil {
		return nil, err
	}
	return proc.Formats(), nil
}

// downloadName is the file name a download is read as: the URL path's
// base name, with an extension from the content type when it has none the
// importer knows.
func downloadName(u *url.URL, contentType string) string {
	name := path.Base(u.Path)
	if name == "." || name == "/" || name == "" {
		name = "download"
	}
	switch importer.Ext(name) {
	case ".json", ".csv", ".tsv", ".txt", ".zip", ".html", ".htm", ".xml":
		return name
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/json":
		return name + ".json"
	case "text/csv":
		return name + ".csv"
	case "text/tab-separated-values":
		return name + ".tsv"
	case "text/plain":
		return name + ".txt"
	case "application/zip":
		return name + ".zip"
	case "text/html":
		return name + ".html"
	}
	return name
}

// downloadBody reads a download within its size limit, turning read
// failures into *downloadError.
type downloadBody struct {
	r       io.Reader
	n       int64
	limit   int64
	url     string
	ctx     context.Context
	timeout string
}

func (b *downloadBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n += int64(n)
	if b.n > b.limit {
		return n, &downloadError{b.url, fmt.Errorf("the file is larger than the limit of %s", importer.HumanBytes(b.limit))}
	}
	if err != nil && err != io.EOF {
		if b.ctx.Err() != nil {
			return n, &downloadError{b.url, fmt.Errorf("not done within %s", b.timeout)}
		}
		return n, &downloadError{b.url, err}
	}
	return n, err
}
