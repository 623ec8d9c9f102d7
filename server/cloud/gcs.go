package cloud

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"
)

// GCS is a Google Cloud Storage bucket reached over the JSON API, with an
// OAuth 2.0 token from the application-default credentials (none: anonymous
// requests, which public buckets and emulators accept).
type GCS struct {
	bucket string
	base   *url.URL
	creds  *GoogleCredentials
	tokens *tokenSource
	opts   Options
}

// DefaultGCSEndpoint is the GCS API's base URL.
const DefaultGCSEndpoint = "https://storage.googleapis.com"

// GCSSignedURLExpiry is how long signed GCS URLs stay valid (0.8.1: one
// minute).
const GCSSignedURLExpiry = time.Minute

// NewGCS returns the GCS bucket of a storage config. The endpoint is
// Options.GCSEndpoint, else the endpoint_url param, else
// STORAGE_EMULATOR_HOST ("host:port" or a URL), else Google's.
func NewGCS(c Config, o Options) (*GCS, error) {
	creds, err := FindGoogleCredentials(o)
	if err != nil {
		return nil, err
	}
	ep := o.GCSEndpoint
	if ep == "" {
		ep = strings.TrimSpace(c.Endpoint)
	}
	if ep == "" {
		if h := strings.TrimSpace(o.getenv("STORAGE_EMULATOR_HOST")); h != "" {
			ep = h
			if !strings.Contains(h, "://") {
				ep = "http://" + h
			}
		}
	}
	if ep == "" {
		ep = DefaultGCSEndpoint
	}
	u, err := url.Parse(strings.TrimSuffix(ep, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("GCS endpoint %q is not an http(s) URL", ep)
	}
	if c.Bucket == "" || strings.ContainsAny(c.Bucket, "/?#") {
		return nil, fmt.Errorf("%q is not a valid GCS bucket name", c.Bucket)
	}
	g := &GCS{bucket: c.Bucket, base: u, creds: creds, opts: o}
	if creds != nil {
		g.tokens = &tokenSource{creds: creds, opts: o}
	}
	return g, nil
}

// Name is the bucket name.
func (g *GCS) Name() string { return g.bucket }

// gcsError is the JSON API's error body.
type gcsError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Errors  []struct {
			Reason string `json:"reason"`
		} `json:"errors"`
	} `json:"error"`
}

// do sends one JSON API request and returns a 2xx response or an *Error.
func (g *GCS) do(ctx context.Context, op, method, rawURL, key string, body []byte, contentType string) (*http.Response, error) {
	fail := func(status int, code, msg string, err error) *Error {
		return &Error{Cloud: "GCS", Op: op, Bucket: g.bucket, Key: key, Status: status, Code: code, Message: msg, Err: err}
	}
	for try := 1; ; try++ {
		req, err := http.NewRequestWithContext(ctx, method, rawURL, bytes.NewReader(body))
		if err != nil {
			return nil, fail(0, "", err.Error(), err)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if g.tokens != nil {
			tok, err := g.tokens.Token(ctx)
			if err != nil {
				var ae *authError
				if errors.As(err, &ae) {
					return nil, fail(http.StatusUnauthorized, "", ae.msg, err)
				}
				return nil, fail(0, "", err.Error(), err)
			}
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := g.opts.client().Do(req)
		if err != nil {
			if ctx.Err() == nil && try < 3 && backoff(ctx, try) == nil {
				continue
			}
			return nil, fail(0, "", err.Error(), err)
		}
		if resp.StatusCode/100 == 2 {
			return resp, nil
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		if retryable(resp.StatusCode) && try < 3 && backoff(ctx, try) == nil {
			continue
		}
		var ge gcsError
		msg, code := "", ""
		if json.Unmarshal(raw, &ge) == nil {
			msg = ge.Error.Message
			if len(ge.Error.Errors) > 0 {
				code = ge.Error.Errors[0].Reason
			}
		}
		if msg == "" {
			msg = strings.TrimSpace(string(raw[:min(len(raw), 300)]))
		}
		if g.creds == nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) {
			msg += " (no Google credentials were found: set GOOGLE_APPLICATION_CREDENTIALS to a service account key file)"
		}
		return nil, fail(resp.StatusCode, code, msg, nil)
	}
}

// apiURL builds a JSON API URL from escaped path parts and a query.
func (g *GCS) apiURL(path string, q url.Values) string {
	u := g.base.String() + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u
}

type gcsList struct {
	Items []struct {
		Name string `json:"name"`
		Size string `json:"size"`
	} `json:"items"`
	NextPageToken string `json:"nextPageToken"`
}

func (g *GCS) listPage(ctx context.Context, q url.Values) (gcsList, error) {
	var out gcsList
	resp, err := g.do(ctx, "list objects", http.MethodGet, g.apiURL("/storage/v1/b/"+url.PathEscape(g.bucket)+"/o", q), "", nil, "")
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return out, &Error{Cloud: "GCS", Op: "list objects", Bucket: g.bucket, Message: "unreadable answer: " + err.Error(), Err: err}
	}
	return out, nil
}

// Check lists at most one object.
func (g *GCS) Check(ctx context.Context) error {
	_, err := g.listPage(ctx, url.Values{"maxResults": {"1"}, "fields": {"items(name),nextPageToken"}})
	return err
}

// List calls fn for every object whose name starts with prefix
// (recursively), except the folder placeholder "<prefix>/".
func (g *GCS) List(ctx context.Context, prefix string, fn func(Object) error) error {
	q := url.Values{"maxResults": {"1000"}, "fields": {"items(name,size),nextPageToken"}}
	if prefix != "" {
		q.Set("prefix", prefix)
	}
	for {
		page, err := g.listPage(ctx, q)
		if err != nil {
			return err
		}
		for _, it := range page.Items {
			if prefix != "" && it.Name == prefix+"/" {
				continue
			}
			size, _ := strconv.ParseInt(it.Size, 10, 64)
			if err := fn(Object{Key: it.Name, Size: size}); err != nil {
				return err
			}
		}
		if page.NextPageToken == "" {
			return nil
		}
		q.Set("pageToken", page.NextPageToken)
	}
}

// Get reads an object of at most limit bytes.
func (g *GCS) Get(ctx context.Context, key string, limit int64) ([]byte, error) {
	u := g.apiURL("/storage/v1/b/"+url.PathEscape(g.bucket)+"/o/"+url.PathEscape(key), url.Values{"alt": {"media"}})
	resp, err := g.do(ctx, "get object", http.MethodGet, u, key, nil, "")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return readLimited(resp.Body, limit, "GCS", g.bucket, key)
}

// Put writes an object (simple media upload).
func (g *GCS) Put(ctx context.Context, key string, body []byte, contentType string) error {
	u := g.apiURL("/upload/storage/v1/b/"+url.PathEscape(g.bucket)+"/o", url.Values{"uploadType": {"media"}, "name": {key}})
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	resp, err := g.do(ctx, "put object", http.MethodPost, u, key, body, contentType)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// SignGet returns a V4 signed URL (GOOG4-RSA-SHA256) for a GET of the
// object, signed with the service account key.
func (g *GCS) SignGet(_ context.Context, key string, expiry time.Duration) (string, error) {
	if !g.creds.CanSign() {
		return "", errors.New("no Google service account key to sign URLs with")
	}
	if expiry <= 0 {
		expiry = GCSSignedURLExpiry
	}
	return signGCSURL(g.creds, g.base, g.bucket, key, http.MethodGet, g.opts.now(), expiry)
}

// signGCSURL builds a V4 signed URL ("Signing URLs with your own program"
// in the GCS documentation): only the host header is signed and the
// payload is unsigned.
func signGCSURL(creds *GoogleCredentials, base *url.URL, bucket, key, method string, t time.Time, expiry time.Duration) (string, error) {
	t = t.UTC()
	day := t.Format("20060102")
	scope := day + "/auto/storage/goog4_request"
	path := strings.TrimSuffix(base.Path, "/") + "/" + awsEscape(bucket, false)
	if key != "" {
		path += "/" + awsEscape(key, true)
	}
	q := url.Values{}
	q.Set("X-Goog-Algorithm", "GOOG4-RSA-SHA256")
	q.Set("X-Goog-Credential", creds.ClientEmail+"/"+scope)
	q.Set("X-Goog-Date", t.Format(amzDateFormat))
	q.Set("X-Goog-Expires", strconv.FormatInt(int64(expiry/time.Second), 10))
	q.Set("X-Goog-SignedHeaders", "host")
	query := canonicalQuery(q)
	canonical := method + "\n" + path + "\n" + query + "\nhost:" + base.Host + "\n\nhost\nUNSIGNED-PAYLOAD"
	toSign := "GOOG4-RSA-SHA256\n" + t.Format(amzDateFormat) + "\n" + scope + "\n" + sha256Hex([]byte(canonical))
	sig, err := creds.signRS256([]byte(toSign))
	if err != nil {
		return "", err
	}
	return base.Scheme + "://" + base.Host + path + "?" + query + "&X-Goog-Signature=" + hex.EncodeToString(sig), nil
}
