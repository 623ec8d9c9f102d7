package cloud

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// V4 signed URLs of GCS ("Signing URLs with your own program" in the GCS
// documentation): the canonical request of a GET with only the host header
// signed and an unsigned payload is hashed (SHA-256), and that hash, with
// the time and the credential scope, is signed with the service account's
// RSA key (RSASSA-PKCS1-v1_5 over SHA-256: GOOG4-RSA-SHA256).

// goog4Algorithm names the signing scheme in the URL and the string to
// sign.
const goog4Algorithm = "GOOG4-RSA-SHA256"

// goog4DateFormat is the basic ISO 8601 time of X-Goog-Date.
const goog4DateFormat = "20060102T150405Z"

// parseRSAKey reads a service account's PEM private key (PKCS #8, as
// Google issues them, or PKCS #1).
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

// signGCSURL returns a V4 signed URL that lets anyone send method for the
// object of bucket under base (the endpoint: scheme, host and an optional
// path) from t until t+expiry, signed by the service account email with
// key. The host is signed as the request's Host header will carry it
// (with the port when base names one).
func signGCSURL(email string, key *rsa.PrivateKey, base *url.URL, bucket, object, method string, t time.Time, expiry time.Duration) (string, error) {
	if key == nil {
		return "", errors.New("no service account key to sign with")
	}
	t = t.UTC()
	date := t.Format(goog4DateFormat)
	scope := t.Format("20060102") + "/auto/storage/goog4_request"
	path := strings.TrimSuffix(base.Path, "/") + "/" + uriEscape(bucket, false)
	if object != "" {
		path += "/" + uriEscape(object, true)
	}
	q := url.Values{}
	q.Set("X-Goog-Algorithm", goog4Algorithm)
	q.Set("X-Goog-Credential", email+"/"+scope)
	q.Set("X-Goog-Date", date)
	q.Set("X-Goog-Expires", strconv.FormatInt(int64(expiry/time.Second), 10))
	q.Set("X-Goog-SignedHeaders", "host")
	query := canonicalQuery(q)
	canonical := method + "\n" + path + "\n" + query + "\n" +
		"host:" + base.Host + "\n\n" + // the canonical headers, then an empty line
		"host\n" + // the signed headers
		"UNSIGNED-PAYLOAD"
	ch := sha256.Sum256([]byte(canonical))
	toSign := goog4Algorithm + "\n" + date + "\n" + scope + "\n" + hex.EncodeToString(ch[:])
	h := sha256.Sum256([]byte(toSign))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, h[:])
	if err != nil {
		return "", fmt.Errorf("signing with the service account key: %w", err)
	}
	return base.Scheme + "://" + base.Host + path + "?" + query + "&X-Goog-Signature=" + hex.EncodeToString(sig), nil
}

// canonicalQuery is a query string with the parameters sorted by name
// (then value), names and values percent-encoded as uriEscape does.
func canonicalQuery(q url.Values) string {
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, k := range names {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(uriEscape(k, false))
			b.WriteByte('=')
			b.WriteString(uriEscape(v, false))
		}
	}
	return b.String()
}

// uriEscape percent-encodes every byte of s but the unreserved characters
// of RFC 3986 (A-Z a-z 0-9 - . _ ~), and "/" when keepSlash is set, with
// upper-case hex digits.
func uriEscape(s string, keepSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '/' && keepSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}
