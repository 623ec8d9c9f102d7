package cloudtest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// GCSEmail is the service account the GCS fake trusts.
const GCSEmail = "labelstudio-test@fake-project.iam.gserviceaccount.com"

var (
	keysOnce         sync.Once
	trusted, foreign *rsa.PrivateKey
	keysErr          error
)

// testKeys makes the fake's RSA keys once per test binary.
func testKeys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey) {
	t.Helper()
	keysOnce.Do(func() {
		if trusted, keysErr = rsa.GenerateKey(rand.Reader, 2048); keysErr == nil {
			foreign, keysErr = rsa.GenerateKey(rand.Reader, 2048)
		}
	})
	if keysErr != nil {
		t.Fatalf("generating test keys: %v", keysErr)
	}
	return trusted, foreign
}

// GCS is a Google Cloud Storage JSON API server in memory, with the
// OAuth 2.0 token endpoint of a service account, and downloads through V4
// signed URLs.
type GCS struct {
	// URL is the endpoint, e.g. http://127.0.0.1:41235.
	URL string
	// Requests counts the requests served.
	Requests atomic.Int64

	key     *rsa.PrivateKey
	foreign *rsa.PrivateKey
	srv     *httptest.Server

	mu      sync.Mutex
	buckets map[string]map[string][]byte
	tokens  map[string]bool
}

// NewGCS starts a GCS fake that stops at the end of the test. API calls
// need a token from its /token endpoint, obtained with the key of
// CredentialsFile.
func NewGCS(t testing.TB) *GCS {
	t.Helper()
	g := &GCS{buckets: map[string]map[string][]byte{}, tokens: map[string]bool{}}
	g.key, g.foreign = testKeys(t)
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	g.URL = g.srv.URL
	t.Cleanup(g.srv.Close)
	return g
}

// CredentialsFile writes a service account key file the fake trusts (into
// dir) and returns its path; with foreign, a key it does not know.
func (g *GCS) CredentialsFile(t testing.TB, dir string, foreign bool) string {
	t.Helper()
	k, name := g.key, "sa.json"
	if foreign {
		k, name = g.foreign, "foreign.json"
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "fake-project", "private_key_id": "0123",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": GCSEmail, "client_id": "1", "token_uri": g.URL + "/token",
	})
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// CreateBucket makes a bucket.
func (g *GCS) CreateBucket(name string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.buckets[name] == nil {
		g.buckets[name] = map[string][]byte{}
	}
}

// Put stores an object.
func (g *GCS) Put(bucket, name string, body []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.buckets[bucket][name] = append([]byte(nil), body...)
}

// Get reads an object.
func (g *GCS) Get(bucket, name string) ([]byte, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	b, ok := g.buckets[bucket][name]
	return b, ok
}

func gcsErr(w http.ResponseWriter, status int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code": status, "message": msg, "errors": []map[string]string{{"reason": reason, "message": msg}},
	}})
}

func (g *GCS) serve(w http.ResponseWriter, r *http.Request) {
	g.Requests.Add(1)
	rawPath, _, _ := strings.Cut(r.RequestURI, "?")
	switch {
	case r.URL.Path == "/token" && r.Method == http.MethodPost:
		g.token(w, r)
	case strings.HasPrefix(rawPath, "/storage/v1/b/"), strings.HasPrefix(rawPath, "/upload/storage/v1/b/"):
		if !g.authorized(r) {
			gcsErr(w, http.StatusUnauthorized, "authError", "Invalid Credentials")
			return
		}
		g.api(w, r, rawPath)
	case r.Method == http.MethodGet && r.URL.Query().Get("X-Goog-Signature") != "":
		g.signedGet(w, r, rawPath)
	default:
		gcsErr(w, http.StatusNotFound, "notFound", "Not Found")
	}
}

func (g *GCS) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	g.mu.Lock()
	defer g.mu.Unlock()
	return ok && g.tokens[tok]
}

// token trades a service account's signed JWT for an access token.
func (g *GCS) token(w http.ResponseWriter, r *http.Request) {
	refuse := func(desc string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant", "error_description": desc})
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		refuse("unsupported grant type")
		return
	}
	parts := strings.Split(r.PostForm.Get("assertion"), ".")
	if len(parts) != 3 {
		refuse("malformed JWT")
		return
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err != nil || rsa.VerifyPKCS1v15(&g.key.PublicKey, crypto.SHA256, h[:], sig) != nil {
		refuse("Invalid JWT Signature.")
		return
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims struct {
		Iss   string `json:"iss"`
		Aud   string `json:"aud"`
		Scope string `json:"scope"`
		Exp   int64  `json:"exp"`
	}
	if json.Unmarshal(raw, &claims) != nil || claims.Iss != GCSEmail || claims.Aud != g.URL+"/token" ||
		!strings.Contains(claims.Scope, "devstorage") || claims.Exp < time.Now().Unix() {
		refuse("Invalid JWT: bad claims")
		return
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := hex.EncodeToString(b)
	g.mu.Lock()
	g.tokens[tok] = true
	g.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "expires_in": 3599, "token_type": "Bearer"})
}

// api serves bucket listings, downloads and uploads.
func (g *GCS) api(w http.ResponseWriter, r *http.Request, rawPath string) {
	upload := strings.HasPrefix(rawPath, "/upload/")
	rest := strings.TrimPrefix(strings.TrimPrefix(rawPath, "/upload"), "/storage/v1/b/")
	rawBucket, after, _ := strings.Cut(rest, "/")
	bucket, _ := url.PathUnescape(rawBucket)
	g.mu.Lock()
	objs, ok := g.buckets[bucket]
	g.mu.Unlock()
	if !ok {
		gcsErr(w, http.StatusNotFound, "notFound", "The specified bucket does not exist.")
		return
	}
	q := r.URL.Query()
	switch {
	case upload && r.Method == http.MethodPost && after == "o":
		name := q.Get("name")
		body, _ := io.ReadAll(r.Body)
		if q.Get("uploadType") != "media" || name == "" {
			gcsErr(w, http.StatusBadRequest, "invalid", "uploadType=media and name are required")
			return
		}
		g.Put(bucket, name, body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"name": name, "bucket": bucket, "size": strconv.Itoa(len(body))})
	case r.Method == http.MethodGet && after == "o":
		g.list(w, bucket, objs, q)
	case r.Method == http.MethodGet && strings.HasPrefix(after, "o/") && q.Get("alt") == "media":
		name, err := url.PathUnescape(after[2:])
		body, found := g.Get(bucket, name)
		if err != nil || !found {
			gcsErr(w, http.StatusNotFound, "notFound", "No such object: "+bucket+"/"+name)
			return
		}
		_, _ = w.Write(body)
	default:
		gcsErr(w, http.StatusBadRequest, "invalid", "unsupported request "+r.Method+" "+rawPath)
	}
}

func (g *GCS) list(w http.ResponseWriter, bucket string, objs map[string][]byte, q url.Values) {
	prefix := q.Get("prefix")
	g.mu.Lock()
	var names []string
	sizes := map[string]int{}
	for n, b := range objs {
		if strings.HasPrefix(n, prefix) {
			names = append(names, n)
			sizes[n] = len(b)
		}
	}
	g.mu.Unlock()
	sort.Strings(names)
	max, _ := strconv.Atoi(q.Get("maxResults"))
	if max <= 0 || max > 1000 {
		max = 1000
	}
	start, _ := strconv.Atoi(q.Get("pageToken"))
	out := map[string]any{"kind": "storage#objects"}
	var items []map[string]string
	for i := start; i < len(names) && len(items) < max; i++ {
		items = append(items, map[string]string{"name": names[i], "bucket": bucket, "size": strconv.Itoa(sizes[names[i]])})
	}
	if start+len(items) < len(names) {
		out["nextPageToken"] = strconv.Itoa(start + len(items))
	}
	if len(items) > 0 {
		out["items"] = items
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// signedGet serves a download through a V4 signed URL, after checking the
// signature against the trusted key, from the request as it arrived.
func (g *GCS) signedGet(w http.ResponseWriter, r *http.Request, rawPath string) {
	q := r.URL.Query()
	sig, err := hex.DecodeString(q.Get("X-Goog-Signature"))
	q.Del("X-Goog-Signature")
	t, terr := time.Parse("20060102T150405Z", q.Get("X-Goog-Date"))
	secs, _ := strconv.Atoi(q.Get("X-Goog-Expires"))
	if err != nil || terr != nil || time.Now().After(t.Add(time.Duration(secs)*time.Second)) {
		gcsErr(w, http.StatusBadRequest, "ExpiredToken", "Invalid argument: the signed URL expired or is malformed")
		return
	}
	cred := strings.SplitN(q.Get("X-Goog-Credential"), "/", 2)
	if len(cred) != 2 || cred[0] != GCSEmail {
		gcsErr(w, http.StatusForbidden, "AccessDenied", "unknown signer")
		return
	}
	var ch strings.Builder
	for _, h := range strings.Split(q.Get("X-Goog-SignedHeaders"), ";") {
		v := r.Host
		if h != "host" {
			v = r.Header.Get(h)
		}
		fmt.Fprintf(&ch, "%s:%s\n", h, strings.TrimSpace(v))
	}
	canonical := r.Method + "\n" + rawPath + "\n" + encodeQuery(q) + "\n" + ch.String() + "\n" + q.Get("X-Goog-SignedHeaders") + "\nUNSIGNED-PAYLOAD"
	ch2 := sha256.Sum256([]byte(canonical))
	toSign := "GOOG4-RSA-SHA256\n" + q.Get("X-Goog-Date") + "\n" + cred[1] + "\n" + hex.EncodeToString(ch2[:])
	h := sha256.Sum256([]byte(toSign))
	if rsa.VerifyPKCS1v15(&g.key.PublicKey, crypto.SHA256, h[:], sig) != nil {
		gcsErr(w, http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided.")
		return
	}
	rest := strings.TrimPrefix(rawPath, "/")
	rawBucket, rawName, _ := strings.Cut(rest, "/")
	bucket, _ := url.PathUnescape(rawBucket)
	name, _ := url.PathUnescape(rawName)
	body, ok := g.Get(bucket, name)
	if !ok {
		gcsErr(w, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
		return
	}
	_, _ = w.Write(body)
}
