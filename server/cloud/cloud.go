// Package cloud connects projects to cloud storages, as Label Studio 0.8.1
// does (spec storage.md §4.3, §4.4, api.md §5.4): Amazon S3 (and servers
// that speak its API) and Google Cloud Storage.
//
// A cloud source storage is a bucket prefix whose objects become tasks: a
// sync lists the bucket, filters the keys with the storage's regex and
// imports every object it has not imported before into the project's
// store, one task per object. Each such task remembers its object in its
// task_path ("s3://bucket/key" or "gs://bucket/key"), which is how later
// syncs know what is imported already: the link is written in the same
// transaction as the task, so a crash can neither lose it nor import an
// object twice.
//
// A cloud target storage receives a copy of each completed task's
// completions record (api.md §1.4) as the object <prefix>/<task id>,
// written after every completion change. The store stays the authoritative
// copy: a failing bucket never loses or blocks local work.
//
// When tasks are served, s3:// and gs:// URIs among the top-level strings
// of their data are replaced by presigned URLs (Resolve).
//
// The clients are well-kept Go libraries: minio-go for S3 and
// S3-compatible servers (signature version 4, presigned GETs), and for GCS
// Google's generated client of the Cloud Storage JSON API
// (google.golang.org/api/storage/v1) with cloud.google.com/go/auth for the
// credentials and their tokens. GCS's full client library is not used: it
// links gRPC with its xDS and Envoy protobufs and OpenTelemetry, which more
// than doubled the binary and the idle server's memory. The JSON API client
// has no signed URLs, so GCS V4 URLs are signed here (gcsign.go) with the
// service account key, without a request.
//
// Credentials come from the usual environment variables and files of each
// cloud (see newAWSChain and findGoogleCredentials), read through Options
// so that tests never see the machine's own, and are always handed to the
// clients explicitly, so that neither looks for any of its own. Nothing is
// sent, and no metadata server is asked for credentials, until a cloud
// storage is used; setting AWS_EC2_METADATA_DISABLED=true or
// NO_GCE_CHECK=true keeps the respective metadata server from ever being
// asked.
package cloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"labelstudio/store"
)

// Storage types of the cloud storages (storage.md §1).
const (
	TypeS3            = "s3"
	TypeS3Completions = "s3-completions"
	TypeGCS           = "gcs"
	TypeGCSTarget     = "gcs-completions"
)

// IsCloud reports whether t names a cloud storage type.
func IsCloud(t string) bool {
	switch t {
	case TypeS3, TypeS3Completions, TypeGCS, TypeGCSTarget:
		return true
	}
	return false
}

// IsSource reports whether t is a cloud source type (s3, gcs).
func IsSource(t string) bool { return t == TypeS3 || t == TypeGCS }

// IsTarget reports whether t is a cloud target type.
func IsTarget(t string) bool { return t == TypeS3Completions || t == TypeGCSTarget }

// Scheme returns the URI scheme of a storage type: "s3" or "gs".
func Scheme(t string) string {
	if strings.HasPrefix(t, "gcs") {
		return "gs"
	}
	return "s3"
}

// DefaultRegion is the S3 region when nothing else names one.
const DefaultRegion = "us-east-1"

// Options tune how buckets are reached. The zero value uses the process
// environment and the real cloud endpoints.
type Options struct {
	// Getenv reads environment variables; nil means os.Getenv. Tests
	// give a map so that the machine's own credentials are never used.
	Getenv func(string) string
	// HomeDir is where ~/.aws and ~/.config/gcloud are looked up; empty
	// means the user's home directory.
	HomeDir string
	// S3Endpoint, when set, is the base URL of an S3-compatible server
	// (path-style requests), e.g. "http://127.0.0.1:9000". It overrides
	// the storage's endpoint_url parameter and AWS_ENDPOINT_URL_S3 /
	// AWS_ENDPOINT_URL.
	S3Endpoint string
	// GCSEndpoint, when set, is the base URL of a GCS-compatible server,
	// overriding STORAGE_EMULATOR_HOST.
	GCSEndpoint string
	// HTTPClient makes the requests (of the S3 client, its Transport
	// only); nil means a client with sane timeouts.
	HTTPClient *http.Client
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Env reads an environment variable through Getenv.
func (o Options) Env(k string) string { return o.getenv(k) }

func (o Options) getenv(k string) string {
	if o.Getenv != nil {
		return o.Getenv(k)
	}
	return os.Getenv(k)
}

func (o Options) home() string {
	if o.HomeDir != "" {
		return o.HomeDir
	}
	h, _ := os.UserHomeDir()
	return h
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

var defaultHTTP = &http.Client{
	Timeout: 5 * time.Minute,
	Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
	},
}

func (o Options) client() *http.Client {
	if o.HTTPClient != nil {
		return o.HTTPClient
	}
	return defaultHTTP
}

// transport is the round tripper of the HTTP client, for clients that
// make their own http.Client around it.
func (o Options) transport() http.RoundTripper {
	if t := o.client().Transport; t != nil {
		return t
	}
	return http.DefaultTransport
}

// Config is a cloud storage as a project's settings describe it: the
// StorageRef path (the bucket) and its params.
type Config struct {
	// Type is one of the four cloud types.
	Type string
	// Bucket is the bucket name (the storage's path).
	Bucket string
	// Prefix limits the objects (without a trailing slash).
	Prefix string
	// Regex filters object keys, anchored at the start of the key; empty
	// loads nothing (0.8.1: "If not specified, all files will be
	// skipped").
	Regex string
	// DataKey is the data key of blob-URL tasks; empty means the labeling
	// config's first data key.
	DataKey string
	// UseBlobURLs makes one task per object with the object's URI as
	// data; false reads each object as a JSON task.
	UseBlobURLs bool
	// Region is the S3 region (params, else environment, else us-east-1).
	Region string
	// CreateLocalCopy is kept for 0.8.1 compatibility: the store always
	// keeps the local copy.
	CreateLocalCopy bool
	// Endpoint is an S3-compatible or GCS-compatible base URL
	// (endpoint_url param).
	Endpoint string
	// Static S3 credentials from the params (0.8.1 --source-params).
	AccessKeyID, SecretAccessKey, SessionToken string
}

// params are the StorageRef params keys this package reads.
type params struct {
	Prefix          string `json:"prefix"`
	Regex           string `json:"regex"`
	DataKey         string `json:"data_key"`
	UseBlobURLs     *flex  `json:"use_blob_urls"`
	Region          string `json:"region"`
	CreateLocalCopy *flex  `json:"create_local_copy"`
	Endpoint        string `json:"endpoint_url"`
	AccessKeyID     string `json:"aws_access_key_id"`
	SecretAccessKey string `json:"aws_secret_access_key"`
	SessionToken    string `json:"aws_session_token"`
}

// flex is a boolean that may arrive as a JSON boolean, a string ("on",
// "true", "false", "") or a number.
type flex bool

// UnmarshalJSON reads any of the shapes a form or a config file gives.
func (f *flex) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = flex(Truthy(v))
	return nil
}

// Truthy is how 0.8.1's forms read a boolean field: missing (nil), false,
// "false", "" and 0 are false, anything else is true.
func Truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		s := strings.ToLower(strings.TrimSpace(x))
		return s != "" && s != "false" && s != "0" && s != "off" && s != "no"
	case float64:
		return x != 0
	}
	return true
}

// ConfigOf reads a cloud storage's config from a project's StorageRef.
func ConfigOf(ref store.StorageRef) (Config, error) {
	if !IsCloud(ref.Type) {
		return Config{}, fmt.Errorf("%q is not a cloud storage type", ref.Type)
	}
	c := Config{Type: ref.Type, Bucket: strings.TrimSpace(ref.Path), UseBlobURLs: true, CreateLocalCopy: true}
	if len(ref.Params) > 0 && string(ref.Params) != "null" {
		var p params
		if err := json.Unmarshal(ref.Params, &p); err != nil {
			return Config{}, fmt.Errorf("params of the %s storage: %w", ref.Type, err)
		}
		c.Prefix = NormPrefix(p.Prefix)
		c.Regex = p.Regex
		c.DataKey = p.DataKey
		if p.UseBlobURLs != nil {
			c.UseBlobURLs = bool(*p.UseBlobURLs)
		}
		if p.CreateLocalCopy != nil {
			c.CreateLocalCopy = bool(*p.CreateLocalCopy)
		}
		c.Region = strings.TrimSpace(p.Region)
		c.Endpoint = strings.TrimSpace(p.Endpoint)
		c.AccessKeyID, c.SecretAccessKey, c.SessionToken = p.AccessKeyID, p.SecretAccessKey, p.SessionToken
	}
	if IsTarget(c.Type) {
		// 0.8.1: a target's regex is fixed to ".*", blob URLs off.
		c.Regex, c.UseBlobURLs = ".*", false
	}
	if c.Bucket == "" {
		return Config{}, errors.New("the storage has no bucket (path)")
	}
	return c, nil
}

// NormPrefix trims spaces and leading and trailing slashes from a prefix:
// "images/" and "images" name the same folder.
func NormPrefix(p string) string { return strings.Trim(strings.TrimSpace(p), "/") }

// CompileRegex compiles a storage's key filter with 0.8.1's semantics: the
// pattern must match at the start of the key (Python's re.match). An empty
// pattern gives nil: nothing matches.
func CompileRegex(expr string) (*regexp.Regexp, error) {
	if expr == "" {
		return nil, nil
	}
	if _, err := regexp.Compile(expr); err != nil {
		return nil, err
	}
	return regexp.Compile(`^(?:` + expr + `)`)
}

// URI is the storage URI of an object: "s3://bucket/key" or "gs://bucket/key".
func URI(typ, bucket, key string) string { return Scheme(typ) + "://" + bucket + "/" + key }

// ReadablePath is how the API shows a cloud storage: s3://bucket/prefix.
func (c Config) ReadablePath() string {
	return Scheme(c.Type) + "://" + c.Bucket + "/" + c.Prefix
}

// TargetKey is the object key a target storage gives a task's record:
// "<prefix>/<id>", without an extension (storage.md §4.4).
func (c Config) TargetKey(taskID int64) string {
	id := fmt.Sprint(taskID)
	if c.Prefix == "" {
		return id
	}
	return c.Prefix + "/" + id
}

// ParseURI splits "s3://bucket/key" or "gs://bucket/key". ok is false for
// anything else, including a URI without a key.
func ParseURI(s string) (scheme, bucket, key string, ok bool) {
	var rest string
	switch {
	case strings.HasPrefix(s, "s3://"):
		scheme, rest = "s3", s[len("s3://"):]
	case strings.HasPrefix(s, "gs://"):
		scheme, rest = "gs", s[len("gs://"):]
	default:
		return "", "", "", false
	}
	bucket, key, found := strings.Cut(rest, "/")
	if !found || bucket == "" || key == "" {
		return "", "", "", false
	}
	return scheme, bucket, key, true
}

// Object is one listed bucket object.
type Object struct {
	Key  string
	Size int64
}

// Bucket is one bucket of a cloud, reached with the storage's credentials.
type Bucket interface {
	// Name is the bucket's name.
	Name() string
	// Check makes one cheap authenticated call (a one-object listing) to
	// prove that the bucket exists and the credentials are accepted.
	Check(ctx context.Context) error
	// List calls fn for the objects under prefix, with each cloud's 0.8.1
	// semantics (S3: only objects directly under "<prefix>/"; GCS: every
	// object whose name starts with prefix).
	List(ctx context.Context, prefix string, fn func(Object) error) error
	// Get reads an object of at most limit bytes.
	Get(ctx context.Context, key string, limit int64) ([]byte, error)
	// Put writes an object.
	Put(ctx context.Context, key string, body []byte, contentType string) error
	// SignGet returns a presigned URL that lets anyone GET the object
	// until it expires. It signs locally, except where the cloud must be
	// asked first (an S3 bucket's region when none is configured).
	SignGet(ctx context.Context, key string, expiry time.Duration) (string, error)
}

// Open returns the bucket of a storage config.
func Open(c Config, o Options) (Bucket, error) {
	if Scheme(c.Type) == "gs" {
		return NewGCS(c, o)
	}
	return NewS3(c, o)
}

// Error is a failed call to a cloud: what was done on which bucket, and
// what the cloud answered.
type Error struct {
	// Cloud is "S3" or "GCS".
	Cloud string
	// Op is the operation, e.g. "list objects".
	Op string
	// Bucket and Key name the bucket and, when there is one, the object.
	Bucket, Key string
	// Status is the HTTP status of the answer, 0 when there was none.
	Status int
	// Code is the cloud's error code (e.g. "NoSuchBucket"), when given.
	Code string
	// Message is the cloud's message, or the transport error's.
	Message string
	// Err is the underlying transport error, when there is one.
	Err error
}

// Error names the bucket (and object) and gives the cloud's message.
func (e *Error) Error() string {
	where := Scheme(strings.ToLower(e.Cloud)) + "://" + e.Bucket
	if e.Key != "" {
		where += "/" + e.Key
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s failed: ", e.Cloud, e.Op, where)
	if e.Message != "" {
		b.WriteString(e.Message)
	} else if e.Status != 0 {
		b.WriteString(http.StatusText(e.Status))
	}
	switch {
	case e.Code != "" && e.Status != 0:
		fmt.Fprintf(&b, " (%s, HTTP %d)", e.Code, e.Status)
	case e.Status != 0:
		fmt.Fprintf(&b, " (HTTP %d)", e.Status)
	}
	return b.String()
}

// Unwrap returns the transport error, if any.
func (e *Error) Unwrap() error { return e.Err }

// IsNotFound reports whether err says that the bucket or object does not
// exist.
func IsNotFound(err error) bool {
	var ce *Error
	return errors.As(err, &ce) && ce.Status == http.StatusNotFound
}

// IsAuth reports whether err is the cloud refusing the credentials or the
// access.
func IsAuth(err error) bool {
	var ce *Error
	return errors.As(err, &ce) && (ce.Status == http.StatusUnauthorized || ce.Status == http.StatusForbidden)
}
