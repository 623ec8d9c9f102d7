package cloud

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/auth/credentials"
	"cloud.google.com/go/auth/httptransport"
	json "github.com/goccy/go-json"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	storage "google.golang.org/api/storage/v1"

	"labelstudio/server/backoff"
)

// GCS is a Google Cloud Storage bucket reached with Google's generated
// client of the Cloud Storage JSON API (google.golang.org/api/storage/v1),
// authorized by the application-default credentials (none: anonymous
// requests, which public buckets and emulators accept).
type GCS struct {
	bucket string
	svc    *storage.Service
	creds  googleCreds
	// base is the endpoint, where signed URLs point.
	base *url.URL
	now  func() time.Time
}

// DefaultGCSEndpoint is the GCS API's base URL.
const DefaultGCSEndpoint = "https://storage.googleapis.com"

// GCSSignedURLExpiry is how long signed GCS URLs stay valid (0.8.1: one
// minute).
const GCSSignedURLExpiry = time.Minute

// GCSScope is the OAuth 2.0 scope the GCS client asks for.
const GCSScope = "https://www.googleapis.com/auth/devstorage.read_write"

// NewGCS returns the GCS bucket of a storage config. The endpoint is
// Options.GCSEndpoint, else the endpoint_url param, else
// STORAGE_EMULATOR_HOST ("host:port" or a URL), else Google's. The
// credentials are found as findGoogleCredentials describes.
//
// Nothing is sent before the first call on the bucket, except the probe
// of a metadata server that findGoogleCredentials may make.
func NewGCS(c Config, o Options) (*GCS, error) {
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
	creds, err := findGoogleCredentials(o)
	if err != nil {
		return nil, err
	}
	// The client sends its requests with this HTTP client, and only
	// these credentials authorize them: given an HTTP client, the API
	// client looks for no credentials of its own.
	hc := &http.Client{Transport: o.transport(), Timeout: o.client().Timeout}
	if creds.creds != nil {
		if err := httptransport.AddAuthorizationMiddleware(hc, creds.creds); err != nil {
			return nil, fmt.Errorf("GCS client for %s: %w", u.Host, err)
		}
	}
	svc, err := storage.NewService(context.Background(), option.WithHTTPClient(hc), option.WithEndpoint(u.String()+"/storage/v1/"))
	if err != nil {
		return nil, fmt.Errorf("GCS client for %s: %w", u.Host, err)
	}
	return &GCS{bucket: c.Bucket, svc: svc, creds: creds, base: u, now: o.now}, nil
}

// Name is the bucket name.
func (g *GCS) Name() string { return g.bucket }

// CredentialsSource is where the credentials come from: a file name,
// "metadata server", or "none" (anonymous requests).
func (g *GCS) CredentialsSource() string {
	if g.creds.creds == nil {
		return "none"
	}
	return g.creds.source
}

// fail turns an error of the client into an *Error.
func (g *GCS) fail(op, key string, err error) error {
	e := &Error{Cloud: "GCS", Op: op, Bucket: g.bucket, Key: key, Err: err}
	var ae *auth.Error
	var ge *googleapi.Error
	switch {
	case errors.As(err, &ae):
		// The token endpoint refused the credentials.
		var te struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(ae.Body, &te)
		e.Status, e.Code = http.StatusUnauthorized, te.Error
		if ae.Response != nil && ae.Response.StatusCode >= 500 {
			e.Status = ae.Response.StatusCode
		}
		msg := te.Error
		if te.Description != "" {
			msg += ": " + te.Description
		}
		if msg == "" {
			msg = ae.Error()
		}
		e.Message = "the Google token endpoint refused the credentials of " + g.creds.source + ": " + msg
	case errors.As(err, &ge):
		e.Status, e.Message = ge.Code, ge.Message
		if len(ge.Errors) > 0 {
			e.Code = ge.Errors[0].Reason
			if e.Message == "" {
				e.Message = ge.Errors[0].Message
			}
		}
		if e.Message == "" {
			// Media downloads leave the JSON error body unread.
			var reason string
			e.Message, reason = errorBodyMessage(ge.Body)
			if e.Code == "" {
				e.Code = reason
			}
		}
		// A bare "not found" names what is missing: the bucket of a
		// listing or an upload, else the object.
		if e.Status == http.StatusNotFound && (e.Message == "" || e.Message == http.StatusText(http.StatusNotFound)) {
			e.Message = "The specified object does not exist"
			if key == "" || op == "put object" {
				e.Message = "The specified bucket does not exist"
			}
		}
	default:
		e.Message = err.Error()
	}
	if g.creds.creds == nil && (e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden) {
		e.Message += " (no Google credentials were found: set GOOGLE_APPLICATION_CREDENTIALS to a service account key file)"
	}
	return e
}

// errorBodyMessage is the message and the first reason of a JSON error
// body, else the start of the body.
func errorBodyMessage(body string) (msg, reason string) {
	var je struct {
		Error struct {
			Message string `json:"message"`
			Errors  []struct {
				Reason string `json:"reason"`
			} `json:"errors"`
		} `json:"error"`
	}
	if json.Unmarshal([]byte(body), &je) == nil && je.Error.Message != "" {
		if len(je.Error.Errors) > 0 {
			reason = je.Error.Errors[0].Reason
		}
		return je.Error.Message, reason
	}
	body = strings.TrimSpace(body)
	return body[:min(len(body), 300)], ""
}

// gcsAttempts is how many times a call that reads (a page of a listing,
// an object) is tried when it fails in a way that may pass: a few times,
// not for as long as the context lasts (a sync's lasts hours). Uploads are
// tried once.
const gcsAttempts = 3

// gcsRetryDelay is the wait before the second attempt; it doubles after.
var gcsRetryDelay = 250 * time.Millisecond

// retry calls fn until it succeeds, fails for good, or gcsAttempts are
// spent.
func (g *GCS) retry(ctx context.Context, fn func() error) error {
	return backoff.Do(ctx, gcsAttempts, gcsRetryDelay, transient, fn)
}

// transient reports whether a failed call may succeed when sent again:
// the answers GCS documents as retryable (408, 429, 5xx), and connections
// that were refused, reset or cut short.
func transient(err error) bool {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return ge.Code == http.StatusRequestTimeout || ge.Code == http.StatusTooManyRequests || ge.Code >= 500
	}
	var ae *auth.Error
	if errors.As(err, &ae) {
		return false
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED)
}

// list calls fn for the objects whose name starts with prefix, asking
// for max a page.
func (g *GCS) list(ctx context.Context, prefix string, max int, fn func(Object) error) error {
	call := g.svc.Objects.List(g.bucket).MaxResults(int64(max)).Fields("items(name,size)", "nextPageToken").Context(ctx)
	if prefix != "" {
		call.Prefix(prefix)
	}
	for {
		var page *storage.Objects
		err := g.retry(ctx, func() (err error) {
			page, err = call.Do()
			return err
		})
		if err != nil {
			return g.fail("list objects", "", err)
		}
		for _, it := range page.Items {
			if err := fn(Object{Key: it.Name, Size: int64(it.Size)}); err != nil {
				return err
			}
		}
		if page.NextPageToken == "" {
			return nil
		}
		call.PageToken(page.NextPageToken)
	}
}

// Check lists at most one object (which needs only object permissions,
// unlike reading the bucket's metadata).
func (g *GCS) Check(ctx context.Context) error {
	err := g.list(ctx, "", 1, func(Object) error { return errStop })
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

// List calls fn for every object whose name starts with prefix
// (recursively), except the folder placeholder "<prefix>/".
func (g *GCS) List(ctx context.Context, prefix string, fn func(Object) error) error {
	return g.list(ctx, prefix, 1000, func(o Object) error {
		if prefix != "" && o.Key == prefix+"/" {
			return nil
		}
		return fn(o)
	})
}

// Get reads an object of at most limit bytes (a media download).
func (g *GCS) Get(ctx context.Context, key string, limit int64) ([]byte, error) {
	var resp *http.Response
	err := g.retry(ctx, func() (err error) {
		resp, err = g.svc.Objects.Get(g.bucket, key).Context(ctx).Download()
		return err
	})
	if err != nil {
		return nil, g.fail("get object", key, err)
	}
	defer resp.Body.Close()
	if resp.ContentLength > limit {
		return nil, tooLarge("GCS", g.bucket, key, limit)
	}
	return readLimited(resp.Body, limit, "GCS", g.bucket, key)
}

// Put writes an object in one upload request (a multipart upload: the
// object's metadata and its content).
func (g *GCS) Put(ctx context.Context, key string, body []byte, contentType string) error {
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	_, err := g.svc.Objects.Insert(g.bucket, &storage.Object{Name: key, ContentType: contentType}).
		Media(bytes.NewReader(body), googleapi.ChunkSize(0)).
		Fields("name").Context(ctx).Do()
	if err != nil {
		return g.fail("put object", key, err)
	}
	return nil
}

// SignGet returns a V4 signed URL (GOOG4-RSA-SHA256) for a GET of the
// object, signed locally with the service account key. Nothing is sent.
// Credentials without a key (a user's, the metadata server's) cannot sign.
func (g *GCS) SignGet(_ context.Context, key string, expiry time.Duration) (string, error) {
	if g.creds.key == nil {
		src := "no credentials were found"
		if g.creds.creds != nil {
			src = "the credentials of " + g.creds.source + " are not a service account key"
		}
		return "", fmt.Errorf("no Google service account key to sign URLs with (%s)", src)
	}
	if expiry <= 0 {
		expiry = GCSSignedURLExpiry
	}
	u, err := signGCSURL(g.creds.email, g.creds.key, g.base, g.bucket, key, http.MethodGet, g.now(), min(expiry, maxPresignExpiry))
	if err != nil {
		return "", &Error{Cloud: "GCS", Op: "sign URL", Bucket: g.bucket, Key: key, Message: err.Error(), Err: err}
	}
	return u, nil
}

// googleCreds are the application-default credentials found for GCS.
type googleCreds struct {
	// creds authorize requests; nil means anonymous ones.
	creds *auth.Credentials
	// email and key are a service account's, for signing URLs.
	email string
	key   *rsa.PrivateKey
	// source is the file the credentials came from, or "metadata server".
	source string
}

// findGoogleCredentials finds the application-default credentials of
// Google Cloud, first found wins:
//  1. the file GOOGLE_APPLICATION_CREDENTIALS names (an error when it
//     cannot be read or parsed);
//  2. ~/.config/gcloud/application_default_credentials.json (gcloud auth
//     application-default login);
//  3. unless NO_GCE_CHECK is true: the metadata server of Google Cloud,
//     when the process runs there (one probe per process, made when a GCS
//     storage is first used).
//
// Nothing found gives anonymous requests and no error.
func findGoogleCredentials(o Options) (googleCreds, error) {
	path := o.getenv("GOOGLE_APPLICATION_CREDENTIALS")
	named := path != ""
	if !named {
		path = filepath.Join(o.home(), ".config", "gcloud", "application_default_credentials.json")
	}
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		return parseGoogleCredentials(b, path, o)
	case named || !errors.Is(err, fs.ErrNotExist):
		return googleCreds{}, fmt.Errorf("reading Google credentials: %w", err)
	}
	if Truthy(strings.TrimSpace(o.getenv("NO_GCE_CHECK"))) || !credentials.OnGCE() {
		return googleCreds{}, nil
	}
	c, err := credentials.DetectDefault(&credentials.DetectOptions{Scopes: []string{GCSScope}, Client: o.client()})
	if err != nil {
		return googleCreds{}, fmt.Errorf("Google credentials of the metadata server: %w", err)
	}
	return googleCreds{creds: c, source: "metadata server"}, nil
}

// parseGoogleCredentials reads a credentials file of any kind the Google
// client libraries accept.
func parseGoogleCredentials(b []byte, source string, o Options) (googleCreds, error) {
	var f struct {
		Type        string `json:"type"`
		ClientEmail string `json:"client_email"`
		PrivateKey  string `json:"private_key"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return googleCreds{}, fmt.Errorf("Google credentials %s are not JSON: %w", source, err)
	}
	// The file is the user's own: any type it declares is accepted.
	c, err := credentials.NewCredentialsFromJSON(credentials.CredType(f.Type), b, &credentials.DetectOptions{Scopes: []string{GCSScope}, Client: o.client()})
	if err != nil {
		return googleCreds{}, fmt.Errorf("Google credentials %s: %w", source, err)
	}
	gc := googleCreds{creds: c, source: source}
	if f.Type == "service_account" {
		k, err := parseRSAKey(f.PrivateKey)
		if err != nil {
			return googleCreds{}, fmt.Errorf("Google credentials %s: %w", source, err)
		}
		gc.email, gc.key = f.ClientEmail, k
	}
	return gc, nil
}
