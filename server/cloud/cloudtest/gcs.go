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
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"
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

// GCS is fake-gcs-server (in process, in memory) behind what it does not
// do itself: the OAuth 2.0 token endpoint of a service account, a check
// that every API call carries a token it issued, and a check of the
// signature of V4 signed URLs. So bad credentials fail as they do on
// Google Cloud.
type GCS struct {
	// URL is the endpoint, e.g. http://127.0.0.1:41235.
	URL string
	// Server is the fake-gcs-server that holds the buckets.
	Server *fakestorage.Server
	// Requests counts the requests served.
	Requests atomic.Int64

	key     *rsa.PrivateKey
	foreign *rsa.PrivateKey
	srv     *httptest.Server

	mu     sync.Mutex
	tokens map[string]bool
}

// NewGCS starts a GCS fake that keeps the objects in memory and stops at
// the end of the test. API calls need a token from its /token endpoint,
// obtained with the key of CredentialsFile.
func NewGCS(t testing.TB) *GCS { return newGCS(t, "") }

// NewGCSOnDisk is NewGCS with the objects in files under a temporary
// directory. fake-gcs-server's memory backend compares each new object
// with every object of its bucket, so filling a bucket with thousands of
// objects takes tens of seconds under the race detector; its disk backend
// does not. It cannot hold "folder/" placeholder objects, though.
//
// The backend syncs each file it writes, so the directory is on /dev/shm
// (a RAM file system, where that costs nothing) when the machine has one.
func NewGCSOnDisk(t testing.TB) *GCS {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "fake-gcs-")
	if err != nil {
		return newGCS(t, t.TempDir())
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return newGCS(t, dir)
}

func newGCS(t testing.TB, root string) *GCS {
	t.Helper()
	g := &GCS{tokens: map[string]bool{}}
	g.key, g.foreign = testKeys(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	g.URL = "http://" + addr
	// The public host is the listener's, so that downloads by path
	// (/bucket/object, as signed URLs have them) reach the objects.
	g.Server, err = fakestorage.NewServerWithOptions(fakestorage.Options{
		NoListener: true, Scheme: "http", PublicHost: addr, ExternalURL: g.URL, StorageRoot: root,
	})
	if err != nil {
		l.Close()
		t.Fatal(err)
	}
	g.srv = httptest.NewUnstartedServer(http.HandlerFunc(g.serve))
	g.srv.Listener.Close()
	g.srv.Listener = l
	g.srv.Start()
	t.Cleanup(func() {
		g.srv.Close()
		g.Server.Stop()
	})
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
func (g *GCS) CreateBucket(t testing.TB, name string) {
	t.Helper()
	g.Server.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: name})
}

// DeleteBucket removes a bucket and its objects.
func (g *GCS) DeleteBucket(t testing.TB, name string) {
	t.Helper()
	objs, _, err := g.Server.ListObjectsWithOptions(name, fakestorage.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if err := g.Server.Backend().DeleteObject(name, o.Name); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Server.Backend().DeleteBucket(name); err != nil {
		t.Fatal(err)
	}
}

// Put stores an object.
func (g *GCS) Put(t testing.TB, bucket, name string, body []byte) {
	t.Helper()
	err := g.Server.CreateObjectStreaming(fakestorage.Object{
		ObjectAttrs: fakestorage.ObjectAttrs{BucketName: bucket, Name: name, ContentType: "application/octet-stream"},
		Content:     append([]byte{}, body...),
	}.StreamingObject())
	if err != nil {
		t.Fatalf("put %s/%s: %v", bucket, name, err)
	}
}

// Get reads an object.
func (g *GCS) Get(bucket, name string) ([]byte, error) {
	o, err := g.Server.GetObject(bucket, name)
	if err != nil {
		return nil, err
	}
	return o.Content, nil
}

// Endpoint is the fake's base URL.
func (g *GCS) Endpoint() string { return g.URL }

func gcsErr(w http.ResponseWriter, status int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code": status, "message": msg, "errors": []map[string]string{{"reason": reason, "message": msg}},
	}})
}

func (g *GCS) serve(w http.ResponseWriter, r *http.Request) {
	g.Requests.Add(1)
	switch {
	case r.URL.Path == "/token" && r.Method == http.MethodPost:
		g.token(w, r)
		return
	case r.URL.Query().Has("X-Goog-Signature"):
		if !g.signatureValid(w, r) {
			return
		}
	case !g.authorized(r):
		gcsErr(w, http.StatusUnauthorized, "authError", "Invalid Credentials")
		return
	}
	g.Server.HTTPHandler().ServeHTTP(w, r)
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

// signatureValid checks a V4 signed URL (GOOG4-RSA-SHA256) against the
// trusted key, from the request as it arrived; it answers the refusal
// itself.
func (g *GCS) signatureValid(w http.ResponseWriter, r *http.Request) bool {
	rawPath, _, _ := strings.Cut(r.RequestURI, "?")
	q := r.URL.Query()
	sig, err := hex.DecodeString(q.Get("X-Goog-Signature"))
	q.Del("X-Goog-Signature")
	t, terr := time.Parse("20060102T150405Z", q.Get("X-Goog-Date"))
	secs, _ := strconv.Atoi(q.Get("X-Goog-Expires"))
	if err != nil || terr != nil || q.Get("X-Goog-Algorithm") != "GOOG4-RSA-SHA256" || time.Now().After(t.Add(time.Duration(secs)*time.Second)) {
		gcsErr(w, http.StatusBadRequest, "ExpiredToken", "Invalid argument: the signed URL expired or is malformed")
		return false
	}
	cred := strings.SplitN(q.Get("X-Goog-Credential"), "/", 2)
	if len(cred) != 2 || cred[0] != GCSEmail {
		gcsErr(w, http.StatusForbidden, "AccessDenied", "unknown signer")
		return false
	}
	// The host is signed as the Host header carries it (with the port).
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
		return false
	}
	return true
}
