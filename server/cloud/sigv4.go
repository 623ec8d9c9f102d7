package cloud

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// AWS Signature Version 4 (header and query-string auth), as the S3
// documentation describes it ("Authenticating Requests: AWS Signature
// Version 4"). The tests check it against the documentation's worked
// examples.

const (
	sigV4Algorithm = "AWS4-HMAC-SHA256"
	// emptySHA256 is the SHA-256 of an empty payload.
	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	// unsignedPayload is the payload hash of presigned URLs.
	unsignedPayload = "UNSIGNED-PAYLOAD"
	amzDateFormat   = "20060102T150405Z"
)

// awsEscape percent-encodes s the way SigV4 canonical requests need:
// every byte except the unreserved characters A-Z a-z 0-9 - _ . ~ is
// encoded as %XX (upper-case hex); with keepSlash, "/" stays as is (object
// key paths).
func awsEscape(s string, keepSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == '/' && keepSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// canonicalQuery encodes query parameters sorted by name, then value, each
// name and value encoded with awsEscape.
func canonicalQuery(q url.Values) string {
	type kv struct{ k, v string }
	var pairs []kv
	for k, vs := range q {
		ek := awsEscape(k, false)
		for _, v := range vs {
			pairs = append(pairs, kv{ek, awsEscape(v, false)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// canonicalHeaderValue trims a header value and collapses runs of spaces.
func canonicalHeaderValue(v string) string {
	return strings.Join(strings.Fields(v), " ")
}

// signedHeaderNames are the headers a request signs besides host: every
// x-amz-* header and the few standard ones S3 checks.
func signedHeaderNames(h http.Header) []string {
	names := []string{"host"}
	for k := range h {
		lk := strings.ToLower(k)
		switch {
		case strings.HasPrefix(lk, "x-amz-"), lk == "content-type", lk == "content-md5", lk == "range", lk == "date":
			names = append(names, lk)
		}
	}
	sort.Strings(names)
	return names
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// sigV4Key derives the signing key of a day, region and service.
func sigV4Key(secret, day, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), day)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, "aws4_request")
}

// sigV4 computes the signature of a canonical request.
func sigV4(creds S3Credentials, region, service string, t time.Time, canonical string) string {
	day := t.UTC().Format("20060102")
	scope := day + "/" + region + "/" + service + "/aws4_request"
	toSign := sigV4Algorithm + "\n" + t.UTC().Format(amzDateFormat) + "\n" + scope + "\n" + sha256Hex([]byte(canonical))
	return hex.EncodeToString(hmacSHA256(sigV4Key(creds.SecretAccessKey, day, region, service), toSign))
}

func requestHost(req *http.Request) string {
	if req.Host != "" {
		return req.Host
	}
	return req.URL.Host
}

// signRequest adds the x-amz-date, x-amz-content-sha256, session token
// and Authorization headers to req, signing it for region and service at
// time t. payloadHash is the hex SHA-256 of the body.
func signRequest(req *http.Request, creds S3Credentials, region, service, payloadHash string, t time.Time) {
	req.Header.Set("X-Amz-Date", t.UTC().Format(amzDateFormat))
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	if creds.SessionToken != "" {
		req.Header.Set("X-Amz-Security-Token", creds.SessionToken)
	}
	names := signedHeaderNames(req.Header)
	var ch strings.Builder
	for _, n := range names {
		v := requestHost(req)
		if n != "host" {
			v = strings.Join(req.Header.Values(n), ",")
		}
		ch.WriteString(n)
		ch.WriteByte(':')
		ch.WriteString(canonicalHeaderValue(v))
		ch.WriteByte('\n')
	}
	signed := strings.Join(names, ";")
	query, _ := url.ParseQuery(req.URL.RawQuery)
	canonical := req.Method + "\n" + req.URL.EscapedPath() + "\n" + canonicalQuery(query) + "\n" +
		ch.String() + "\n" + signed + "\n" + payloadHash
	sig := sigV4(creds, region, service, t, canonical)
	day := t.UTC().Format("20060102")
	req.Header.Set("Authorization", sigV4Algorithm+" Credential="+creds.AccessKeyID+"/"+day+"/"+region+"/"+service+
		"/aws4_request, SignedHeaders="+signed+", Signature="+sig)
}

// presignURL returns u with the query-string authentication of a GET
// valid for expiry from t (only the host header is signed).
func presignURL(method string, u *url.URL, creds S3Credentials, region string, t time.Time, expiry time.Duration) string {
	day := t.UTC().Format("20060102")
	q, _ := url.ParseQuery(u.RawQuery)
	q.Set("X-Amz-Algorithm", sigV4Algorithm)
	q.Set("X-Amz-Credential", creds.AccessKeyID+"/"+day+"/"+region+"/s3/aws4_request")
	q.Set("X-Amz-Date", t.UTC().Format(amzDateFormat))
	q.Set("X-Amz-Expires", strconv.FormatInt(int64(expiry/time.Second), 10))
	q.Set("X-Amz-SignedHeaders", "host")
	if creds.SessionToken != "" {
		q.Set("X-Amz-Security-Token", creds.SessionToken)
	}
	query := canonicalQuery(q)
	canonical := method + "\n" + u.EscapedPath() + "\n" + query + "\nhost:" + canonicalHeaderValue(u.Host) + "\n\nhost\n" + unsignedPayload
	sig := sigV4(creds, region, "s3", t, canonical)
	out := *u
	out.RawQuery = query + "&X-Amz-Signature=" + sig
	return out.String()
}
