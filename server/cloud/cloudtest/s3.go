// Package cloudtest runs in-process fakes of S3 and Google Cloud Storage
// on 127.0.0.1 for tests: S3 is gofakes3 behind a check of the signature
// version 4 of every request, GCS is fake-gcs-server behind an OAuth 2.0
// token endpoint and checks of tokens and signed URLs. Both check
// credentials the way the clouds do (the fakes alone accept anything), so
// tests can show what bad credentials give.
package cloudtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Fake is what tests do with either cloud's fake.
type Fake interface {
	// Endpoint is the base URL of the fake's API.
	Endpoint() string
	CreateBucket(t testing.TB, name string)
	DeleteBucket(t testing.TB, name string)
	Put(t testing.TB, bucket, key string, body []byte)
	Get(bucket, key string) ([]byte, error)
}

var (
	_ Fake = (*S3)(nil)
	_ Fake = (*GCS)(nil)
)

// Test keys of the S3 fake.
const (
	S3AccessKey = "AKIDFAKES3TESTKEY000"
	S3SecretKey = "fake/secret/key/for/tests/only/0000000000"
)

// S3 is an S3-compatible server in memory.
type S3 struct {
	// URL is the endpoint, e.g. http://127.0.0.1:41234.
	URL string
	// Backend holds the buckets.
	Backend *s3mem.Backend
	// Requests counts the requests served.
	Requests atomic.Int64
	srv      *httptest.Server
}

// NewS3 starts an S3 fake that accepts requests signed with S3AccessKey /
// S3SecretKey, and presigned GETs; it stops at the end of the test.
func NewS3(t testing.TB) *S3 {
	t.Helper()
	s := &S3{Backend: s3mem.New()}
	faker := gofakes3.New(s.Backend, gofakes3.WithTimeSkewLimit(time.Hour))
	inner := faker.Server()
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Requests.Add(1)
		if code, msg := checkSigV4(r); code != "" {
			writeS3Error(w, http.StatusForbidden, code, msg)
			return
		}
		inner.ServeHTTP(w, r)
	}))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// Env is an environment with the fake's credentials.
func (s *S3) Env() map[string]string {
	return map[string]string{"AWS_ACCESS_KEY_ID": S3AccessKey, "AWS_SECRET_ACCESS_KEY": S3SecretKey}
}

// CreateBucket makes a bucket.
func (s *S3) CreateBucket(t testing.TB, name string) {
	t.Helper()
	if err := s.Backend.CreateBucket(name); err != nil {
		t.Fatalf("create bucket %s: %v", name, err)
	}
}

// Put stores an object, with the metadata a PUT through the API gives.
func (s *S3) Put(t testing.TB, bucket, key string, body []byte) {
	t.Helper()
	meta := map[string]string{"Last-Modified": time.Now().UTC().Format(http.TimeFormat)}
	if _, err := s.Backend.PutObject(bucket, key, meta, bytes.NewReader(body), int64(len(body)), nil); err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
}

// DeleteBucket removes a bucket and its objects.
func (s *S3) DeleteBucket(t testing.TB, name string) {
	t.Helper()
	if err := s.Backend.ForceDeleteBucket(name); err != nil {
		t.Fatalf("delete bucket %s: %v", name, err)
	}
}

// Endpoint is the fake's base URL.
func (s *S3) Endpoint() string { return s.URL }

// Get reads an object.
func (s *S3) Get(bucket, key string) ([]byte, error) {
	obj, err := s.Backend.GetObject(bucket, key, nil)
	if err != nil {
		return nil, err
	}
	defer obj.Contents.Close()
	return io.ReadAll(obj.Contents)
}

func writeS3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	_ = xml.NewEncoder(w).Encode(struct {
		XMLName xml.Name `xml:"Error"`
		Code    string   `xml:"Code"`
		Message string   `xml:"Message"`
	}{Code: code, Message: msg})
}

// checkSigV4 verifies a request's signature version 4 (header or query
// string) from what arrived on the wire. It returns an S3 error code and
// message, or "" when the request is signed with the fake's keys.
func checkSigV4(r *http.Request) (code, msg string) {
	rawPath, rawQuery, _ := strings.Cut(r.RequestURI, "?")
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "AuthorizationQueryParametersError", "the query does not parse"
	}
	var (
		cred, signedHeaders, sig, amzDate, payload string
		presigned                                  = query.Get("X-Amz-Signature") != ""
	)
	if presigned {
		cred, signedHeaders, sig = query.Get("X-Amz-Credential"), query.Get("X-Amz-SignedHeaders"), query.Get("X-Amz-Signature")
		amzDate, payload = query.Get("X-Amz-Date"), "UNSIGNED-PAYLOAD"
		query.Del("X-Amz-Signature")
		t, err := time.Parse("20060102T150405Z", amzDate)
		var secs int
		fmt.Sscan(query.Get("X-Amz-Expires"), &secs)
		if err != nil || time.Now().After(t.Add(time.Duration(secs)*time.Second)) {
			return "AccessDenied", "Request has expired"
		}
	} else {
		auth := r.Header.Get("Authorization")
		if auth == "" {
			return "AccessDenied", "Anonymous access is forbidden for this operation"
		}
		rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
		if !ok {
			return "InvalidRequest", "The authorization mechanism you have provided is not supported"
		}
		for _, part := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			switch k {
			case "Credential":
				cred = v
			case "SignedHeaders":
				signedHeaders = v
			case "Signature":
				sig = v
			}
		}
		amzDate, payload = r.Header.Get("X-Amz-Date"), r.Header.Get("X-Amz-Content-Sha256")
		if payload != "UNSIGNED-PAYLOAD" {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			sum := sha256.Sum256(body)
			if hex.EncodeToString(sum[:]) != payload {
				return "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed."
			}
		}
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[3] != "s3" || parts[4] != "aws4_request" {
		return "AuthorizationHeaderMalformed", "the credential scope is malformed: " + cred
	}
	if parts[0] != S3AccessKey {
		return "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."
	}
	var ch strings.Builder
	for _, h := range strings.Split(signedHeaders, ";") {
		v := r.Host
		if h != "host" {
			v = strings.Join(r.Header.Values(h), ",")
		}
		ch.WriteString(h + ":" + strings.Join(strings.Fields(v), " ") + "\n")
	}
	canonical := r.Method + "\n" + rawPath + "\n" + encodeQuery(query) + "\n" + ch.String() + "\n" + signedHeaders + "\n" + payload
	sum := sha256.Sum256([]byte(canonical))
	scope := strings.Join(parts[1:], "/")
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(sum[:])
	mac := func(k []byte, s string) []byte { h := hmac.New(sha256.New, k); h.Write([]byte(s)); return h.Sum(nil) }
	key := mac(mac(mac(mac([]byte("AWS4"+S3SecretKey), parts[1]), parts[2]), "s3"), "aws4_request")
	if want := hex.EncodeToString(mac(key, toSign)); !hmac.Equal([]byte(want), []byte(sig)) {
		return "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method."
	}
	return "", ""
}

// encodeQuery is the canonical query string of signature version 4.
func encodeQuery(q url.Values) string {
	var pairs [][2]string
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, [2]string{uriEncode(k), uriEncode(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i][0] != pairs[j][0] {
			return pairs[i][0] < pairs[j][0]
		}
		return pairs[i][1] < pairs[j][1]
	})
	out := make([]string, len(pairs))
	for i, p := range pairs {
		out[i] = p[0] + "=" + p[1]
	}
	return strings.Join(out, "&")
}

func uriEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
