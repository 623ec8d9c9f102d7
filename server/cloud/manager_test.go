package cloud

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	json "github.com/goccy/go-json"

	"labelstudio/server/cloud/cloudtest"
	"labelstudio/store"
)

// quiet drops the manager's log lines in tests.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "t.db"), store.Options{Timeout: time.Second, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Check(); err != nil {
			t.Errorf("consistency check: %v", err)
		}
		st.Close()
	})
	return st
}

func newProject(t *testing.T, st *store.Store, name string) {
	t.Helper()
	if _, err := st.CreateProject(name, store.DefaultSettings(), `<View><Image name="img" value="$image"/></View>`); err != nil {
		t.Fatal(err)
	}
}

func sourceRef(typ, bucket string, params map[string]any) store.StorageRef {
	b, _ := json.Marshal(params)
	return store.StorageRef{Name: "source", Type: typ, Path: bucket, Params: b}
}

// blobMaker makes blob-URL tasks under "image".
func blobMaker(uri string, body []byte) (store.NewTask, error) {
	if body != nil {
		var obj struct {
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &obj); err != nil || len(obj.Data) == 0 {
			return store.NewTask{}, errors.New("not a task object")
		}
		return store.NewTask{Data: obj.Data, DataKeys: []string{"image"}}, nil
	}
	d, _ := json.Marshal(map[string]string{"image": uri})
	return store.NewTask{Data: d, DataKeys: []string{"image"}}, nil
}

func taskCount(t *testing.T, st *store.Store, project string) int64 {
	t.Helper()
	p, err := st.Project(project)
	if err != nil {
		t.Fatal(err)
	}
	return p.Counters.Tasks
}

// taskPaths returns the task_path of each task of a project, checking
// that every task's data is {"image": <its task_path>}.
func taskPaths(t *testing.T, st *store.Store, project string) map[string]bool {
	t.Helper()
	paths := map[string]bool{}
	err := st.EachTask(project, false, func(tk store.Task) error {
		var v struct {
			Data     map[string]string `json:"data"`
			TaskPath string            `json:"task_path"`
		}
		if err := json.Unmarshal(tk.Raw, &v); err != nil {
			return err
		}
		if v.TaskPath == "" || v.Data["image"] != v.TaskPath || paths[v.TaskPath] {
			return fmt.Errorf("task %d: %s", tk.ID, tk.Raw)
		}
		paths[v.TaskPath] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return paths
}

// TestSyncThousandObjects syncs a folder of 1,000 images (and other files)
// into tasks, then only what is new, also after a restart.
func TestSyncThousandObjects(t *testing.T) {
	eachCloud(t, true, func(t *testing.T, c testCloud) {
		c.fake.CreateBucket(t, "media")
		for i := 0; i < 1000; i++ {
			c.fake.Put(t, "media", fmt.Sprintf("images/img-%04d.jpg", i), []byte("jpg"))
		}
		for i := 0; i < 30; i++ {
			c.fake.Put(t, "media", fmt.Sprintf("images/notes-%d.txt", i), []byte("txt"))
		}
		c.fake.Put(t, "media", "images/deep/nested.jpg", []byte("jpg"))
		c.fake.Put(t, "media", "other/elsewhere.jpg", []byte("jpg"))
		want := map[string]bool{}
		for i := 0; i < 1000; i++ {
			want[c.uri("media", fmt.Sprintf("images/img-%04d.jpg", i))] = true
		}
		listed := 1030
		if c.recursive {
			// GCS lists deeper folders under a prefix too.
			listed++
			want[c.uri("media", "images/deep/nested.jpg")] = true
		}

		st := newStore(t)
		newProject(t, st, "p")
		m := NewManager(st, c.opts, quiet)
		defer m.Close()
		ctx := context.Background()
		ref := sourceRef(c.source, "media", map[string]any{"prefix": "images/", "regex": `.*\.jpg`, "use_blob_urls": "on", "data_key": "image"})

		status, err := m.Sync(ctx, "p", ref, blobMaker)
		if err != nil {
			t.Fatal(err)
		}
		if status.Listed != listed || status.Matched != len(want) || status.Imported != len(want) || status.Failed != 0 || status.Syncing {
			t.Fatalf("status %+v", status)
		}
		got := taskPaths(t, st, "p")
		if len(got) != len(want) {
			t.Fatalf("%d tasks, want %d", len(got), len(want))
		}
		for u := range want {
			if !got[u] {
				t.Fatalf("no task of %s", u)
			}
		}

		// Incremental: nothing new, then only the new objects.
		status, err = m.Sync(ctx, "p", ref, blobMaker)
		if err != nil || status.Imported != 0 || status.Known != len(want) {
			t.Fatalf("second sync: %+v %v", status, err)
		}
		for i := 1000; i < 1003; i++ {
			c.fake.Put(t, "media", fmt.Sprintf("images/img-%04d.jpg", i), []byte("jpg"))
		}
		status, err = m.Sync(ctx, "p", ref, blobMaker)
		if err != nil || status.Imported != 3 || status.Known != len(want) {
			t.Fatalf("third sync: %+v %v", status, err)
		}
		if n := taskCount(t, st, "p"); n != int64(len(want)+3) {
			t.Fatalf("%d tasks, want %d", n, len(want)+3)
		}
		// A fresh manager (a restarted server) finds the imported objects in
		// the tasks' task_path and imports nothing twice.
		m2 := NewManager(st, c.opts, quiet)
		defer m2.Close()
		if status, err = m2.Sync(ctx, "p", ref, blobMaker); err != nil || status.Imported != 0 || status.Known != len(want)+3 {
			t.Fatalf("sync after restart: %+v %v", status, err)
		}
	})
}

func TestSyncRegexFilter(t *testing.T) {
	eachCloud(t, false, func(t *testing.T, c testCloud) {
		c.fake.CreateBucket(t, "media")
		for i := 0; i < 40; i++ {
			c.fake.Put(t, "media", fmt.Sprintf("img-%02d.jpg", i), nil)
			c.fake.Put(t, "media", fmt.Sprintf("img-%02d.png", i), nil)
		}
		st := newStore(t)
		ctx := context.Background()
		for i, tc := range []struct {
			regex string
			want  int
		}{
			{`.*\.png`, 40},
			{`img-1`, 20}, // anchored at the start of the key, not a full match
			{`1`, 0},      // re.match semantics: "1" is not at the start
			{`img-0[0-4]\.jpg$`, 5},
			{``, 0}, // no regex: nothing is loaded (0.8.1)
			{`.*`, 80},
		} {
			project := fmt.Sprintf("p%d", i)
			newProject(t, st, project)
			m := NewManager(st, c.opts, quiet)
			status, err := m.Sync(ctx, project, sourceRef(c.source, "media", map[string]any{"regex": tc.regex}), blobMaker)
			m.Close()
			if err != nil || status.Imported != tc.want || status.Listed != 80 {
				t.Errorf("regex %q: %+v %v, want %d tasks", tc.regex, status, err, tc.want)
			}
			if n := taskCount(t, st, project); n != int64(tc.want) {
				t.Errorf("regex %q: %d tasks, want %d", tc.regex, n, tc.want)
			}
		}
	})
	if _, err := CompileRegex(`(unclosed`); err == nil {
		t.Error("a bad regex should not compile")
	}
}

// TestSyncJSONTasks reads each object as a JSON task.
func TestSyncJSONTasks(t *testing.T) {
	eachCloud(t, false, func(t *testing.T, c testCloud) {
		c.fake.CreateBucket(t, "tasks")
		for i := 0; i < 5; i++ {
			c.fake.Put(t, "tasks", fmt.Sprintf("batch/t%d.json", i), []byte(fmt.Sprintf(`{"data":{"image":"%s"}}`, c.uri("tasks", fmt.Sprintf("img/%d.jpg", i)))))
		}
		c.fake.Put(t, "tasks", "batch/broken.json", []byte(`{"data":`))
		c.fake.Put(t, "tasks", "batch/", nil) // a folder placeholder
		st := newStore(t)
		newProject(t, st, "p")
		m := NewManager(st, c.opts, quiet)
		defer m.Close()
		ref := sourceRef(c.source, "tasks", map[string]any{"prefix": "batch", "regex": ".*json", "use_blob_urls": false})
		status, err := m.Sync(context.Background(), "p", ref, blobMaker)
		if err != nil {
			t.Fatal(err)
		}
		if status.Listed != 6 || status.Imported != 5 || status.Failed != 1 || len(status.ObjectErrors) != 1 ||
			!strings.Contains(status.ObjectErrors[0], c.uri("tasks", "batch/broken.json")) {
			t.Fatalf("status %+v", status)
		}
		tk, err := st.Task("p", 2)
		if err != nil || !strings.Contains(string(tk.Raw), `"data":{"image":"`+c.uri("tasks", "img/2.jpg")+`"}`) ||
			!strings.Contains(string(tk.Raw), `"task_path":"`+c.uri("tasks", "batch/t2.json")+`"`) {
			t.Fatalf("task 2: %s %v", tk.Raw, err)
		}
		// The broken object is tried again (and still fails); the others are known.
		status, _ = m.Sync(context.Background(), "p", ref, blobMaker)
		if status.Imported != 0 || status.Known != 5 || status.Failed != 1 {
			t.Errorf("second sync %+v", status)
		}
	})
}

// TestSyncFailuresKeepLocalData: a bucket that does not exist and
// credentials the cloud refuses stop the sync with a clear error; the
// project's tasks stay.
func TestSyncFailuresKeepLocalData(t *testing.T) {
	eachCloud(t, false, func(t *testing.T, c testCloud) {
		c.fake.CreateBucket(t, "media")
		c.fake.Put(t, "media", "a.jpg", nil)
		st := newStore(t)
		newProject(t, st, "p")
		local, _ := json.Marshal(map[string]string{"image": "http://example.com/local.jpg"})
		if _, err := st.ImportTasks("p", []store.NewTask{{Data: local, DataKeys: []string{"image"}}}, store.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		scheme := Scheme(c.source) + "://"
		cases := []struct {
			name string
			opts Options
			ref  store.StorageRef
			kind func(error) bool
			want []string
		}{
			{"missing bucket", c.opts, sourceRef(c.source, "gone", map[string]any{"regex": ".*"}), IsNotFound,
				[]string{scheme + "gone", "The specified bucket does not exist", "HTTP 404"}},
			{"bad credentials", c.badOpts, sourceRef(c.source, "media", map[string]any{"regex": ".*"}), IsAuth,
				[]string{scheme + "media", c.refused}},
		}
		for _, tc := range cases {
			m := NewManager(st, tc.opts, quiet)
			status, err := m.Sync(ctx, "p", tc.ref, blobMaker)
			m.Close()
			if err == nil || !tc.kind(err) {
				t.Errorf("%s: error %v", tc.name, err)
				continue
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) || !strings.Contains(status.Error, w) {
					t.Errorf("%s: error %q (status %q) lacks %q", tc.name, err, status.Error, w)
				}
			}
			if paths := taskCount(t, st, "p"); paths != 1 {
				t.Errorf("%s: %d tasks, want the 1 local task", tc.name, paths)
			}
		}
	})
}

func TestResolve(t *testing.T) {
	s3 := cloudtest.NewS3(t)
	s3.CreateBucket(t, "media")
	s3.Put(t, "media", "images/a b.jpg", []byte("JPEG"))
	gcs := cloudtest.NewGCS(t)
	gcs.CreateBucket(t, "gmedia")
	gcs.Put(t, "gmedia", "x/y.png", []byte("PNG"))
	dir := t.TempDir()
	env := s3.Env()
	env["GOOGLE_APPLICATION_CREDENTIALS"] = gcs.CredentialsFile(t, dir, false)
	m := NewManager(nil, Options{Getenv: mapEnv(env), HomeDir: dir, S3Endpoint: s3.URL, GCSEndpoint: gcs.URL}, quiet)
	defer m.Close()
	source := sourceRef(TypeS3, "media", map[string]any{"regex": ".*"})

	body := `{"id":1,"data":{"image":"s3://media/images/a b.jpg","png":"gs://gmedia/x/y.png","nested":{"u":"s3://media/x"},"list":["s3://media/y"],"text":"s3 is fine","bare":"s3://nokey"},"task_path":"s3://media/images/a b.jpg"}`
	out := m.Resolve(source, []byte(body))
	var got struct {
		Data     map[string]any `json:"data"`
		TaskPath string         `json:"task_path"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	img, _ := got.Data["image"].(string)
	png, _ := got.Data["png"].(string)
	if !strings.HasPrefix(img, s3.URL+"/media/images/a%20b.jpg?X-Amz-") || !strings.HasPrefix(png, gcs.URL+"/gmedia/x/y.png?X-Goog-") {
		t.Fatalf("resolved %s", out)
	}
	if code, b := fetch(t, img); code != 200 || b != "JPEG" {
		t.Errorf("GET %s: %d %s", img, code, b)
	}
	if code, b := fetch(t, png); code != 200 || b != "PNG" {
		t.Errorf("GET %s: %d %s", png, code, b)
	}
	if got.TaskPath != "s3://media/images/a b.jpg" || !strings.Contains(string(out), `"nested":{"u":"s3://media/x"},"list":["s3://media/y"],"text":"s3 is fine","bare":"s3://nokey"`) {
		t.Errorf("only top-level data URIs change: %s", out)
	}
	// A list of tasks; a task without URIs is left byte for byte.
	list := `[{"id":1,"data":{"image":"s3://media/k.jpg"}}, {"id":2,"data":{"text":"x"}}]`
	out = m.Resolve(source, []byte(list))
	if !strings.Contains(string(out), `{"id":1,"data":{"image":"`+s3.URL+`/media/k.jpg?X-Amz-`) || !strings.HasSuffix(string(out), `,{"id":2,"data":{"text":"x"}}]`) {
		t.Errorf("list: %s", out)
	}
	// Without credentials the URIs stay.
	anon := NewManager(nil, Options{Getenv: mapEnv(nil), HomeDir: t.TempDir(), S3Endpoint: s3.URL, GCSEndpoint: gcs.URL}, quiet)
	defer anon.Close()
	if out := anon.Resolve(source, []byte(body)); string(out) != body {
		t.Errorf("unsignable URIs changed: %s", out)
	}
	for _, b := range []string{`not json s3://x/y`, `{"data":"s3://a/b"}`, `{"data":{"a":"s3://b/c"}`} {
		if out := m.Resolve(source, []byte(b)); string(out) != b {
			t.Errorf("%q changed to %q", b, out)
		}
	}
}

// TestWriteTarget writes each completed task's record to a target bucket,
// keeps the writes that fail for a retry, and rewrites all records.
func TestWriteTarget(t *testing.T) {
	eachCloud(t, false, func(t *testing.T, c testCloud) {
		c.fake.CreateBucket(t, "out")
		st := newStore(t)
		newProject(t, st, "p")
		d0, _ := json.Marshal(map[string]string{"image": "a.jpg"})
		d1, _ := json.Marshal(map[string]string{"image": "b.jpg"})
		if _, err := st.ImportTasks("p", []store.NewTask{
			{Data: d0, DataKeys: []string{"image"}, Predictions: json.RawMessage(`[{"result":[],"score":0.5}]`)},
			{Data: d1, DataKeys: []string{"image"}},
		}, store.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		for id := int64(0); id < 2; id++ {
			if _, err := st.SaveCompletion("p", id, []byte(`{"result":[],"lead_time":1.5}`), false); err != nil {
				t.Fatal(err)
			}
		}
		m := NewManager(st, c.opts, quiet)
		defer m.Close()
		ctx := context.Background()
		target := store.StorageRef{Name: "target", Type: c.target, Path: "out", Params: json.RawMessage(`{"prefix":"done/","create_local_copy":true}`)}
		if err := m.WriteTarget(ctx, "p", target, 0); err != nil {
			t.Fatal(err)
		}
		rec, err := c.fake.Get("out", "done/0")
		if err != nil {
			t.Fatal(err)
		}
		var r struct {
			ID          int64             `json:"id"`
			Data        map[string]string `json:"data"`
			Completions []map[string]any  `json:"completions"`
			Predictions any               `json:"predictions"`
		}
		if err := json.Unmarshal(rec, &r); err != nil || r.ID != 0 || r.Data["image"] != "a.jpg" || len(r.Completions) != 1 ||
			r.Completions[0]["id"] != float64(1) || r.Predictions != nil {
			t.Fatalf("record %s %v", rec, err)
		}

		// A target that fails keeps the task pending, and the next write
		// retries it.
		scheme := Scheme(c.target) + "://"
		gone := store.StorageRef{Name: "target", Type: c.target, Path: "later"}
		err = m.WriteTarget(ctx, "p", gone, 0)
		if !IsNotFound(err) || !strings.Contains(err.Error(), scheme+"later") || !strings.Contains(err.Error(), "The specified bucket does not exist") {
			t.Fatalf("write to a missing bucket: %v", err)
		}
		if _, tg := m.Status("p"); len(tg.Pending) != 1 || tg.Pending[0] != 0 || tg.Error == "" {
			t.Fatalf("status %+v", tg)
		}
		c.fake.CreateBucket(t, "later")
		if err := m.WriteTarget(ctx, "p", gone, 1); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"0", "1"} {
			if _, err := c.fake.Get("later", k); err != nil {
				t.Errorf("record %s not written: %v", k, err)
			}
		}
		if _, tg := m.Status("p"); len(tg.Pending) != 0 || tg.Error != "" {
			t.Errorf("status after the retry %+v", tg)
		}

		// A full rewrite writes every completed task.
		c.fake.CreateBucket(t, "all")
		tg, err := m.SyncTarget(ctx, "p", store.StorageRef{Type: c.target, Path: "all"})
		if err != nil || tg.Syncing {
			t.Fatalf("sync target: %+v %v", tg, err)
		}
		for _, k := range []string{"0", "1"} {
			if _, err := c.fake.Get("all", k); err != nil {
				t.Errorf("record %s not written: %v", k, err)
			}
		}

		// Refused credentials: the write fails clearly, the task stays
		// pending, the completions stay in the store.
		bad := NewManager(st, c.badOpts, quiet)
		defer bad.Close()
		err = bad.WriteTarget(ctx, "p", target, 1)
		if !IsAuth(err) || !strings.Contains(err.Error(), scheme+"out") || !strings.Contains(err.Error(), c.refused) {
			t.Errorf("write with refused credentials: %v", err)
		}
		if _, tg := bad.Status("p"); len(tg.Pending) != 1 || tg.Pending[0] != 1 {
			t.Errorf("status %+v", tg)
		}
		if tk, err := st.Task("p", 1); err != nil || len(tk.Completions) != 1 {
			t.Errorf("task 1 lost its completion: %v", err)
		}
	})
}
