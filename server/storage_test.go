package server

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"labelstudio/server/cloud"
	"labelstudio/server/cloud/cloudtest"
	"labelstudio/store"
)

const cloudImageConfig = `<View><Image name="img" value="$image"/><Choices name="choice" toName="img"><Choice value="A"/></Choices></View>`

// newCloudServer is newTestServer with an image config and cloud options
// (which never see the machine's own environment or home, and never ask
// an instance metadata server for credentials).
func newCloudServer(t *testing.T, env map[string]string, o cloud.Options) (*Server, *store.Store) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "t.db"), store.Options{Timeout: time.Second, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateProject("test", store.DefaultSettings(), cloudImageConfig); err != nil {
		t.Fatal(err)
	}
	o.Getenv = func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		if k == "AWS_EC2_METADATA_DISABLED" || k == "NO_GCE_CHECK" {
			return "true"
		}
		return ""
	}
	if o.HomeDir == "" {
		o.HomeDir = t.TempDir()
	}
	s := New(st, Options{Project: "test", Version: "test", Cloud: o, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(func() {
		s.cloudManager().Close()
		if err := st.Check(); err != nil {
			t.Errorf("consistency check: %v", err)
		}
		st.Close()
	})
	return s, st
}

func getJSON(t *testing.T, s *Server, url string, v any) response {
	t.Helper()
	r := call(t, s, "GET", url, "", "")
	if r.status != 200 {
		t.Fatalf("GET %s: %d %s", url, r.status, r.body)
	}
	r.json(t, v)
	return r
}

func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type storageForm struct {
	Type        string `json:"type"`
	Current     bool   `json:"current"`
	Description string `json:"description"`
	Path        string `json:"path"`
	Fields      []struct {
		Name string `json:"name"`
		Type string `json:"type"`
		Data any    `json:"data"`
	} `json:"fields"`
}

func (f storageForm) field(name string) any {
	for _, x := range f.Fields {
		if x.Name == name {
			return x.Data
		}
	}
	return "<missing>"
}

func TestStorageSettingsGet(t *testing.T) {
	s, _ := newCloudServer(t, nil, cloud.Options{})
	var got map[string]map[string]storageForm
	r := getJSON(t, s, "/api/project/storage-settings/", &got)
	for _, order := range []string{`{"source":{"s3":`, `},"gcs":{`, `},"tasks-json":{`, `"target":{"s3-completions":`, `},"gcs-completions":{`, `},"completions-dir":{`} {
		if !strings.Contains(r.body, order) {
			t.Errorf("body lacks %s (0.8.1 order): %.300s", order, r.body)
		}
	}
	src, tgt := got["source"], got["target"]
	if !src["tasks-json"].Current || src["s3"].Current || !tgt["completions-dir"].Current {
		t.Errorf("current flags: %+v", got)
	}
	for typ, n := range map[string]int{"s3": 6, "gcs": 5, "tasks-json": 0} {
		if len(src[typ].Fields) != n {
			t.Errorf("%s has %d fields, want %d", typ, len(src[typ].Fields), n)
		}
	}
	for typ, n := range map[string]int{"s3-completions": 3, "gcs-completions": 3, "completions-dir": 0} {
		if len(tgt[typ].Fields) != n {
			t.Errorf("%s has %d fields, want %d", typ, len(tgt[typ].Fields), n)
		}
	}
	s3 := src["s3"]
	if s3.Description != "Amazon S3" || s3.field("data_key") != "image" || s3.field("region") != "us-east-1" ||
		s3.field("use_blob_urls") != true || s3.field("path") != nil || s3.Fields[4].Type != "BooleanField" || s3.Fields[0].Type != "StringField" {
		t.Errorf("s3 form %+v", s3)
	}
	if src["gcs"].Path != src["tasks-json"].Path || !strings.Contains(src["gcs"].Path, "tasks") {
		t.Errorf("path is the active source's: %q %q", src["gcs"].Path, src["tasks-json"].Path)
	}
	if !strings.Contains(r.body, `"do_not_call_in_templates":true`) || !strings.Contains(r.body, `"short_name":"prefix"`) {
		t.Errorf("field objects: %.500s", r.body)
	}
}

func TestStorageSettingsPostValidation(t *testing.T) {
	s, st := newCloudServer(t, nil, cloud.Options{})
	cases := []struct {
		name, url, body string
		status          int
		want            string
	}{
		{"no role", "/api/project/storage-settings?type=s3", `{}`, 400, "storage_for must be source or target"},
		{"unknown role", "/api/project/storage-settings?type=s3&storage_for=middle", `{}`, 400, "storage_for must be source or target"},
		{"unknown type", "/api/project/storage-settings?type=bogus&storage_for=source", `{}`, 400, `{"detail":"Unknown storage type: bogus"}`},
		{"unknown body type", "/api/project/storage-settings?storage_for=source", `{"type":"bogus"}`, 400, `Unknown storage type: bogus`},
		{"hidden type", "/api/project/storage-settings?type=json&storage_for=source", `{}`, 400, `{"detail":"Error while storage update: json is not supported"}`},
		{"wrong role", "/api/project/storage-settings?type=s3-completions&storage_for=source", `{}`, 400, `Error while storage update: s3-completions is not supported`},
		{"types disagree", "/api/project/storage-settings?type=s3&storage_for=source", `{"type":"gcs"}`, 400, `the storage type is s3 in the query but gcs in the body`},
		{"no path", "/api/project/storage-settings?type=s3&storage_for=source", `{"type":"s3","regex":".*"}`, 400, `{"errors":{"path":["This field is required."]}}`},
		{"bad regex", "/api/project/storage-settings?type=gcs&storage_for=source", `{"path":"b","regex":"(x"}`, 400, `{"errors":{"regex":["(x is not a valid regular expression"]}}`},
		{"not an object", "/api/project/storage-settings?type=s3&storage_for=source", `[1]`, 400, "JSON object"},
	}
	for _, tc := range cases {
		r := callJSON(t, s, "POST", tc.url, tc.body)
		if r.status != tc.status || !strings.Contains(r.body, tc.want) {
			t.Errorf("%s: %d %s, want %d with %s", tc.name, r.status, r.body, tc.status, tc.want)
		}
	}
	if p, _ := st.Project("test"); p.Settings.Source.Type != "tasks-json" || p.Settings.Target.Type != "completions-dir" {
		t.Errorf("refused posts changed the settings: %+v %+v", p.Settings.Source, p.Settings.Target)
	}
	r := callJSON(t, s, "POST", "/api/project/storage-settings/?type=tasks-json&storage_for=source", `{"storage_for":"source","type":"tasks-json","path":"ignored"}`)
	if r.status != 201 || r.body != `{"result":"ok"}` {
		t.Fatalf("select tasks-json: %d %s", r.status, r.body)
	}
	if p, _ := st.Project("test"); p.Settings.Source.Type != "tasks-json" || p.Settings.Source.Name != "source" || p.Settings.Source.Path != "" {
		t.Errorf("source %+v", p.Settings.Source)
	}
}

func TestStorageS3SourceAndTarget(t *testing.T) {
	fake := cloudtest.NewS3(t)
	fake.CreateBucket(t, "media")
	for i := 0; i < 1000; i++ {
		fake.Put(t, "media", fmt.Sprintf("images/img-%04d.jpg", i), []byte(fmt.Sprintf("jpeg %d", i)))
	}
	fake.Put(t, "media", "images/readme.txt", []byte("not an image"))
	fake.CreateBucket(t, "out")
	s, st := newCloudServer(t, fake.Env(), cloud.Options{S3Endpoint: fake.URL})

	// The page's form: strings, a checked box as "on".
	r := callJSON(t, s, "POST", "/api/project/storage-settings?type=s3&storage_for=source",
		`{"storage_for":"source","type":"s3","path":"media","prefix":"images/","regex":".*\\.jpg","data_key":"","use_blob_urls":"on","region":"us-east-1"}`)
	if r.status != 201 {
		t.Fatalf("select s3: %d %s", r.status, r.body)
	}
	s.cloudManager().Wait("test")
	var proj map[string]any
	getJSON(t, s, "/api/project", &proj)
	if proj["task_count"] != float64(1000) || proj["can_manage_tasks"] != false || proj["source_syncing"] != false ||
		proj["source_storage"].(map[string]any)["readable_path"] != "s3://media/images" {
		t.Errorf("project after sync: task_count=%v can_manage_tasks=%v source_syncing=%v source_storage=%v",
			proj["task_count"], proj["can_manage_tasks"], proj["source_syncing"], proj["source_storage"])
	}

	// Served tasks carry presigned URLs; stored data keeps the URIs.
	var task struct {
		Data     map[string]string `json:"data"`
		TaskPath string            `json:"task_path"`
	}
	getJSON(t, s, "/api/tasks/5", &task)
	img := task.Data["image"]
	if !strings.HasPrefix(img, fake.URL+"/media/images/img-0005.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256") || task.TaskPath != "s3://media/images/img-0005.jpg" {
		t.Fatalf("task 5: %+v", task)
	}
	if code, body := httpGet(t, img); code != 200 || body != "jpeg 5" {
		t.Errorf("GET presigned: %d %q", code, body)
	}
	if tk, _ := st.Task("test", 5); !strings.Contains(string(tk.Raw), `"image":"s3://media/images/img-0005.jpg"`) {
		t.Errorf("stored task changed: %s", tk.Raw)
	}
	var list []struct {
		ID   int64             `json:"id"`
		Data map[string]string `json:"data"`
	}
	getJSON(t, s, "/api/tasks?page=2&page_size=3", &list)
	if len(list) != 3 || list[0].ID != 3 || !strings.HasPrefix(list[2].Data["image"], fake.URL+"/media/images/img-0005.jpg?") {
		t.Errorf("list: %+v", list)
	}
	if r := call(t, s, "GET", "/api/tasks?fields=id&page_size=2", "", ""); r.body != `[{"id":0},{"id":1}]` {
		t.Errorf("fields=id: %s", r.body)
	}
	getJSON(t, s, "/api/project/next", &task)
	if !strings.HasPrefix(task.Data["image"], fake.URL+"/media/images/img-0000.jpg?X-Amz-") {
		t.Errorf("next: %+v", task)
	}

	// The form shows the active storage's parameters.
	var forms map[string]map[string]storageForm
	getJSON(t, s, "/api/project/storage-settings", &forms)
	f := forms["source"]["s3"]
	if !f.Current || f.field("path") != "media" || f.field("prefix") != "images/" || f.field("regex") != `.*\.jpg` ||
		f.field("use_blob_urls") != true || f.field("data_key") != "image" || f.Path != "s3://media/images" {
		t.Errorf("current s3 form: %+v", f)
	}

	// An explicit sync imports only new objects.
	fake.Put(t, "media", "images/img-1000.jpg", []byte("new"))
	var status struct {
		Source cloud.SourceStatus `json:"source"`
		Target cloud.TargetStatus `json:"target"`
	}
	r = call(t, s, "POST", "/api/project/storage-settings/sync?wait=1", "", "")
	if r.status != 200 {
		t.Fatalf("sync: %d %s", r.status, r.body)
	}
	r.json(t, &status)
	if status.Source.Imported != 1 || status.Source.Known != 1000 || status.Source.Listed != 1002 || status.Source.Matched != 1001 {
		t.Errorf("sync status %+v", status.Source)
	}

	// A cloud target gets each completions record.
	r = callJSON(t, s, "POST", "/api/project/storage-settings?type=s3-completions&storage_for=target",
		`{"storage_for":"target","type":"s3-completions","path":"out","prefix":"completions","create_local_copy":"on"}`)
	if r.status != 201 {
		t.Fatalf("select s3-completions: %d %s", r.status, r.body)
	}
	r = callJSON(t, s, "POST", "/api/tasks/5/completions", `{"result":[{"from_name":"choice","to_name":"img","type":"choices","value":{"choices":["A"]}}],"lead_time":2}`)
	if r.status != 201 || r.header.Get("X-Cloud-Target-Error") != "" {
		t.Fatalf("save completion: %d %s %v", r.status, r.body, r.header)
	}
	rec := func() map[string]any {
		t.Helper()
		b, err := fake.Get("out", "completions/5")
		if err != nil {
			t.Fatalf("record not in the bucket: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if m := rec(); m["id"] != float64(5) || len(m["completions"].([]any)) != 1 || m["data"].(map[string]any)["image"] != "s3://media/images/img-0005.jpg" {
		t.Errorf("record %v", m)
	}
	if r := callJSON(t, s, "PATCH", "/api/tasks/5/completions/5001", `{"honeypot":true}`); r.status != 201 {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	if m := rec(); m["completions"].([]any)[0].(map[string]any)["honeypot"] != true {
		t.Errorf("record after patch %v", m)
	}
	if r := call(t, s, "DELETE", "/api/tasks/5/completions/5001", "", ""); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if m := rec(); len(m["completions"].([]any)) != 0 {
		t.Errorf("record after delete %v", m)
	}
	getJSON(t, s, "/api/project", &proj)
	if proj["can_manage_completions"] != false || proj["target_storage"].(map[string]any)["readable_path"] != "s3://out/completions" {
		t.Errorf("project target: %v %v", proj["can_manage_completions"], proj["target_storage"])
	}
}

// serverCloud is one cloud's fake as the storage API tests use it.
type serverCloud struct {
	name, source, target, scheme string
	fake                         cloudtest.Fake
	// env holds credentials the fake accepts, badEnv ones it refuses
	// (refused is what it then says); opts reach the fake.
	env, badEnv map[string]string
	refused     string
	opts        cloud.Options
}

// eachServerCloud runs fn as a subtest for S3 and for GCS.
func eachServerCloud(t *testing.T, fn func(t *testing.T, c serverCloud)) {
	t.Run("S3", func(t *testing.T) {
		fake := cloudtest.NewS3(t)
		fn(t, serverCloud{
			name: "S3", source: "s3", target: "s3-completions", scheme: "s3://", fake: fake,
			env:     fake.Env(),
			badEnv:  map[string]string{"AWS_ACCESS_KEY_ID": "AKIDBAD", "AWS_SECRET_ACCESS_KEY": "x"},
			refused: "InvalidAccessKeyId",
			opts:    cloud.Options{S3Endpoint: fake.URL},
		})
	})
	t.Run("GCS", func(t *testing.T) {
		fake := cloudtest.NewGCS(t)
		dir := t.TempDir()
		fn(t, serverCloud{
			name: "GCS", source: "gcs", target: "gcs-completions", scheme: "gs://", fake: fake,
			env:     map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": fake.CredentialsFile(t, dir, false)},
			badEnv:  map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": fake.CredentialsFile(t, dir, true)},
			refused: "Invalid JWT Signature.",
			opts:    cloud.Options{GCSEndpoint: fake.URL},
		})
	})
}

// TestStorageFailures: a bucket that does not exist and credentials the
// cloud refuses are 400s whose detail names the bucket and gives the
// cloud's reason, whether the storage is being set up, synced, or written
// to; the local tasks and completions stay.
func TestStorageFailures(t *testing.T) {
	eachServerCloud(t, func(t *testing.T, c serverCloud) {
		c.fake.CreateBucket(t, "media")
		c.fake.Put(t, "media", "a.jpg", nil)
		s, st := newCloudServer(t, c.env, c.opts)
		bad, badSt := newCloudServer(t, c.badEnv, c.opts)
		for _, st := range []*store.Store{st, badSt} {
			if _, err := st.ImportTasks("test", []store.NewTask{{Data: json.RawMessage(`{"image":"http://example.com/kept.jpg"}`), DataKeys: []string{"image"}}}, store.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
		}

		// Setting up: 400, nothing changes.
		r := callJSON(t, s, "POST", "/api/project/storage-settings?type="+c.source+"&storage_for=source", `{"path":"nope","regex":".*"}`)
		if want := `"detail":"Error while storage update: ` + c.name + ` list objects ` + c.scheme + `nope failed: The specified bucket does not exist (`; r.status != 400 || !strings.Contains(r.body, want) {
			t.Errorf("missing bucket: %d %s", r.status, r.body)
		}
		r = callJSON(t, bad, "POST", "/api/project/storage-settings?type="+c.target+"&storage_for=target", `{"path":"media"}`)
		if r.status != 400 || !strings.Contains(r.body, `"detail":"Error while storage update: `) ||
			!strings.Contains(r.body, c.scheme+"media") || !strings.Contains(r.body, c.refused) {
			t.Errorf("bad credentials: %d %s", r.status, r.body)
		}
		if p, _ := st.Project("test"); p.Settings.Source.Type != "tasks-json" || p.Settings.Target.Type != "completions-dir" {
			t.Errorf("storages changed: %+v %+v", p.Settings.Source, p.Settings.Target)
		}

		// A bucket that fails later: the sync is a 400 naming the bucket,
		// and the local tasks stay.
		for _, srv := range []*Server{s, bad} {
			if _, err := srv.st.UpdateSettings("test", func(st *store.Settings) error {
				st.Source = store.StorageRef{Name: "source", Type: c.source, Path: "vanished", Params: json.RawMessage(`{"regex":".*"}`)}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			srv.forgetRefs("test")
		}
		r = call(t, s, "POST", "/api/project/storage-settings/sync?storage_for=source&wait=1", "", "")
		var envelope struct {
			Status int    `json:"status"`
			Detail string `json:"detail"`
		}
		r.json(t, &envelope)
		if r.status != 400 || envelope.Status != 400 || !strings.HasPrefix(envelope.Detail, "Cloud storage sync failed: ") ||
			!strings.Contains(envelope.Detail, c.scheme+"vanished") || !strings.Contains(envelope.Detail, "does not exist") {
			t.Errorf("sync of a missing bucket: %d %s", r.status, r.body)
		}
		var status struct {
			Source cloud.SourceStatus `json:"source"`
			Target cloud.TargetStatus `json:"target"`
		}
		getJSON(t, s, "/api/project/storage-settings/status", &status)
		if !strings.Contains(status.Source.Error, c.scheme+"vanished") || status.Source.Type != c.source {
			t.Errorf("status %+v", status.Source)
		}
		if p, _ := st.Project("test"); p.Counters.Tasks != 1 {
			t.Errorf("%d tasks, want the local one", p.Counters.Tasks)
		}
		if r := call(t, s, "POST", "/api/project/storage-settings/sync?storage_for=target", "", ""); r.status != 400 {
			t.Errorf("sync of a local target: %d %s", r.status, r.body)
		}

		// A target that fails at write time: the completion is saved, the
		// answer says so in a header, and the record is written at the next
		// successful write.
		c.fake.CreateBucket(t, "flaky")
		if r := callJSON(t, s, "POST", "/api/project/storage-settings?type="+c.target+"&storage_for=target", `{"path":"flaky"}`); r.status != 201 {
			t.Fatalf("select target: %d %s", r.status, r.body)
		}
		c.fake.DeleteBucket(t, "flaky")
		r = callJSON(t, s, "POST", "/api/tasks/0/completions", `{"result":[]}`)
		if r.status != 201 || !strings.Contains(r.header.Get("X-Cloud-Target-Error"), c.scheme+"flaky") {
			t.Fatalf("save with a failing target: %d %s %v", r.status, r.body, r.header)
		}
		if tk, _ := st.Task("test", 0); len(tk.Completions) != 1 {
			t.Fatalf("completion not kept locally")
		}
		getJSON(t, s, "/api/project/storage-settings/status", &status)
		if len(status.Target.Pending) != 1 || !strings.Contains(status.Target.Error, "does not exist") {
			t.Errorf("target status %+v", status.Target)
		}
		if r := call(t, s, "POST", "/api/project/storage-settings/sync?storage_for=target&wait=1", "", ""); r.status != 400 ||
			!strings.Contains(r.body, c.scheme+"flaky") {
			t.Errorf("target sync into a missing bucket: %d %s", r.status, r.body)
		}
		c.fake.CreateBucket(t, "flaky")
		if r := call(t, s, "POST", "/api/project/storage-settings/sync?storage_for=target&wait=1", "", ""); r.status != 200 {
			t.Fatalf("target sync: %d %s", r.status, r.body)
		}
		if _, err := c.fake.Get("flaky", "0"); err != nil {
			t.Errorf("record not written by the target sync: %v", err)
		}
		status.Target = cloud.TargetStatus{}
		getJSON(t, s, "/api/project/storage-settings/status", &status)
		if len(status.Target.Pending) != 0 || status.Target.Error != "" {
			t.Errorf("target status after sync %+v", status.Target)
		}

		// Credentials refused when syncing and when writing: 400 and a
		// header; the completion is saved all the same.
		r = call(t, bad, "POST", "/api/project/storage-settings/sync?storage_for=source&wait=1", "", "")
		if r.status != 400 || !strings.Contains(r.body, c.refused) {
			t.Errorf("sync with refused credentials: %d %s", r.status, r.body)
		}
		if _, err := badSt.UpdateSettings("test", func(st *store.Settings) error {
			st.Target = store.StorageRef{Name: "target", Type: c.target, Path: "flaky"}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		bad.forgetRefs("test")
		r = callJSON(t, bad, "POST", "/api/tasks/0/completions", `{"result":[]}`)
		if r.status != 201 || !strings.Contains(r.header.Get("X-Cloud-Target-Error"), c.refused) {
			t.Errorf("save with refused credentials: %d %s %v", r.status, r.body, r.header)
		}
		if tk, _ := badSt.Task("test", 0); len(tk.Completions) != 1 {
			t.Errorf("%d completions kept locally, want 1", len(tk.Completions))
		}
		if p, _ := badSt.Project("test"); p.Counters.Tasks != 1 {
			t.Errorf("%d tasks, want the local one", p.Counters.Tasks)
		}
	})
}

// TestStorageUnreachableCloud: a cloud that cannot be reached is a 502
// (not a 500) naming the bucket; the tasks stay.
func TestStorageUnreachableCloud(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	s, st := newCloudServer(t, map[string]string{"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "S"}, cloud.Options{S3Endpoint: dead, GCSEndpoint: dead})
	for _, typ := range []string{"s3", "gcs"} {
		if _, err := st.UpdateSettings("test", func(st *store.Settings) error {
			st.Source = store.StorageRef{Name: "source", Type: typ, Path: "media", Params: json.RawMessage(`{"regex":".*"}`)}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		s.forgetRefs("test")
		r := call(t, s, "POST", "/api/project/storage-settings/sync?storage_for=source&wait=1", "", "")
		if r.status != 502 || !strings.Contains(r.body, `"detail":"Cloud storage sync failed: `) || !strings.Contains(r.body, "://media") {
			t.Errorf("%s: %d %s", typ, r.status, r.body)
		}
	}
}

// TestStorageSyncingFlag holds a sync's listing to see source_syncing.
func TestStorageSyncingFlag(t *testing.T) {
	release := make(chan struct{})
	held := make(chan struct{}, 1)
	empty := `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>slow</Name><IsTruncated>false</IsTruncated></ListBucketResult>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("max-keys") == "1000" {
			held <- struct{}{}
			<-release
		}
		w.Header().Set("Content-Type", "application/xml")
		_, _ = io.WriteString(w, empty)
	}))
	defer srv.Close()
	s, _ := newCloudServer(t, map[string]string{"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "S"}, cloud.Options{S3Endpoint: srv.URL})
	if r := callJSON(t, s, "POST", "/api/project/storage-settings?type=s3&storage_for=source", `{"path":"slow","regex":".*"}`); r.status != 201 {
		t.Fatalf("select: %d %s", r.status, r.body)
	}
	<-held
	var proj map[string]any
	getJSON(t, s, "/api/project", &proj)
	var status struct {
		Source cloud.SourceStatus `json:"source"`
	}
	getJSON(t, s, "/api/project/storage-settings/status", &status)
	close(release)
	if proj["source_syncing"] != true || !status.Source.Syncing || status.Source.LastStarted == nil {
		t.Errorf("while listing: source_syncing=%v status=%+v", proj["source_syncing"], status.Source)
	}
	s.cloudManager().Wait("test")
	getJSON(t, s, "/api/project", &proj)
	if proj["source_syncing"] != false {
		t.Errorf("after the sync: source_syncing=%v", proj["source_syncing"])
	}
}

func TestStorageGCSSourceAndTarget(t *testing.T) {
	fake := cloudtest.NewGCSOnDisk(t)
	fake.CreateBucket(t, "tasks")
	fake.CreateBucket(t, "out")
	for i := 0; i < 1000; i++ {
		fake.Put(t, "tasks", fmt.Sprintf("json/%04d.json", i), []byte(fmt.Sprintf(`{"data":{"image":"gs://tasks/img/%d.jpg"}}`, i)))
	}
	fake.Put(t, "tasks", "json/list.json", []byte(`[{"image":"gs://tasks/img/list.jpg"}]`))
	fake.Put(t, "tasks", "json/two.json", []byte(`[{"image":"a"},{"image":"b"}]`))
	fake.Put(t, "tasks", "json/wrong-key.json", []byte(`{"data":{"text":"no image"}}`))
	fake.Put(t, "tasks", "img/0.jpg", []byte("jpeg 0"))
	dir := t.TempDir()
	env := map[string]string{"GOOGLE_APPLICATION_CREDENTIALS": fake.CredentialsFile(t, dir, false)}
	s, st := newCloudServer(t, env, cloud.Options{GCSEndpoint: fake.URL, HomeDir: dir})

	// An unchecked box is omitted: the objects are JSON tasks.
	r := callJSON(t, s, "POST", "/api/project/storage-settings?type=gcs&storage_for=source", `{"path":"tasks","prefix":"json","regex":".*\\.json"}`)
	if r.status != 201 {
		t.Fatalf("select gcs: %d %s", r.status, r.body)
	}
	s.cloudManager().Wait("test")
	var status struct {
		Source cloud.SourceStatus `json:"source"`
	}
	getJSON(t, s, "/api/project/storage-settings/status", &status)
	if status.Source.Imported != 1001 || status.Source.Failed != 2 || len(status.Source.ObjectErrors) != 2 {
		t.Fatalf("status %+v", status.Source)
	}
	errs := strings.Join(status.Source.ObjectErrors, "\n")
	if !strings.Contains(errs, "gs://tasks/json/two.json: Cloud storages support one task per one JSON file only") || !strings.Contains(errs, "gs://tasks/json/wrong-key.json") {
		t.Errorf("object errors: %s", errs)
	}
	if p, _ := st.Project("test"); p.Counters.Tasks != 1001 {
		t.Errorf("%d tasks", p.Counters.Tasks)
	}
	var task struct {
		Data map[string]string `json:"data"`
	}
	getJSON(t, s, "/api/tasks/0", &task)
	if !strings.HasPrefix(task.Data["image"], fake.URL+"/tasks/img/0.jpg?X-Goog-Algorithm=GOOG4-RSA-SHA256") {
		t.Fatalf("task 0: %+v", task)
	}
	if code, body := httpGet(t, task.Data["image"]); code != 200 || body != "jpeg 0" {
		t.Errorf("GET signed URL: %d %q", code, body)
	}

	r = callJSON(t, s, "POST", "/api/project/storage-settings?type=gcs-completions&storage_for=target", `{"path":"out","prefix":"done/"}`)
	if r.status != 201 {
		t.Fatalf("select gcs-completions: %d %s", r.status, r.body)
	}
	if r := callJSON(t, s, "POST", "/api/tasks/3/completions?was_cancelled=1", `{"result":[]}`); r.status != 201 {
		t.Fatalf("skip: %d %s", r.status, r.body)
	}
	b, err := fake.Get("out", "done/3")
	if err != nil || !strings.Contains(string(b), `"was_cancelled":true`) || !strings.Contains(string(b), `"id":3`) {
		t.Errorf("record %q", b)
	}

	// Bad credentials and a missing bucket are 400s naming the bucket.
	if r := callJSON(t, s, "POST", "/api/project/storage-settings?type=gcs&storage_for=source", `{"path":"nope","regex":".*"}`); r.status != 400 ||
		!strings.Contains(r.body, "gs://nope") || !strings.Contains(r.body, "The specified bucket does not exist") {
		t.Errorf("missing bucket: %d %s", r.status, r.body)
	}
	env["GOOGLE_APPLICATION_CREDENTIALS"] = fake.CredentialsFile(t, t.TempDir(), true)
	if r := callJSON(t, s, "POST", "/api/project/storage-settings?type=gcs-completions&storage_for=target", `{"path":"out"}`); r.status != 400 ||
		!strings.Contains(r.body, "gs://out") || !strings.Contains(r.body, "Invalid JWT Signature.") {
		t.Errorf("bad credentials: %d %s", r.status, r.body)
	}
}
