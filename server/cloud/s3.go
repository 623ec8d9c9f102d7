package cloud

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/s3utils"
	"gopkg.in/ini.v1"
)

// S3 is an S3 bucket reached with the minio-go client (signature version
// 4). With an endpoint (an S3-compatible server) requests are path-style
// (endpoint/bucket/key); otherwise they go to AWS, virtual-hosted style
// when the bucket name allows it.
type S3 struct {
	bucket string
	client *minio.Client
	creds  *credentials.Credentials
	chain  *awsChain
	// region is the region requests are signed for; "" when the client
	// asks AWS for the bucket's region.
	region string
	opts   Options
}

// DefaultPresignExpiry is how long presigned S3 URLs stay valid (boto3's
// default, which 0.8.1 used).
const DefaultPresignExpiry = time.Hour

// maxPresignExpiry is the longest validity signature version 4 allows.
const maxPresignExpiry = 7 * 24 * time.Hour

// awsEndpoint is the host of AWS S3 when no endpoint is configured.
const awsEndpoint = "s3.amazonaws.com"

// NewS3 returns the S3 bucket of a storage config. Credentials are looked
// up as newAWSChain describes, the region as S3Region does. The
// endpoint is Options.S3Endpoint, else the endpoint_url param, else the
// environment's AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, else AWS.
//
// Nothing is sent before the first call on the bucket.
func NewS3(c Config, o Options) (*S3, error) {
	if err := s3utils.CheckValidBucketName(c.Bucket); err != nil {
		return nil, fmt.Errorf("%q is not a valid S3 bucket name: %v", c.Bucket, err)
	}
	ep := o.S3Endpoint
	for _, v := range []string{c.Endpoint, o.getenv("AWS_ENDPOINT_URL_S3"), o.getenv("AWS_ENDPOINT_URL")} {
		if ep == "" {
			ep = strings.TrimSpace(v)
		}
	}
	host, secure := awsEndpoint, true
	lookup := minio.BucketLookupAuto
	region := S3Region(c, o)
	clientRegion := region
	if ep != "" {
		u, err := url.Parse(ep)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("S3 endpoint %q is not an http(s) URL", ep)
		}
		if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
			return nil, fmt.Errorf("S3 endpoint %q has a path: give only scheme, host and port", ep)
		}
		host, secure = u.Host, u.Scheme == "https"
		lookup = minio.BucketLookupPath
		if region == "" {
			region = DefaultRegion
		}
		clientRegion = region
	} else if region == DefaultRegion {
		// On AWS the form's default region is a guess: the client asks
		// for the bucket's region and follows it.
		clientRegion = ""
	}
	chain := newAWSChain(c, o)
	creds := credentials.New(chain)
	client, err := minio.New(host, &minio.Options{
		Creds:        creds,
		Secure:       secure,
		Transport:    o.transport(),
		Region:       clientRegion,
		BucketLookup: lookup,
		MaxRetries:   3,
	})
	if err != nil {
		return nil, fmt.Errorf("S3 client for %s: %w", host, err)
	}
	// Plain regional endpoints, not the dual-stack ones minio-go picks for
	// AWS by default.
	client.SetS3EnableDualstack(false)
	return &S3{bucket: c.Bucket, client: client, creds: creds, chain: chain, region: clientRegion, opts: o}, nil
}

// Name is the bucket name.
func (s *S3) Name() string { return s.bucket }

// Region is the region requests are signed for, "" when the client asks
// AWS for the bucket's region.
func (s *S3) Region() string { return s.region }

// CredentialsSource tells where the credentials were found: "storage
// params", "environment", a file name, "instance metadata", or "none"
// (anonymous requests). It looks them up if no call did yet.
func (s *S3) CredentialsSource() string {
	if _, err := s.creds.GetWithContext(&credentials.CredContext{Client: s.opts.client()}); err != nil {
		return "none"
	}
	return s.chain.Source()
}

// fail turns an error of the client into an *Error.
func (s *S3) fail(op, key string, err error) error {
	e := &Error{Cloud: "S3", Op: op, Bucket: s.bucket, Key: key, Err: err}
	var er minio.ErrorResponse
	switch {
	case errors.As(err, &er) && er.StatusCode != 0:
		e.Status, e.Code, e.Message = er.StatusCode, er.Code, er.Message
		if e.Message == "" && e.Status == http.StatusNotFound && key == "" {
			e.Message = "The specified bucket does not exist"
		}
	default:
		e.Message = err.Error()
	}
	if (e.Status == http.StatusForbidden || e.Status == http.StatusUnauthorized) && s.CredentialsSource() == "none" {
		e.Message += " (no AWS credentials were found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE or ~/.aws/credentials)"
	}
	return e
}

// list calls fn for the listed objects, asking for max keys a page.
func (s *S3) list(ctx context.Context, prefix string, recursive bool, max int, fn func(Object) error) error {
	opts := minio.ListObjectsOptions{Prefix: prefix, Recursive: recursive, MaxKeys: max}
	for obj := range s.client.ListObjectsIter(ctx, s.bucket, opts) {
		if obj.Err != nil {
			return s.fail("list objects", "", obj.Err)
		}
		if err := fn(Object{Key: obj.Key, Size: obj.Size}); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// errStop ends a listing early.
var errStop = errors.New("stop")

// Check lists at most one object (a listing, unlike HeadBucket, gives the
// reason of a refusal).
func (s *S3) Check(ctx context.Context) error {
	err := s.list(ctx, "", true, 1, func(Object) error { return errStop })
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}

// List calls fn for the objects under prefix: with a prefix, the objects
// directly under "<prefix>/" (not in deeper folders); without, all of them.
func (s *S3) List(ctx context.Context, prefix string, fn func(Object) error) error {
	if prefix == "" {
		return s.list(ctx, "", true, 1000, fn)
	}
	return s.list(ctx, prefix+"/", false, 1000, func(o Object) error {
		// Delimited listings also give the deeper folders ("a/b/"),
		// and the folder's own placeholder object is not a task.
		if strings.HasSuffix(o.Key, "/") {
			return nil
		}
		return fn(o)
	})
}

// Get reads an object of at most limit bytes.
func (s *S3) Get(ctx context.Context, key string, limit int64) ([]byte, error) {
	body, info, _, err := minio.Core{Client: s.client}.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.fail("get object", key, err)
	}
	defer body.Close()
	if info.Size > limit {
		return nil, tooLarge("S3", s.bucket, key, limit)
	}
	return readLimited(body, limit, "S3", s.bucket, key)
}

// Put writes an object in one request whose payload is signed (and
// carries its MD5).
func (s *S3) Put(ctx context.Context, key string, body []byte, contentType string) error {
	sum := sha256.Sum256(body)
	md := md5.Sum(body)
	_, err := minio.Core{Client: s.client}.PutObject(ctx, s.bucket, key, bytes.NewReader(body), int64(len(body)),
		base64.StdEncoding.EncodeToString(md[:]), hex.EncodeToString(sum[:]),
		minio.PutObjectOptions{ContentType: contentType, DisableContentSha256: true})
	if err != nil {
		return s.fail("put object", key, err)
	}
	return nil
}

// SignGet returns a presigned GET URL (signature version 4, query string).
// On AWS without a configured region it asks for the bucket's region once.
func (s *S3) SignGet(ctx context.Context, key string, expiry time.Duration) (string, error) {
	if expiry <= 0 {
		expiry = DefaultPresignExpiry
	}
	expiry = min(expiry, maxPresignExpiry)
	u, err := s.client.PresignedGetObject(ctx, s.bucket, key, expiry, nil)
	if err != nil {
		return "", s.fail("presign", key, err)
	}
	return u.String(), nil
}

// S3Region is the region a storage names: its params, else AWS_REGION,
// AWS_DEFAULT_REGION, S3_REGION, else the profile's region in the AWS
// config file; "" when none does. On AWS the region us-east-1 (the form's
// default) or none means that the client looks up the bucket's region; a
// custom endpoint without a region gets us-east-1.
func S3Region(c Config, o Options) string {
	if c.Region != "" {
		return c.Region
	}
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "S3_REGION"} {
		if v := strings.TrimSpace(o.getenv(k)); v != "" {
			return v
		}
	}
	return profileRegion(awsConfigFile(o), awsProfile(o))
}

// profileRegion reads a profile's region from an AWS config file ("" when
// the file, the profile or the region is missing).
func profileRegion(file, profile string) string {
	f, err := ini.Load(file)
	if err != nil {
		return ""
	}
	for _, name := range []string{"profile " + profile, profile} {
		if sec, err := f.GetSection(name); err == nil {
			if r := strings.TrimSpace(sec.Key("region").String()); r != "" {
				return r
			}
		}
	}
	return ""
}

// awsChain finds AWS credentials in the usual places (see
// AWSCredentials) and remembers which one gave them.
type awsChain struct {
	providers []namedProvider
	now       func() time.Time

	mu     sync.Mutex
	curr   credentials.Provider
	source string
	anonAt time.Time
}

type namedProvider struct {
	name string
	p    credentials.Provider
}

// anonymousTTL is how long "no credentials anywhere" is believed before the
// places are looked at again.
const anonymousTTL = time.Minute

// newAWSChain looks for S3 credentials in the usual places, first found
// wins:
//  1. the storage's params aws_access_key_id / aws_secret_access_key /
//     aws_session_token (0.8.1's --source-params);
//  2. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
//     AWS_SESSION_TOKEN (or the older AWS_ACCESS_KEY / AWS_SECRET_KEY);
//  3. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
//     ~/.aws/credentials), then the config file (AWS_CONFIG_FILE, else
//     ~/.aws/config, which may also name a credential_process or an SSO
//     login), profile AWS_PROFILE (else "default");
//  4. unless AWS_EC2_METADATA_DISABLED is true: the role of the machine
//     (ECS task, EKS web identity, EC2 instance metadata), asked only when
//     a bucket is used and nothing above gave keys.
//
// Nothing found means anonymous requests (public buckets).
func newAWSChain(c Config, o Options) *awsChain {
	ch := &awsChain{now: o.now}
	if c.AccessKeyID != "" && c.SecretAccessKey != "" {
		ch.add("storage params", &credentials.Static{Value: credentials.Value{
			AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
			SignerType: credentials.SignatureV4,
		}})
	}
	ch.add("environment", &envAWS{getenv: o.getenv})
	profile := awsProfile(o)
	credFile := o.getenv("AWS_SHARED_CREDENTIALS_FILE")
	if credFile == "" {
		credFile = filepath.Join(o.home(), ".aws", "credentials")
	}
	ch.add(credFile, &credentials.FileAWSCredentials{Filename: credFile, Profile: profile})
	cfgFile := awsConfigFile(o)
	ch.add(cfgFile, &credentials.FileAWSCredentials{Filename: cfgFile, Profile: profile})
	if !Truthy(strings.TrimSpace(o.getenv("AWS_EC2_METADATA_DISABLED"))) {
		iam := &credentials.IAM{Client: o.client(), Region: o.getenv("AWS_REGION")}
		iam.Container.CredentialsRelativeURI = o.getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
		iam.Container.CredentialsFullURI = o.getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
		iam.EKSIdentity.TokenFile = o.getenv("AWS_WEB_IDENTITY_TOKEN_FILE")
		iam.EKSIdentity.RoleARN = o.getenv("AWS_ROLE_ARN")
		iam.EKSIdentity.RoleSessionName = o.getenv("AWS_ROLE_SESSION_NAME")
		ch.add("instance metadata", iam)
	}
	return ch
}

func (ch *awsChain) add(name string, p credentials.Provider) {
	ch.providers = append(ch.providers, namedProvider{name, p})
}

// RetrieveWithCredContext returns the first keys found.
func (ch *awsChain) RetrieveWithCredContext(cc *credentials.CredContext) (credentials.Value, error) {
	for _, np := range ch.providers {
		v, err := np.p.RetrieveWithCredContext(cc)
		if err != nil || v.AccessKeyID == "" || v.SecretAccessKey == "" {
			continue
		}
		ch.mu.Lock()
		ch.curr, ch.source = np.p, np.name
		ch.mu.Unlock()
		v.SignerType = credentials.SignatureV4
		return v, nil
	}
	ch.mu.Lock()
	ch.curr, ch.source, ch.anonAt = nil, "none", ch.now()
	ch.mu.Unlock()
	return credentials.Value{SignerType: credentials.SignatureAnonymous}, nil
}

// Retrieve is RetrieveWithCredContext without a context.
func (ch *awsChain) Retrieve() (credentials.Value, error) { return ch.RetrieveWithCredContext(nil) }

// IsExpired reports whether the keys found must be looked up again.
func (ch *awsChain) IsExpired() bool {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if ch.curr != nil {
		return ch.curr.IsExpired()
	}
	return ch.source == "" || ch.now().Sub(ch.anonAt) >= anonymousTTL
}

// Source is where the keys in use came from, "" before the first lookup.
func (ch *awsChain) Source() string {
	ch.mu.Lock()
	defer ch.mu.Unlock()
	return ch.source
}

// envAWS reads keys from the environment through Options.Getenv.
type envAWS struct{ getenv func(string) string }

func (e *envAWS) RetrieveWithCredContext(*credentials.CredContext) (credentials.Value, error) {
	id, secret := e.getenv("AWS_ACCESS_KEY_ID"), e.getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" {
		id = e.getenv("AWS_ACCESS_KEY")
	}
	if secret == "" {
		secret = e.getenv("AWS_SECRET_KEY")
	}
	if id == "" || secret == "" {
		return credentials.Value{}, errors.New("no AWS keys in the environment")
	}
	return credentials.Value{AccessKeyID: id, SecretAccessKey: secret, SessionToken: e.getenv("AWS_SESSION_TOKEN"), SignerType: credentials.SignatureV4}, nil
}

func (e *envAWS) Retrieve() (credentials.Value, error) { return e.RetrieveWithCredContext(nil) }

// IsExpired is false: the environment does not change under a process
// (bucket clients are made anew every few minutes anyway).
func (e *envAWS) IsExpired() bool { return false }

func awsProfile(o Options) string {
	for _, k := range []string{"AWS_PROFILE", "AWS_DEFAULT_PROFILE"} {
		if v := strings.TrimSpace(o.getenv(k)); v != "" {
			return v
		}
	}
	return "default"
}

func awsConfigFile(o Options) string {
	if f := o.getenv("AWS_CONFIG_FILE"); f != "" {
		return f
	}
	return filepath.Join(o.home(), ".aws", "config")
}

// readLimited reads at most limit bytes, failing when there are more.
func readLimited(r io.Reader, limit int64, cloud, bucket, key string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, &Error{Cloud: cloud, Op: "get object", Bucket: bucket, Key: key, Message: err.Error(), Err: err}
	}
	if int64(len(b)) > limit {
		return nil, tooLarge(cloud, bucket, key, limit)
	}
	return b, nil
}

func tooLarge(cloud, bucket, key string, limit int64) error {
	return &Error{Cloud: cloud, Op: "get object", Bucket: bucket, Key: key, Message: fmt.Sprintf("the object is larger than %d bytes", limit)}
}
