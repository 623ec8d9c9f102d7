package migrate_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"labelstudio/server"
	"labelstudio/store"
	"labelstudio/store/migrate"
)

const defaultConfig = `<View><Image name="image" value="$image"/></View>`

// openStore opens a store in a temp dir; at cleanup it runs the
// consistency check and closes it.
func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "labelstudio.db"), store.Options{NoSync: true})
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

type wantCompletion struct {
	ID        int64
	CreatedAt int64
	Cancelled bool
}

type wantTask struct {
	ID          int64
	Data        string
	Completions []wantCompletion
}

// jsonEqual compares two JSON texts by value.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("bad JSON %q: %v", a, err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("bad JSON %q: %v", b, err)
	}
	return reflect.DeepEqual(va, vb)
}

// mtime is a file's modification time in Unix seconds.
func mtime(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.ModTime().Unix()
}

// checkStore compares the project's stored tasks and completions with want.
func checkStore(t *testing.T, st *store.Store, project string, want []wantTask) {
	t.Helper()
	var got []store.Task
	if err := st.EachTask(project, false, func(tk store.Task) error {
		got = append(got, tk)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		ids := []int64{}
		for _, tk := range got {
			ids = append(ids, tk.ID)
		}
		t.Fatalf("%s: %d tasks stored %v, want %d", project, len(got), ids, len(want))
	}
	for i, w := range want {
		tk := got[i]
		if tk.ID != w.ID {
			t.Fatalf("%s: task %d has id %d, want %d", project, i, tk.ID, w.ID)
		}
		var raw struct {
			ID   int64           `json:"id"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(tk.Raw, &raw); err != nil {
			t.Fatalf("%s: task %d: %v", project, w.ID, err)
		}
		if raw.ID != w.ID || !jsonEqual(t, raw.Data, []byte(w.Data)) {
			t.Errorf("%s: task %d stored as %s, want data %s", project, w.ID, tk.Raw, w.Data)
		}
		if len(tk.Completions) != len(w.Completions) {
			t.Errorf("%s: task %d has %d completions, want %d", project, w.ID, len(tk.Completions), len(w.Completions))
			continue
		}
		for j, wc := range w.Completions {
			c := tk.Completions[j]
			if c.ID != wc.ID || !c.HasCreatedAt || c.CreatedAt != wc.CreatedAt || c.WasCancelled != wc.Cancelled {
				t.Errorf("%s: task %d completion %d = {id %d, created_at %d (%v), cancelled %v}, want %+v",
					project, w.ID, j, c.ID, c.CreatedAt, c.HasCreatedAt, c.WasCancelled, wc)
			}
			var obj map[string]json.RawMessage
			if err := json.Unmarshal(c.Raw, &obj); err != nil {
				t.Fatalf("%s: completion %d: %v", project, c.ID, err)
			}
			for _, k := range []string{"predictions", "skipped"} {
				if _, ok := obj[k]; ok {
					t.Errorf("%s: completion %d keeps the key %q: %s", project, c.ID, k, c.Raw)
				}
			}
			if string(obj["id"]) != strconv.FormatInt(wc.ID, 10) {
				t.Errorf("%s: completion %d has id %s in its JSON", project, c.ID, obj["id"])
			}
		}
	}
}

// checkAPI compares GET /api/tasks and GET /api/completions of a server
// over the store with want.
func checkAPI(t *testing.T, st *store.Store, project string, want []wantTask) {
	t.Helper()
	srv := server.New(st, server.Options{Project: project, Version: "test"})
	get := func(url string) []byte {
		t.Helper()
		resp, err := srv.App().Test(httptest.NewRequest("GET", url, nil), -1)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
		}
		return b
	}
	var tasks []struct {
		ID          int64           `json:"id"`
		Data        json.RawMessage `json:"data"`
		Completions []struct {
			ID           int64 `json:"id"`
			CreatedAt    int64 `json:"created_at"`
			WasCancelled bool  `json:"was_cancelled"`
		} `json:"completions"`
	}
	body := get(fmt.Sprintf("/api/tasks?page=1&page_size=%d", len(want)+10))
	if err := json.Unmarshal(body, &tasks); err != nil {
		t.Fatalf("GET /api/tasks: %v: %s", err, body)
	}
	if len(tasks) != len(want) {
		t.Fatalf("%s: GET /api/tasks lists %d tasks, want %d", project, len(tasks), len(want))
	}
	var completed []int64
	for i, w := range want {
		got := tasks[i]
		if got.ID != w.ID || !jsonEqual(t, got.Data, []byte(w.Data)) {
			t.Errorf("%s: API task %d = id %d data %s, want id %d data %s", project, i, got.ID, got.Data, w.ID, w.Data)
		}
		if len(got.Completions) != len(w.Completions) {
			t.Errorf("%s: API task %d has %d completions, want %d", project, w.ID, len(got.Completions), len(w.Completions))
			continue
		}
		for j, wc := range w.Completions {
			c := got.Completions[j]
			if c.ID != wc.ID || c.CreatedAt != wc.CreatedAt || c.WasCancelled != wc.Cancelled {
				t.Errorf("%s: API task %d completion %d = %+v, want %+v", project, w.ID, j, c, wc)
			}
		}
		if len(w.Completions) > 0 {
			completed = append(completed, w.ID)
		}
	}
	var ids struct {
		IDs []int64 `json:"ids"`
	}
	body = get("/api/completions")
	if err := json.Unmarshal(body, &ids); err != nil {
		t.Fatalf("GET /api/completions: %v: %s", err, body)
	}
	if completed == nil {
		completed = []int64{}
	}
	if ids.IDs == nil {
		ids.IDs = []int64{}
	}
	if !reflect.DeepEqual(ids.IDs, completed) {
		t.Errorf("%s: GET /api/completions = %v, want %v", project, ids.IDs, completed)
	}
}

// hasWarning reports whether some warning contains all the parts.
func hasWarning(warnings []string, parts ...string) bool {
	for _, w := range warnings {
		ok := true
		for _, p := range parts {
			if !strings.Contains(w, p) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

func TestMigrateImageProject(t *testing.T) {
	st := openStore(t)
	uploads := t.TempDir()
	src := filepath.Join("testdata", "image_project")
	rep, err := migrate.Migrate(st, src, migrate.Options{UploadRoot: uploads, DefaultLabelConfig: defaultConfig})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Projects) != 1 || rep.MultiSession {
		t.Fatalf("report: %+v", rep)
	}
	pr := rep.Projects[0]
	if pr.Name != "image_project" {
		t.Errorf("project name %q, want the folder's base name", pr.Name)
	}
	comp2 := mtime(t, filepath.Join(src, "completions", "2.json"))
	want := []wantTask{
		{ID: 0, Data: `{"image": "/data/upload/9f2c1d0e-moon.jpg"}`, Completions: []wantCompletion{
			{ID: 1, CreatedAt: 1605866645}, {ID: 2, CreatedAt: 1605866700, Cancelled: true}}},
		{ID: 1, Data: `{"image": "https://example.com/dog.jpg"}`, Completions: []wantCompletion{{ID: 1001, CreatedAt: 1605866800}}},
		{ID: 2, Data: `{"image": "/data/upload/4b7e22aa-rover.png"}`, Completions: []wantCompletion{{ID: 2001, CreatedAt: comp2, Cancelled: true}}},
		{ID: 3, Data: `{"image": "https://example.com/3.jpg"}`},
		{ID: 4, Data: `{"image": "https://example.com/4.jpg"}`},
		{ID: 5, Data: `{"image": "https://example.com/5.jpg"}`},
		{ID: 7, Data: `{"image": "https://example.com/7.jpg"}`, Completions: []wantCompletion{
			{ID: 7001, CreatedAt: 1605867000}, {ID: 7005, CreatedAt: 1605867100}}},
		{ID: 11, Data: `{"image": "https://example.com/11.jpg"}`},
	}
	checkStore(t, st, pr.Name, want)
	checkAPI(t, st, pr.Name, want)

	if pr.Tasks != 8 || pr.SkippedTasks != 3 || pr.Completions != 6 || pr.CompletedTasks != 4 ||
		pr.CancelledCompletions != 2 || pr.AssignedIDs != 3 || pr.FilledCreatedAt != 1 ||
		pr.DamagedFiles != 2 || pr.Uploads != 2 || pr.RewrittenURLs != 2 {
		t.Errorf("report counts: %+v", pr)
	}
	if !reflect.DeepEqual(pr.Orphans, []int64{9}) || !reflect.DeepEqual(pr.EmptyRecords, []int64{3}) {
		t.Errorf("orphans %v, empty records %v", pr.Orphans, pr.EmptyRecords)
	}
	for _, w := range [][]string{
		{"completions/4.json", "empty"},
		{"completions/5.json", "damaged"},
		{"completions/9.json", "task 9"},
		{"completions/notes.json", "not a task id"},
		{`"8"`, "not a JSON object"},
		{`"x"`, "skipped"},
		{`"10"`, "no data object"},
		{"completions/3.json", "empty completions list"},
		{"label_config", "does not exist"},
	} {
		if !hasWarning(pr.Warnings, w...) {
			t.Errorf("no warning with %q in %q", w, pr.Warnings)
		}
	}

	// Task details kept: predictions, task_path; completion bodies.
	tk, err := st.Task(pr.Name, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(tk.Raw, []byte(`"predictions":[{"result":[],"score":0.7,"model_version":"m1"}]`)) {
		t.Errorf("task 1 lost its predictions: %s", tk.Raw)
	}
	if !bytes.Contains(tk.Completions[0].Raw, []byte(`"source":"$image"`)) {
		t.Errorf("completion 1001 lost result details: %s", tk.Completions[0].Raw)
	}
	if tk, _ := st.Task(pr.Name, 4); !bytes.Contains(tk.Raw, []byte(`"task_path":"../imports/batch1.json"`)) {
		t.Errorf("task 4 lost its task_path: %s", tk.Raw)
	}

	// Settings from config.json, config verbatim.
	p, err := st.Project(pr.Name)
	if err != nil {
		t.Fatal(err)
	}
	s := p.Settings
	if s.Sampling != "uniform" || s.Description != "Moon landings" || s.Instruction != "Draw a <b>box</b> around every moonwalker." ||
		s.AllowDeleteCompletions || s.Port != 8200 || s.TaskPageAutoUpdateTimer != 5000 || !s.LabelConfigUpdated ||
		!s.EnablePredictionsButton || len(s.MLBackends) != 1 || s.MLBackends[0] != (store.MLBackend{Name: "moon-model", URL: "http://localhost:9090"}) {
		t.Errorf("settings not taken from config.json: %+v", s)
	}
	if s.Source.Type != "tasks-json" || strings.Contains(s.Source.Path, "alice") || strings.Contains(s.Target.Path, "alice") {
		t.Errorf("local storages should be the defaults: %+v %+v", s.Source, s.Target)
	}
	for _, k := range []string{"label_config", "input_path", "output_dir", "config_path"} {
		if _, ok := s.Extra[k]; ok {
			t.Errorf("path key %s kept in the settings", k)
		}
	}
	xml, _ := os.ReadFile(filepath.Join(src, "config.xml"))
	if p.LabelConfig != string(xml) {
		t.Errorf("label config not verbatim: %q", p.LabelConfig)
	}
	if p.Counters.Tasks != 8 || p.Counters.Completions != 6 || p.Counters.CompletedTasks != 4 || p.Counters.CancelledCompletions != 2 || p.Counters.Predictions != 1 {
		t.Errorf("counters %+v", p.Counters)
	}

	// Uploads copied byte for byte into the server's layout.
	for _, name := range []string{"9f2c1d0e-moon.jpg", "4b7e22aa-rover.png"} {
		a, _ := os.ReadFile(filepath.Join(src, "upload", name))
		b, err := os.ReadFile(filepath.Join(uploads, store.UploadFolder(pr.Name), name))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("upload %s not copied: %v", name, err)
		}
	}

	var out bytes.Buffer
	rep.Print(&out)
	t.Log(out.String())
	for _, s := range []string{`Migrated project "image_project"`, "tasks: 8 stored, 3 skipped", "completions: 6 stored on 4 task(s)",
		"orphan completion files skipped: 1 (tasks 9", "uploads: 2 file(s)", "warning:"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("printed report lacks %q:\n%s", s, out.String())
		}
	}
}

func TestMigrateRefusesExistingUnlessForce(t *testing.T) {
	st := openStore(t)
	src := filepath.Join("testdata", "image_project")
	opts := migrate.Options{Project: "moon", DefaultLabelConfig: defaultConfig}
	rep, err := migrate.Migrate(st, src, opts)
	if err != nil {
		t.Fatal(err)
	}
	uuid := rep.Projects[0].UUID
	if err := st.DeleteTask("moon", 11); err != nil {
		t.Fatal(err)
	}
	_, err = migrate.Migrate(st, src, opts)
	if err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("second migration: %v, want a refusal naming --force", err)
	}
	if p, _ := st.Project("moon"); p.Counters.Tasks != 7 {
		t.Fatalf("refused migration changed the project: %+v", p.Counters)
	}
	opts.Force = true
	rep, err = migrate.Migrate(st, src, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Projects[0].Recreated || rep.Projects[0].UUID != uuid {
		t.Errorf("forced migration: %+v, want re-created with uuid %s", rep.Projects[0], uuid)
	}
	var out bytes.Buffer
	rep.Print(&out)
	if !strings.Contains(out.String(), `Re-created project "moon"`) {
		t.Errorf("report does not say it re-created: %s", out.String())
	}
	if p, _ := st.Project("moon"); p.Counters.Tasks != 8 {
		t.Errorf("forced migration: %+v", p.Counters)
	}
	if _, err := migrate.Migrate(st, src, migrate.Options{Project: "uploads-skipped", DefaultLabelConfig: defaultConfig}); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateDamagedTasksAndSettings(t *testing.T) {
	st := openStore(t)
	src := filepath.Join("testdata", "text_project")
	rep, err := migrate.Migrate(st, src, migrate.Options{Project: "reviews", UploadRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	pr := rep.Projects[0]
	want := []wantTask{
		{ID: 0, Data: `{"text": "Great product & fast <delivery>", "meta_info": {"lang": "en"}}`, Completions: []wantCompletion{
			{ID: 1, CreatedAt: mtime(t, filepath.Join(src, "completions", "0.json"))}}},
		{ID: 1, Data: `{"text": "Broke after a day"}`},
	}
	checkStore(t, st, "reviews", want)
	checkAPI(t, st, "reviews", want)
	if !reflect.DeepEqual(pr.Orphans, []int64{2}) {
		t.Errorf("orphans %v, want [2] (task 2 is in the damaged part of tasks.json)", pr.Orphans)
	}
	for _, w := range [][]string{{"tasks.json is damaged", "2 task(s)"}, {"sampling", "random"}, {"port"}} {
		if !hasWarning(pr.Warnings, w...) {
			t.Errorf("no warning with %q in %q", w, pr.Warnings)
		}
	}
	p, _ := st.Project("reviews")
	if p.Settings.Sampling != "sequential" || p.Settings.Port != 8080 || p.Settings.Description != "Reviews" ||
		p.Settings.Instruction != "Classify the <i>sentiment</i>." {
		t.Errorf("settings: %+v", p.Settings)
	}
	tk, _ := st.Task("reviews", 0)
	if !bytes.Contains(tk.Raw, []byte(`"Great product & fast <delivery>"`)) {
		t.Errorf("task text re-escaped: %s", tk.Raw)
	}
}

func TestMigrateMultiSessionRoot(t *testing.T) {
	st := openStore(t)
	uploads := t.TempDir()
	const (
		user = "3f0b5a4e-6d2c-4c8e-9a51-2b7d1e0c9f11"
		p1   = "a1c2e3f4-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
		p2   = "b7e8f9a0-1b2c-4d3e-8f4a-5b6c7d8e9f0a"
	)
	src := filepath.Join("testdata", "multi_root")
	if _, err := migrate.Migrate(st, src, migrate.Options{Project: "x"}); err == nil {
		t.Error("--project with a multi-session root should be refused")
	}
	rep, err := migrate.Migrate(st, src, migrate.Options{UploadRoot: uploads, DefaultLabelConfig: defaultConfig})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.MultiSession || len(rep.Projects) != 2 {
		t.Fatalf("report: %+v", rep)
	}
	if !hasWarning(rep.Warnings, "junk") || !hasWarning(rep.Warnings, "not-a-project") {
		t.Errorf("root warnings: %q", rep.Warnings)
	}
	n1, n2 := user+"/"+p1, user+"/"+p2
	if rep.Projects[0].Name != n1 || rep.Projects[0].UUID != p1 || rep.Projects[1].Name != n2 || rep.Projects[1].UUID != p2 {
		t.Fatalf("projects: %+v", rep.Projects)
	}
	for name, id := range map[string]string{n1: p1, n2: p2} {
		got, err := st.ProjectByUUID(id)
		if err != nil || got != name {
			t.Errorf("ProjectByUUID(%s) = %q, %v", id, got, err)
		}
	}
	want1 := []wantTask{
		{ID: 0, Data: `{"text": "Ada went to Paris"}`, Completions: []wantCompletion{{ID: 1, CreatedAt: 1605871000, Cancelled: true}}},
		{ID: 1, Data: `{"text": "see /upload/0a1b-notes.txt", "doc": "/data/upload/0a1b-notes.txt"}`},
	}
	checkStore(t, st, n1, want1)
	checkAPI(t, st, n1, want1)
	iso := time.Date(2020, 11, 20, 10, 4, 5, 0, time.UTC).Unix()
	want2 := []wantTask{
		{ID: 0, Data: `{"image": "https://example.com/a.jpg"}`},
		{ID: 1, Data: `{"image": "https://example.com/b.jpg"}`, Completions: []wantCompletion{{ID: 1001, CreatedAt: iso}}},
		{ID: 5, Data: `{"image": "https://example.com/c.jpg"}`, Completions: []wantCompletion{{ID: 5001, CreatedAt: 1605872000}}},
	}
	checkStore(t, st, n2, want2)
	checkAPI(t, st, n2, want2)

	p, _ := st.Project(n1)
	if p.Settings.Description != "Shared texts" || p.Settings.Source.Type != "tasks-json" || strings.Contains(p.Settings.Source.Path, "/srv/") {
		t.Errorf("settings of %s: %+v", n1, p.Settings)
	}
	if p, _ := st.Project(n2); p.LabelConfig != defaultConfig || !hasWarning(rep.Projects[1].Warnings, "no labeling config") {
		t.Errorf("%s: config %q, warnings %q", n2, p.LabelConfig, rep.Projects[1].Warnings)
	}
	if b, err := os.ReadFile(filepath.Join(uploads, store.UploadFolder(n1), "0a1b-notes.txt")); err != nil || string(b) != "uploaded notes\n" {
		t.Errorf("upload of %s: %q %v", n1, b, err)
	}
	if strings.Contains(store.UploadFolder(n1), "/") {
		t.Errorf("upload folder name %q holds a separator", store.UploadFolder(n1))
	}
}

func TestMigrateRefusesNonProjects(t *testing.T) {
	st := openStore(t)
	empty := t.TempDir()
	if _, err := migrate.Migrate(st, empty, migrate.Options{}); err == nil {
		t.Error("an empty folder should be refused")
	}
	file := filepath.Join(empty, "tasks.json")
	os.WriteFile(file, []byte("[]"), 0o644)
	if _, err := migrate.Migrate(st, file, migrate.Options{}); err == nil {
		t.Error("a file should be refused")
	}
	if _, err := migrate.Migrate(st, filepath.Join(empty, "missing"), migrate.Options{}); err == nil {
		t.Error("a missing folder should be refused")
	}
	// A folder with only an empty list of tasks is a project without tasks.
	rep, err := migrate.Migrate(st, empty, migrate.Options{Project: "empty", DefaultLabelConfig: defaultConfig})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Projects[0].Tasks != 0 {
		t.Errorf("report %+v", rep.Projects[0])
	}
}

// fixturesDir holds the Label Studio 0.8.1 example folders.
func fixturesDir() string {
	if d := os.Getenv("LS081_FIXTURES"); d != "" {
		return d
	}
	return "/work/shared/fixtures/ls081/examples"
}

// TestMigrateFixtureExamples migrates the 0.8.1 example folders that hold
// tasks.json (import lists: ids are the item indexes) and completions/,
// read in place.
func TestMigrateFixtureExamples(t *testing.T) {
	root := fixturesDir()
	dirs, _ := filepath.Glob(filepath.Join(root, "*", "tasks.json"))
	if len(dirs) == 0 {
		t.Skipf("no 0.8.1 example folders with tasks.json under %s (set LS081_FIXTURES to their examples/ folder)", root)
	}
	st := openStore(t)
	for _, tj := range dirs {
		dir := filepath.Dir(tj)
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			want, orphans := fixtureExpectation(t, dir)
			rep, err := migrate.Migrate(st, dir, migrate.Options{DefaultLabelConfig: defaultConfig})
			if err != nil {
				t.Fatal(err)
			}
			pr := rep.Projects[0]
			if pr.Name != name {
				t.Errorf("project name %q", pr.Name)
			}
			checkStore(t, st, name, want)
			checkAPI(t, st, name, want)
			if !reflect.DeepEqual(pr.Orphans, orphans) {
				t.Errorf("orphans %v, want %v", pr.Orphans, orphans)
			}
			xml, _ := os.ReadFile(filepath.Join(dir, "config.xml"))
			if p, _ := st.Project(name); p.LabelConfig != string(xml) {
				t.Errorf("label config not verbatim")
			}
		})
	}
}

// fixtureExpectation reads an example folder the simple way: task i is
// item i of the list; completions/<i>.json holds its completions, whose
// ids are numbers, digit strings or task*1000+position, and whose missing
// created_at is the file's time.
func fixtureExpectation(t *testing.T, dir string) (want []wantTask, orphans []int64) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "tasks.json"))
	if err != nil {
		t.Fatal(err)
	}
	var items []struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(b, &items); err != nil {
		t.Fatalf("tasks.json: %v", err)
	}
	for i, it := range items {
		want = append(want, wantTask{ID: int64(i), Data: string(it.Data)})
	}
	files, _ := filepath.Glob(filepath.Join(dir, "completions", "*.json"))
	for _, f := range files {
		id, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(f), ".json"), 10, 64)
		if err != nil {
			continue
		}
		if id < 0 || id >= int64(len(items)) {
			orphans = append(orphans, id)
			continue
		}
		var rec struct {
			Completions []struct {
				ID           any      `json:"id"`
				CreatedAt    *float64 `json:"created_at"`
				WasCancelled bool     `json:"was_cancelled"`
				Skipped      bool     `json:"skipped"`
			} `json:"completions"`
		}
		b, _ := os.ReadFile(f)
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for j, c := range rec.Completions {
			wc := wantCompletion{ID: id*1000 + int64(j) + 1, CreatedAt: mtime(t, f), Cancelled: c.WasCancelled || c.Skipped}
			switch v := c.ID.(type) {
			case float64:
				wc.ID = int64(v)
			case string:
				if n, err := strconv.ParseInt(v, 10, 64); err == nil {
					wc.ID = n
				}
			}
			if c.CreatedAt != nil {
				wc.CreatedAt = int64(*c.CreatedAt)
			}
			want[id].Completions = append(want[id].Completions, wc)
		}
	}
	sort.Slice(orphans, func(i, j int) bool { return orphans[i] < orphans[j] })
	return want, orphans
}
