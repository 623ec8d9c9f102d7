package server

import (
	"strings"
	"testing"

	"labelstudio/store"
)

func TestProjectHidesStorageSecrets(t *testing.T) {
	s, st := newTestServer(t)
	_, err := st.UpdateSettings("test", func(set *store.Settings) error {
		set.Source = store.StorageRef{Type: "s3", Path: "bucket/prefix", Params: []byte(`{"aws_access_key_id":"AKIAEXAMPLE","aws_secret_access_key":"very-secret","region":"eu-west-1"}`)}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r := callJSON(t, s, "GET", "/api/project", "")
	if strings.Contains(r.body, "very-secret") || strings.Contains(r.body, "AKIAEXAMPLE") || !strings.Contains(r.body, `"region":"eu-west-1"`) {
		t.Fatalf("secrets in /api/project: %s", r.body)
	}
	if !strings.Contains(r.body, `"readable_path":"s3://bucket/prefix`) {
		t.Fatalf("readable path: %s", r.body)
	}
}
