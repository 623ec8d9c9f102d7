package cloud

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// S3Credentials are AWS access keys. Empty keys mean anonymous requests
// (public buckets).
type S3Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	// Source tells where they came from, for messages.
	Source string
}

// Anonymous reports whether there are no keys to sign with.
func (c S3Credentials) Anonymous() bool { return c.AccessKeyID == "" || c.SecretAccessKey == "" }

// FindS3Credentials looks for AWS keys in the usual places, first found
// wins:
//  1. the storage's params aws_access_key_id / aws_secret_access_key /
//     aws_session_token (0.8.1's --source-params);
//  2. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
//     AWS_SESSION_TOKEN (or the older AWS_ACCESS_KEY / AWS_SECRET_KEY);
//  3. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, else
//     ~/.aws/credentials), then the config file (AWS_CONFIG_FILE, else
//     ~/.aws/config), profile AWS_PROFILE (else "default").
//
// Nothing found gives anonymous credentials and no error; a file that
// exists but cannot be read is an error.
func FindS3Credentials(c Config, o Options) (S3Credentials, error) {
	if c.AccessKeyID != "" && c.SecretAccessKey != "" {
		return S3Credentials{c.AccessKeyID, c.SecretAccessKey, c.SessionToken, "storage params"}, nil
	}
	id, secret := o.getenv("AWS_ACCESS_KEY_ID"), o.getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" {
		id = o.getenv("AWS_ACCESS_KEY")
	}
	if secret == "" {
		secret = o.getenv("AWS_SECRET_KEY")
	}
	if id != "" && secret != "" {
		return S3Credentials{id, secret, o.getenv("AWS_SESSION_TOKEN"), "environment"}, nil
	}
	profile := awsProfile(o)
	credFile := o.getenv("AWS_SHARED_CREDENTIALS_FILE")
	if credFile == "" {
		credFile = filepath.Join(o.home(), ".aws", "credentials")
	}
	sec, err := iniSection(credFile, profile)
	if err != nil {
		return S3Credentials{}, err
	}
	if sec["aws_access_key_id"] != "" && sec["aws_secret_access_key"] != "" {
		return S3Credentials{sec["aws_access_key_id"], sec["aws_secret_access_key"], sec["aws_session_token"], credFile}, nil
	}
	cfgFile := awsConfigFile(o)
	sec, err = iniSection(cfgFile, configSection(profile))
	if err != nil {
		return S3Credentials{}, err
	}
	if sec["aws_access_key_id"] != "" && sec["aws_secret_access_key"] != "" {
		return S3Credentials{sec["aws_access_key_id"], sec["aws_secret_access_key"], sec["aws_session_token"], cfgFile}, nil
	}
	return S3Credentials{Source: "none"}, nil
}

// S3Region is the region of a storage: its params, else AWS_REGION,
// AWS_DEFAULT_REGION, S3_REGION, the profile's region in ~/.aws/config,
// else us-east-1.
func S3Region(c Config, o Options) string {
	if c.Region != "" {
		return c.Region
	}
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "S3_REGION"} {
		if v := strings.TrimSpace(o.getenv(k)); v != "" {
			return v
		}
	}
	if sec, err := iniSection(awsConfigFile(o), configSection(awsProfile(o))); err == nil && sec["region"] != "" {
		return sec["region"]
	}
	return DefaultRegion
}

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

// configSection is a profile's section name in ~/.aws/config.
func configSection(profile string) string {
	if profile == "default" {
		return "default"
	}
	return "profile " + profile
}

// iniSection reads one section of an INI file (key = value lines; "#" and
// ";" comments). A missing file gives an empty section.
func iniSection(path, section string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading AWS credentials: %w", err)
	}
	out := map[string]string{}
	in := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' && line[len(line)-1] == ']' {
			in = strings.TrimSpace(line[1:len(line)-1]) == section
			continue
		}
		if !in {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if ok {
			out[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading AWS credentials %s: %w", path, err)
	}
	return out, nil
}
