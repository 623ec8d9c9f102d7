package cloud

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// S3 is an S3 bucket reached over the S3 REST API with signature version
// 4. With an endpoint (an S3-compatible server) requests are path-style
// (endpoint/bucket/key); otherwise they go to AWS, virtual-hosted style
// when the bucket name allows it.
type S3 struct {
	bucket   string
	endpoint *url.URL
	creds    S3Credentials
	opts     Options

	mu     sync.Mutex
	region string
}

// DefaultPresignExpiry is how long presigned S3 URLs stay valid (boto3's
// default, which 0.8.1 used).
const DefaultPresignExpiry = time.Hour

// NewS3 returns the S3 bucket of a storage config, with credentials and
// region found as FindS3Credentials and S3Region describe. The endpoint
// is Options.S3Endpoint, else the endpoint_url param, else the
// environment's AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, else AWS.
func NewS3(c Config, o Options) (*S3, error) {
	creds, err := FindS3Credentials(c, o)
	if err != nil {
		return nil, err
	}
	s := &S3{bucket: c.Bucket, creds: creds, opts: o, region: S3Region(c, o)}
	ep := o.S3Endpoint
	for _, v := range []string{c.Endpoint, o.getenv("AWS_ENDPOINT_URL_S3"), o.getenv("AWS_ENDPOINT_URL")} {
		if ep == "" {
			ep = strings.TrimSpace(v)
		}
	}
	if ep != "" {
		u, err := url.Parse(ep)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("S3 endpoint %q is not an http(s) URL", ep)
		}
		s.endpoint = u
	}
	if !validBucketName(c.Bucket) {
		return nil, fmt.Errorf("%q is not a valid S3 bucket name", c.Bucket)
	}
	return s, nil
}

// validBucketName accepts names an S3 path can carry: 3 to 255 characters
// of letters, digits, dots, hyphens and underscores (S3-compatible servers
// are laxer than AWS, so only what would break a URL is refused).
func validBucketName(b string) bool {
	if len(b) < 1 || len(b) > 255 {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// dnsBucket reports whether a bucket can be a host name label under HTTPS:
// lower-case letters, digits and hyphens only.
func dnsBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 || b[0] == '-' || b[len(b)-1] == '-' {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Name is the bucket name.
func (s *S3) Name() string { return s.bucket }

// Region is the region requests are signed for.
func (s *S3) Region() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.region
}

// Credentials are the keys the bucket signs with.
func (s *S3) Credentials() S3Credentials { return s.creds }

// objectURL builds the URL of an object ("" = the bucket) for a region.
func (s *S3) objectURL(region, key string, q url.Values) *url.URL {
	u := &url.URL{Scheme: "https"}
	var path string
	switch {
	case s.endpoint != nil:
		u.Scheme, u.Host = s.endpoint.Scheme, s.endpoint.Host
		path = strings.TrimSuffix(s.endpoint.Path, "/") + "/" + s.bucket
		if key != "" {
			path += "/" + key
		}
	case dnsBucket(s.bucket):
		u.Host = s.bucket + ".s3." + region + ".amazonaws.com"
		path = "/" + key
	default:
		u.Host = "s3." + region + ".amazonaws.com"
		path = "/" + s.bucket
		if key != "" {
			path += "/" + key
		}
	}
	u.Path = path
	u.RawPath = awsEscape(path, true)
	if q != nil {
		u.RawQuery = canonicalQuery(q)
	}
	return u
}

// s3Error is the XML error body of S3.
type s3Error struct {
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
	Region  string `xml:"Region"`
}

// do sends one request and returns a 2xx response (the caller closes the
// body) or an *Error. It retries transient failures, and follows a
// "wrong region" answer once when no endpoint is fixed.
func (s *S3) do(ctx context.Context, op, method, key string, q url.Values, body []byte, contentType string) (*http.Response, error) {
	movedRegion := false
	for try := 1; ; try++ {
		region := s.Region()
		req, err := http.NewRequestWithContext(ctx, method, s.objectURL(region, key, q).String(), bytes.NewReader(body))
		if err != nil {
			return nil, &Error{Cloud: "S3", Op: op, Bucket: s.bucket, Key: key, Message: err.Error(), Err: err}
		}
		req.URL = s.objectURL(region, key, q)
		req.ContentLength = int64(len(body))
		if body == nil {
			req.Body = http.NoBody
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if !s.creds.Anonymous() {
			hash := emptySHA256
			if len(body) > 0 {
				hash = sha256Hex(body)
			}
			signRequest(req, s.creds, region, "s3", hash, s.opts.now())
		}
		resp, err := s.opts.client().Do(req)
		if err != nil {
			if ctx.Err() == nil && try < 3 {
				if backoff(ctx, try) == nil {
					continue
				}
			}
			return nil, &Error{Cloud: "S3", Op: op, Bucket: s.bucket, Key: key, Message: err.Error(), Err: err}
		}
		if resp.StatusCode/100 == 2 {
			return resp, nil
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		var xe s3Error
		_ = xml.Unmarshal(raw, &xe)
		if r := resp.Header.Get("X-Amz-Bucket-Region"); r == "" && xe.Region != "" {
			resp.Header.Set("X-Amz-Bucket-Region", xe.Region)
		}
		if r := resp.Header.Get("X-Amz-Bucket-Region"); r != "" && r != region && s.endpoint == nil && !movedRegion &&
			(resp.StatusCode == http.StatusMovedPermanently || resp.StatusCode == http.StatusBadRequest) {
			s.mu.Lock()
			s.region = r
			s.mu.Unlock()
			movedRegion = true
			continue
		}
		if retryable(resp.StatusCode) && try < 3 && backoff(ctx, try) == nil {
			continue
		}
		e := &Error{Cloud: "S3", Op: op, Bucket: s.bucket, Key: key, Status: resp.StatusCode, Code: xe.Code, Message: xe.Message}
		if e.Message == "" && resp.StatusCode == http.StatusNotFound && key == "" {
			e.Message = "The specified bucket does not exist"
		}
		if e.Message == "" && len(raw) > 0 && xe.Code == "" {
			e.Message = strings.TrimSpace(string(raw[:min(len(raw), 300)]))
		}
		if s.creds.Anonymous() && (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized) {
			e.Message += " (no AWS credentials were found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or ~/.aws/credentials)"
		}
		return nil, e
	}
}

// listResult is the ListObjectsV2 answer.
type listResult struct {
	IsTruncated           bool   `xml:"IsTruncated"`
	NextContinuationToken string `xml:"NextContinuationToken"`
	Contents              []struct {
		Key  string `xml:"Key"`
		Size int64  `xml:"Size"`
	} `xml:"Contents"`
}

func (s *S3) listPage(ctx context.Context, q url.Values) (listResult, error) {
	var out listResult
	resp, err := s.do(ctx, "list objects", http.MethodGet, "", q, nil, "")
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if err := xml.NewDecoder(resp.Body).Decode(&out); err != nil {
		return out, &Error{Cloud: "S3", Op: "list objects", Bucket: s.bucket, Message: "unreadable answer: " + err.Error(), Err: err}
	}
	return out, nil
}

// Check lists at most one object.
func (s *S3) Check(ctx context.Context) error {
	_, err := s.listPage(ctx, url.Values{"list-type": {"2"}, "max-keys": {"1"}})
	return err
}

// List calls fn for the objects under prefix: with a prefix, the objects
// directly under "<prefix>/" (not in deeper folders); without, all of them.
func (s *S3) List(ctx context.Context, prefix string, fn func(Object) error) error {
	q := url.Values{"list-type": {"2"}, "max-keys": {"1000"}}
	folder := ""
	if prefix != "" {
		folder = prefix + "/"
		q.Set("prefix", folder)
		q.Set("delimiter", "/")
	}
	for {
		page, err := s.listPage(ctx, q)
		if err != nil {
			return err
		}
		for _, c := range page.Contents {
			if c.Key == folder {
				continue
			}
			if err := fn(Object{Key: c.Key, Size: c.Size}); err != nil {
				return err
			}
		}
		if !page.IsTruncated || page.NextContinuationToken == "" {
			return nil
		}
		q.Set("continuation-token", page.NextContinuationToken)
	}
}

// Get reads an object of at most limit bytes.
func (s *S3) Get(ctx context.Context, key string, limit int64) ([]byte, error) {
	resp, err := s.do(ctx, "get object", http.MethodGet, key, nil, nil, "")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return readLimited(resp.Body, limit, "S3", s.bucket, key)
}

// Put writes an object.
func (s *S3) Put(ctx context.Context, key string, body []byte, contentType string) error {
	if body == nil {
		body = []byte{}
	}
	resp, err := s.do(ctx, "put object", http.MethodPut, key, nil, body, contentType)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Body.Close()
}

// SignGet returns a presigned GET URL (signature version 4, query string).
func (s *S3) SignGet(key string, expiry time.Duration) (string, error) {
	if s.creds.Anonymous() {
		return "", errors.New("no AWS credentials to presign with")
	}
	if expiry <= 0 {
		expiry = DefaultPresignExpiry
	}
	if expiry > 7*24*time.Hour {
		expiry = 7 * 24 * time.Hour
	}
	region := s.Region()
	return presignURL(http.MethodGet, s.objectURL(region, key, nil), s.creds, region, s.opts.now(), expiry), nil
}

// readLimited reads at most limit bytes, failing when there are more.
func readLimited(r io.Reader, limit int64, cloud, bucket, key string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, &Error{Cloud: cloud, Op: "get object", Bucket: bucket, Key: key, Message: err.Error(), Err: err}
	}
	if int64(len(b)) > limit {
		return nil, &Error{Cloud: cloud, Op: "get object", Bucket: bucket, Key: key, Message: fmt.Sprintf("the object is larger than %d bytes", limit)}
	}
	return b, nil
}
