package cloud

import (
	"testing"

	"labelstudio/server/cloud/cloudtest"
)

// testCloud is one cloud's fake as the manager tests use it, so that each
// behaviour is shown on S3 and on GCS alike.
type testCloud struct {
	name           string // "S3" or "GCS"
	source, target string // the storage types
	fake           cloudtest.Fake
	// opts reach the fake with credentials it accepts, badOpts with
	// credentials it refuses; refused is what that refusal says.
	opts, badOpts Options
	refused       string
	// signed is how a presigned URL of the fake starts.
	signed string
	// recursive tells whether a listing under a prefix includes deeper
	// folders (GCS) or not (S3).
	recursive bool
}

// big asks for a fake that fills buckets of a thousand objects quickly.
type big bool

// eachCloud runs fn as a subtest for each cloud, with a new fake.
func eachCloud(t *testing.T, many big, fn func(t *testing.T, c testCloud)) {
	t.Run("S3", func(t *testing.T) {
		fake := cloudtest.NewS3(t)
		fn(t, testCloud{
			name: "S3", source: TypeS3, target: TypeS3Completions, fake: fake,
			opts:    s3Options(t, fake, fake.Env()),
			badOpts: s3Options(t, fake, map[string]string{"AWS_ACCESS_KEY_ID": "AKIDBAD", "AWS_SECRET_ACCESS_KEY": "x"}),
			refused: "InvalidAccessKeyId",
			signed:  fake.URL + "/",
		})
	})
	t.Run("GCS", func(t *testing.T) {
		fake := cloudtest.NewGCS(t)
		if many {
			fake = cloudtest.NewGCSOnDisk(t)
		}
		fn(t, testCloud{
			name: "GCS", source: TypeGCS, target: TypeGCSTarget, fake: fake,
			opts:    gcsOptions(t, fake, false),
			badOpts: gcsOptions(t, fake, true),
			refused: "Invalid JWT Signature.",
			signed:  fake.URL + "/", recursive: true,
		})
	})
}

// uri is an object's URI in this cloud.
func (c testCloud) uri(bucket, key string) string { return URI(c.source, bucket, key) }
