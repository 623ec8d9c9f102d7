package cloud

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	json "github.com/goccy/go-json"
)

// GCSScope is the OAuth 2.0 scope the GCS client asks for.
const GCSScope = "https://www.googleapis.com/auth/devstorage.read_write"

// defaultTokenURI is Google's OAuth 2.0 token endpoint.
const defaultTokenURI = "https://oauth2.googleapis.com/token"

// GoogleCredentials are the application-default credentials of Google
// Cloud: a service account key, or a user's refresh token from
// "gcloud auth application-default login".
type GoogleCredentials struct {
	// Type is "service_account" or "authorized_user".
	Type string `json:"type"`
	// Service account fields.
	ClientEmail  string `json:"client_email"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	TokenURI     string `json:"token_uri"`
	// Authorized user fields.
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	RefreshToken string `json:"refresh_token"`

	// Source is the file they were read from.
	Source string `json:"-"`
	key    *rsa.PrivateKey
}

// FindGoogleCredentials reads the application-default credentials: the
// file GOOGLE_APPLICATION_CREDENTIALS names, else
// ~/.config/gcloud/application_default_credentials.json. Nothing found
// gives nil and no error (anonymous access, e.g. public buckets or an
// emulator); a named file that cannot be read or parsed is an error.
func FindGoogleCredentials(o Options) (*GoogleCredentials, error) {
	path := o.getenv("GOOGLE_APPLICATION_CREDENTIALS")
	named := path != ""
	if !named {
		path = filepath.Join(o.home(), ".config", "gcloud", "application_default_credentials.json")
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !named {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading Google credentials: %w", err)
	}
	return ParseGoogleCredentials(b, path)
}

// ParseGoogleCredentials reads a credentials JSON file.
func ParseGoogleCredentials(b []byte, source string) (*GoogleCredentials, error) {
	var g GoogleCredentials
	if err := json.Unmarshal(b, &g); err != nil {
		return nil, fmt.Errorf("Google credentials %s are not JSON: %w", source, err)
	}
	g.Source = source
	switch g.Type {
	case "service_account":
		if g.ClientEmail == "" || g.PrivateKey == "" {
			return nil, fmt.Errorf("Google credentials %s: a service account key needs client_email and private_key", source)
		}
		k, err := parseRSAKey(g.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("Google credentials %s: %w", source, err)
		}
		g.key = k
	case "authorized_user":
		if g.RefreshToken == "" || g.ClientID == "" {
			return nil, fmt.Errorf("Google credentials %s: an authorized_user file needs client_id and refresh_token", source)
		}
	default:
		return nil, fmt.Errorf("Google credentials %s: type %q is not supported (service_account or authorized_user)", source, g.Type)
	}
	if g.TokenURI == "" {
		g.TokenURI = defaultTokenURI
	}
	return &g, nil
}

func parseRSAKey(p string) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode([]byte(p))
	if blk == nil {
		return nil, errors.New("private_key is not PEM")
	}
	if k, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, errors.New("private_key is not an RSA key")
		}
		return rk, nil
	}
	k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("private_key: %w", err)
	}
	return k, nil
}

// CanSign reports whether the credentials hold a private key (signed URLs
// need one).
func (g *GoogleCredentials) CanSign() bool { return g != nil && g.key != nil }

// signRS256 signs data with the service account key (RSASSA-PKCS1-v1_5,
// SHA-256).
func (g *GoogleCredentials) signRS256(data []byte) ([]byte, error) {
	if !g.CanSign() {
		return nil, errors.New("the Google credentials hold no private key (a service account key file is needed to sign URLs)")
	}
	h := sha256.Sum256(data)
	sig, err := rsa.SignPKCS1v15(nil, g.key, crypto.SHA256, h[:])
	if err != nil {
		return nil, fmt.Errorf("signing with the service account key: %w", err)
	}
	return sig, nil
}

// jwtAssertion is the signed JWT a service account trades for a token.
func (g *GoogleCredentials) jwtAssertion(now time.Time) (string, error) {
	enc := base64.RawURLEncoding
	header, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": g.PrivateKeyID})
	if err != nil {
		return "", err
	}
	claims, err := json.Marshal(map[string]any{
		"iss": g.ClientEmail, "scope": GCSScope, "aud": g.TokenURI,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	if err != nil {
		return "", err
	}
	unsigned := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	sig, err := g.signRS256([]byte(unsigned))
	if err != nil {
		return "", err
	}
	return unsigned + "." + enc.EncodeToString(sig), nil
}

// tokenSource caches an OAuth 2.0 access token until shortly before it
// expires.
type tokenSource struct {
	creds *GoogleCredentials
	opts  Options

	mu      sync.Mutex
	token   string
	expires time.Time
}

// tokenError is the OAuth 2.0 error answer.
type tokenError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// Token returns a valid access token, fetching a new one when needed.
func (ts *tokenSource) Token(ctx context.Context) (string, error) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	now := ts.opts.now()
	if ts.token != "" && now.Before(ts.expires) {
		return ts.token, nil
	}
	form := url.Values{}
	switch ts.creds.Type {
	case "service_account":
		a, err := ts.creds.jwtAssertion(now)
		if err != nil {
			return "", err
		}
		form.Set("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
		form.Set("assertion", a)
	default:
		form.Set("grant_type", "refresh_token")
		form.Set("client_id", ts.creds.ClientID)
		form.Set("client_secret", ts.creds.ClientSecret)
		form.Set("refresh_token", ts.creds.RefreshToken)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.creds.TokenURI, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("Google token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := ts.opts.client().Do(req)
	if err != nil {
		return "", fmt.Errorf("Google token request: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	if err != nil {
		return "", fmt.Errorf("Google token request: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var te tokenError
		_ = json.Unmarshal(raw, &te)
		msg := te.Error
		if te.Description != "" {
			msg += ": " + te.Description
		}
		if msg == "" {
			msg = http.StatusText(resp.StatusCode)
		}
		return "", &authError{status: resp.StatusCode, msg: "the Google token endpoint refused the credentials of " + ts.creds.Source + ": " + msg}
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(raw, &tok); err != nil || tok.AccessToken == "" {
		return "", errors.New("the Google token endpoint gave no access token")
	}
	if tok.ExpiresIn <= 0 {
		tok.ExpiresIn = 3600
	}
	ts.token = tok.AccessToken
	ts.expires = now.Add(time.Duration(tok.ExpiresIn)*time.Second - time.Minute)
	return ts.token, nil
}

// authError is a refused token request.
type authError struct {
	status int
	msg    string
}

// Error returns the message.
func (e *authError) Error() string { return e.msg }
