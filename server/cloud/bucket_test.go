package cloud

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"labelstudio/server/cloud/cloudtest"
)

// mapEnv is an environment of only the given variables, so tests never see
// the machine's own credentials. Unless m says otherwise it turns off the
// lookups of instance metadata (AWS_EC2_METADATA_DISABLED, NO_GCE_CHECK),
// so that no test asks a metadata server for credentials.
func mapEnv(m map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := m[k]; ok {
			return v
		}
		if k == "AWS_EC2_METADATA_DISABLED" || k == "NO_GCE_CHECK" {
			return "true"
		}
		return ""
	}
}

// offline is an HTTP client that fails every request: a test that uses it
// shows that something needs no network.
var offline = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("test: no request may be sent, got %s %s", r.Method, r.URL)
})}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func s3Options(t *testing.T, fake *cloudtest.S3, env map[string]string) Options {
	t.Helper()
	return Options{Getenv: mapEnv(env), HomeDir: t.TempDir(), S3Endpoint: fake.URL}
}

func fetch(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestS3Bucket(t *testing.T) {
	fake := cloudtest.NewS3(t)
	fake.CreateBucket(t, "media")
	for _, k := range []string{"images/a.jpg", "images/b.png", "images/deep/c.jpg", "other/d.jpg", "top.jpg"} {
		fake.Put(t, "media", k, []byte("content of "+k))
	}
	ctx := context.Background()
	b, err := NewS3(Config{Type: TypeS3, Bucket: "media"}, s3Options(t, fake, fake.Env()))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Check(ctx); err != nil {
		t.Fatalf("check: %v", err)
	}
	list := func(prefix string) []string {
		var keys []string
		if err := b.List(ctx, prefix, func(o Object) error { keys = append(keys, o.Key); return nil }); err != nil {
			t.Fatalf("list %q: %v", prefix, err)
		}
		return keys
	}
	if got := strings.Join(list("images"), ","); got != "images/a.jpg,images/b.png" {
		t.Errorf("list with prefix (not recursive) = %s", got)
	}
	if got := len(list("")); got != 5 {
		t.Errorf("list without prefix: %d objects, want 5", got)
	}
	got, err := b.Get(ctx, "images/a.jpg", 1<<20)
	if err != nil || string(got) != "content of images/a.jpg" {
		t.Fatalf("get: %q %v", got, err)
	}
	if _, err := b.Get(ctx, "images/a.jpg", 3); err == nil || !strings.Contains(err.Error(), "larger than 3 bytes") {
		t.Errorf("get over the limit: %v", err)
	}
	// Keys that need escaping go through the signature check of the fake.
	odd := "out/é x+y&z=1 (2).json"
	if err := b.Put(ctx, odd, []byte(`{"id":1}`), "application/json"); err != nil {
		t.Fatalf("put: %v", err)
	}
	if stored, err := fake.Get("media", odd); err != nil || string(stored) != `{"id":1}` {
		t.Fatalf("stored %q %v", stored, err)
	}
	u, err := b.SignGet(ctx, odd, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u, fake.URL+"/media/out/%C3%A9%20x%2By%26z%3D1%20%282%29.json?X-Amz-Algorithm=AWS4-HMAC-SHA256") || !strings.Contains(u, "X-Amz-Expires=3600") {
		t.Errorf("presigned URL %s", u)
	}
	if code, body := fetch(t, u); code != 200 || body != `{"id":1}` {
		t.Errorf("GET presigned: %d %s", code, body)
	}
	if code, _ := fetch(t, strings.Replace(u, "X-Amz-Signature=", "X-Amz-Signature=0", 1)); code != 403 {
		t.Errorf("GET with a broken signature: %d", code)
	}
	// Listings page through continuation tokens.
	before := fake.Requests.Load()
	n := 0
	if err := b.list(ctx, "", true, 2, func(Object) error { n++; return nil }); err != nil || n != 6 {
		t.Errorf("paged list: %d objects, %v", n, err)
	}
	if pages := fake.Requests.Load() - before; pages != 3 {
		t.Errorf("paged list: %d requests, want 3 pages of 2", pages)
	}
}

func TestS3Errors(t *testing.T) {
	fake := cloudtest.NewS3(t)
	fake.CreateBucket(t, "media")
	ctx := context.Background()

	b, _ := NewS3(Config{Type: TypeS3, Bucket: "nope"}, s3Options(t, fake, fake.Env()))
	err := b.Check(ctx)
	if !IsNotFound(err) || !strings.Contains(err.Error(), "s3://nope") || !strings.Contains(err.Error(), "NoSuchBucket") {
		t.Errorf("missing bucket: %v", err)
	}

	b, _ = NewS3(Config{Type: TypeS3, Bucket: "media"}, s3Options(t, fake, map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIDWRONG", "AWS_SECRET_ACCESS_KEY": "x"}))
	err = b.Check(ctx)
	if !IsAuth(err) || !strings.Contains(err.Error(), "s3://media") || !strings.Contains(err.Error(), "InvalidAccessKeyId") {
		t.Errorf("unknown key: %v", err)
	}

	b, _ = NewS3(Config{Type: TypeS3, Bucket: "media"}, s3Options(t, fake, map[string]string{
		"AWS_ACCESS_KEY_ID": cloudtest.S3AccessKey, "AWS_SECRET_ACCESS_KEY": "wrong secret"}))
	if err = b.Check(ctx); !IsAuth(err) || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Errorf("wrong secret: %v", err)
	}

	b, _ = NewS3(Config{Type: TypeS3, Bucket: "media"}, s3Options(t, fake, nil))
	if err = b.Check(ctx); !IsAuth(err) || !strings.Contains(err.Error(), "no AWS credentials were found") {
		t.Errorf("anonymous: %v", err)
	}
	if _, err := b.SignGet(ctx, "x", 0); err == nil {
		t.Error("anonymous presign should fail")
	}

	b, _ = NewS3(Config{Type: TypeS3, Bucket: "media"}, Options{Getenv: mapEnv(nil), HomeDir: t.TempDir(), S3Endpoint: "http://127.0.0.1:1"})
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err = b.Check(short); err == nil || !strings.Contains(err.Error(), "s3://media") {
		t.Errorf("unreachable endpoint: %v", err)
	}
}

func TestS3CredentialsFile(t *testing.T) {
	fake := cloudtest.NewS3(t)
	fake.CreateBucket(t, "media")
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".aws"), 0o700); err != nil {
		t.Fatal(err)
	}
	creds := "[default]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = x\n\n# work\n[work]\naws_access_key_id = " +
		cloudtest.S3AccessKey + "\naws_secret_access_key=" + cloudtest.S3SecretKey + "\n"
	if err := os.WriteFile(filepath.Join(home, ".aws", "credentials"), []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".aws", "config"), []byte("[profile work]\nregion = eu-west-3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := Options{Getenv: mapEnv(map[string]string{"AWS_PROFILE": "work"}), HomeDir: home, S3Endpoint: fake.URL}
	b, err := NewS3(Config{Type: TypeS3, Bucket: "media"}, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Check(context.Background()); err != nil {
		t.Errorf("profile work: %v", err)
	}
	if b.Region() != "eu-west-3" || b.CredentialsSource() != filepath.Join(home, ".aws", "credentials") {
		t.Errorf("region %s, source %s", b.Region(), b.CredentialsSource())
	}
	// Params win over the files, the environment's region over the config.
	b, _ = NewS3(Config{Type: TypeS3, Bucket: "media", AccessKeyID: "AKIDPARAM", SecretAccessKey: "s"},
		Options{Getenv: mapEnv(map[string]string{"AWS_REGION": "ap-south-1"}), HomeDir: home, HTTPClient: offline})
	if b.CredentialsSource() != "storage params" || b.Region() != "ap-south-1" {
		t.Errorf("params: %s region %s", b.CredentialsSource(), b.Region())
	}
	// AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE name other files; a
	// profile only in the config file gives keys too.
	other := t.TempDir()
	cfg := filepath.Join(other, "cfg")
	if err := os.WriteFile(cfg, []byte("[profile ci]\nregion = ca-central-1\naws_access_key_id = "+cloudtest.S3AccessKey+
		"\naws_secret_access_key = "+cloudtest.S3SecretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o = Options{Getenv: mapEnv(map[string]string{"AWS_PROFILE": "ci", "AWS_CONFIG_FILE": cfg,
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(other, "none")}), HomeDir: home, S3Endpoint: fake.URL}
	b, _ = NewS3(Config{Type: TypeS3, Bucket: "media"}, o)
	if err := b.Check(context.Background()); err != nil || b.CredentialsSource() != cfg || b.Region() != "ca-central-1" {
		t.Errorf("config file profile: %v, source %s, region %s", err, b.CredentialsSource(), b.Region())
	}
}

// TestS3AWSURLs presigns AWS URLs with a configured region: that needs no
// request (the client fails any).
func TestS3AWSURLs(t *testing.T) {
	ctx := context.Background()
	o := Options{Getenv: mapEnv(map[string]string{"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "S"}), HomeDir: t.TempDir(), HTTPClient: offline}
	b, _ := NewS3(Config{Type: TypeS3, Bucket: "my-bucket", Region: "eu-central-1"}, o)
	if u, err := b.SignGet(ctx, "a b.jpg", 0); !strings.HasPrefix(u, "https://my-bucket.s3.eu-central-1.amazonaws.com/a%20b.jpg?") {
		t.Errorf("virtual-hosted URL %s %v", u, err)
	}
	b, _ = NewS3(Config{Type: TypeS3, Bucket: "my.dotted.bucket", Region: "us-west-2"}, o)
	if u, err := b.SignGet(ctx, "k", 0); !strings.HasPrefix(u, "https://s3.us-west-2.amazonaws.com/my.dotted.bucket/k?") {
		t.Errorf("path-style URL %s %v", u, err)
	}
	// Without a region (or with the form's default) the bucket's region
	// is asked for.
	b, _ = NewS3(Config{Type: TypeS3, Bucket: "my-bucket", Region: DefaultRegion}, o)
	if _, err := b.SignGet(ctx, "k", 0); b.Region() != "" || err == nil || !strings.Contains(err.Error(), "no request may be sent") {
		t.Errorf("region %q lookup: %v", b.Region(), err)
	}
	if _, err := NewS3(Config{Type: TypeS3, Bucket: "bad/name"}, o); err == nil {
		t.Error("a bucket name with a slash should be refused")
	}
	o.S3Endpoint = "ftp://x"
	if _, err := NewS3(Config{Type: TypeS3, Bucket: "b"}, o); err == nil {
		t.Error("a non-http endpoint should be refused")
	}
}

func gcsOptions(t *testing.T, fake *cloudtest.GCS, foreign bool) Options {
	t.Helper()
	dir := t.TempDir()
	return Options{
		Getenv:      mapEnv(map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": fake.CredentialsFile(t, dir, foreign)}),
		HomeDir:     dir,
		GCSEndpoint: fake.URL,
	}
}

func TestGCSBucket(t *testing.T) {
	fake := cloudtest.NewGCS(t)
	fake.CreateBucket(t, "media")
	for _, k := range []string{"images/", "images/a.jpg", "images/deep/c.jpg", "images2/x.jpg", "other/d.jpg"} {
		fake.Put(t, "media", k, []byte("content of "+k))
	}
	ctx := context.Background()
	b, err := NewGCS(Config{Type: TypeGCS, Bucket: "media"}, gcsOptions(t, fake, false))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Check(ctx); err != nil {
		t.Fatalf("check: %v", err)
	}
	var keys []string
	if err := b.List(ctx, "images", func(o Object) error { keys = append(keys, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	// GCS lists by name prefix, recursively, without the folder placeholder.
	if got := strings.Join(keys, ","); got != "images/a.jpg,images/deep/c.jpg,images2/x.jpg" {
		t.Errorf("list = %s", got)
	}
	if got, err := b.Get(ctx, "images/deep/c.jpg", 1<<20); err != nil || string(got) != "content of images/deep/c.jpg" {
		t.Errorf("get: %q %v", got, err)
	}
	if _, err := b.Get(ctx, "images/a.jpg", 3); err == nil || !strings.Contains(err.Error(), "larger than 3 bytes") {
		t.Errorf("get over the limit: %v", err)
	}
	if _, err := b.Get(ctx, "images/none.jpg", 10); !IsNotFound(err) || !strings.Contains(err.Error(), "gs://media/images/none.jpg") {
		t.Errorf("get of a missing object: %v", err)
	}
	odd := "out/é x+y&z=1.json"
	if err := b.Put(ctx, odd, []byte(`{"id":2}`), "application/json"); err != nil {
		t.Fatal(err)
	}
	if stored, err := fake.Get("media", odd); err != nil || string(stored) != `{"id":2}` {
		t.Errorf("stored %q %v", stored, err)
	}
	u, err := b.SignGet(ctx, odd, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u, fake.URL+"/media/out/%C3%A9%20x%2By%26z%3D1.json?X-Goog-Algorithm=GOOG4-RSA-SHA256&") ||
		!strings.Contains(u, "X-Goog-Expires=60&") || !strings.Contains(u, "X-Goog-Credential="+url.QueryEscape(cloudtest.GCSEmail)) {
		t.Errorf("signed URL %s", u)
	}
	if code, body := fetch(t, u); code != 200 || body != `{"id":2}` {
		t.Errorf("GET signed URL: %d %s", code, body)
	}
	if code, _ := fetch(t, strings.Replace(u, "X-Goog-Signature=", "X-Goog-Signature=00", 1)); code != 403 {
		t.Errorf("GET with a broken signature: %d", code)
	}
	// Listings page through nextPageToken.
	before := fake.Requests.Load()
	n := 0
	if err := b.list(ctx, "", 2, func(Object) error { n++; return nil }); err != nil || n != 6 {
		t.Errorf("paged list: %d objects, %v", n, err)
	}
	if pages := fake.Requests.Load() - before; pages != 3 {
		t.Errorf("paged list: %d requests, want 3 pages of 2", pages)
	}
}

func TestGCSErrors(t *testing.T) {
	fake := cloudtest.NewGCS(t)
	fake.CreateBucket(t, "media")
	ctx := context.Background()

	b, _ := NewGCS(Config{Type: TypeGCS, Bucket: "nope"}, gcsOptions(t, fake, false))
	err := b.Check(ctx)
	if !IsNotFound(err) || !strings.Contains(err.Error(), "gs://nope") || !strings.Contains(err.Error(), "The specified bucket does not exist") {
		t.Errorf("missing bucket: %v", err)
	}
	if err := b.Put(ctx, "k", []byte("x"), ""); !IsNotFound(err) || !strings.Contains(err.Error(), "The specified bucket does not exist") {
		t.Errorf("put into a missing bucket: %v", err)
	}

	b, _ = NewGCS(Config{Type: TypeGCS, Bucket: "media"}, gcsOptions(t, fake, true))
	err = b.Check(ctx)
	if !IsAuth(err) || !strings.Contains(err.Error(), "gs://media") || !strings.Contains(err.Error(), "invalid_grant: Invalid JWT Signature.") {
		t.Errorf("foreign key: %v", err)
	}
	if err := b.Put(ctx, "k", []byte("x"), ""); !IsAuth(err) {
		t.Errorf("put with a foreign key: %v", err)
	}

	b, _ = NewGCS(Config{Type: TypeGCS, Bucket: "media"}, Options{Getenv: mapEnv(nil), HomeDir: t.TempDir(), GCSEndpoint: fake.URL})
	if err = b.Check(ctx); !IsAuth(err) || !strings.Contains(err.Error(), "no Google credentials were found") {
		t.Errorf("anonymous: %v", err)
	}
	if _, err := b.SignGet(ctx, "x", 0); err == nil {
		t.Error("signing without a key should fail")
	}

	_, err = NewGCS(Config{Type: TypeGCS, Bucket: "media"}, Options{Getenv: mapEnv(map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": "/nonexistent/key.json"})})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/key.json") {
		t.Errorf("missing key file: %v", err)
	}
	dir := t.TempDir()
	garbled := filepath.Join(dir, "key.json")
	if err := os.WriteFile(garbled, []byte(`{"type":"service_account"`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = NewGCS(Config{Type: TypeGCS, Bucket: "media"}, Options{Getenv: mapEnv(map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": garbled})})
	if err == nil || !strings.Contains(err.Error(), garbled) {
		t.Errorf("garbled key file: %v", err)
	}

	b, _ = NewGCS(Config{Type: TypeGCS, Bucket: "media"}, Options{Getenv: mapEnv(nil), HomeDir: t.TempDir(), GCSEndpoint: "http://127.0.0.1:1"})
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if err = b.Check(short); err == nil || !strings.Contains(err.Error(), "gs://media") {
		t.Errorf("unreachable endpoint: %v", err)
	}
}

// TestGCSRetries shows that reads are sent again after an answer that
// may pass (503), a few times only, and that uploads are sent once.
func TestGCSRetries(t *testing.T) {
	fake := cloudtest.NewGCS(t)
	fake.CreateBucket(t, "media")
	fake.Put(t, "media", "a.txt", []byte("A"))
	ctx := context.Background()
	defer func(d time.Duration) { gcsRetryDelay = d }(gcsRetryDelay)
	gcsRetryDelay = time.Millisecond

	// failing is how many API calls (not token requests) still get a 503.
	var failing atomic.Int64
	var sent atomic.Int64
	o := gcsOptions(t, fake, false)
	o.HTTPClient = &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Path == "/token" {
			return http.DefaultTransport.RoundTrip(r)
		}
		sent.Add(1)
		if failing.Add(-1) >= 0 {
			return &http.Response{StatusCode: http.StatusServiceUnavailable, Status: "503 Service Unavailable",
				Header: http.Header{"Content-Type": {"application/json"}}, Request: r,
				Body: io.NopCloser(strings.NewReader(`{"error":{"code":503,"message":"Backend Error","errors":[{"reason":"backendError"}]}}`))}, nil
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	b, err := NewGCS(Config{Type: TypeGCS, Bucket: "media"}, o)
	if err != nil {
		t.Fatal(err)
	}
	try := func(fails int64, call func() error) (int64, error) {
		failing.Store(fails)
		sent.Store(0)
		err := call()
		return sent.Load(), err
	}
	list := func() error { return b.List(ctx, "", func(Object) error { return nil }) }
	get := func() error { _, err := b.Get(ctx, "a.txt", 10); return err }
	put := func() error { return b.Put(ctx, "b.txt", []byte("B"), "") }
	if n, err := try(2, list); err != nil || n != 3 {
		t.Errorf("list after two 503s: %d requests, %v", n, err)
	}
	if n, err := try(1, get); err != nil || n != 2 {
		t.Errorf("get after a 503: %d requests, %v", n, err)
	}
	if n, err := try(3, get); n != 3 || err == nil || !strings.Contains(err.Error(), "Backend Error (backendError, HTTP 503)") {
		t.Errorf("get after three 503s: %d requests, %v", n, err)
	}
	if n, err := try(1, put); n != 1 || err == nil {
		t.Errorf("put after a 503: %d requests, %v", n, err)
	}
	if n, err := try(0, put); n != 1 || err != nil {
		t.Errorf("put: %d requests, %v", n, err)
	}
}

// TestGCSCredentials finds the application-default credentials: the file
// gcloud writes under the home directory, or none without asking a
// metadata server when NO_GCE_CHECK is set; a user's credentials cannot
// sign URLs.
func TestGCSCredentials(t *testing.T) {
	fake := cloudtest.NewGCS(t)
	fake.CreateBucket(t, "media")
	fake.Put(t, "media", "a.txt", []byte("A"))
	ctx := context.Background()

	home := t.TempDir()
	adc := filepath.Join(home, ".config", "gcloud", "application_default_credentials.json")
	if err := os.MkdirAll(filepath.Dir(adc), 0o700); err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(fake.CredentialsFile(t, t.TempDir(), false))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(adc, key, 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := NewGCS(Config{Type: TypeGCS, Bucket: "media"}, Options{Getenv: mapEnv(nil), HomeDir: home, GCSEndpoint: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b.Get(ctx, "a.txt", 10); err != nil || string(got) != "A" || b.CredentialsSource() != adc {
		t.Errorf("well-known file: %q %v, source %s", got, err, b.CredentialsSource())
	}

	// STORAGE_EMULATOR_HOST names the endpoint when nothing else does.
	b, _ = NewGCS(Config{Type: TypeGCS, Bucket: "media"}, Options{Getenv: mapEnv(map[string]string{
		"STORAGE_EMULATOR_HOST": strings.TrimPrefix(fake.URL, "http://")}), HomeDir: home})
	if got, err := b.Get(ctx, "a.txt", 10); err != nil || string(got) != "A" {
		t.Errorf("STORAGE_EMULATOR_HOST: %q %v", got, err)
	}

	user := filepath.Join(t.TempDir(), "user.json")
	if err := os.WriteFile(user, []byte(`{"type":"authorized_user","client_id":"c","client_secret":"s","refresh_token":"r"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err = NewGCS(Config{Type: TypeGCS, Bucket: "media"}, Options{Getenv: mapEnv(map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": user}),
		HomeDir: t.TempDir(), GCSEndpoint: fake.URL, HTTPClient: offline})
	if err != nil || b.CredentialsSource() != user {
		t.Fatalf("user credentials: %v", err)
	}
	if _, err := b.SignGet(ctx, "a.txt", 0); err == nil || !strings.Contains(err.Error(), "service account key") {
		t.Errorf("signing with a user's credentials: %v", err)
	}

	b, _ = NewGCS(Config{Type: TypeGCS, Bucket: "media"}, Options{Getenv: mapEnv(nil), HomeDir: t.TempDir(), GCSEndpoint: fake.URL})
	if b.CredentialsSource() != "none" {
		t.Errorf("no credentials anywhere: %s", b.CredentialsSource())
	}
}
