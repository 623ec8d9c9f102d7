package server

import (
	"strings"
	"testing"

	json "github.com/goccy/go-json"

	"labelstudio/store"
)

func TestProjectsDeleteAndRename(t *testing.T) {
	s, st := newTestServer(t)
	other, err := st.CreateProject("other", store.DefaultSettings(), textConfig)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.ImportTasks("other", []store.NewTask{{Data: []byte(`{"text":"x"}`), DataKeys: []string{"text"}}}, store.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	// The served project's counters and export never see the other one.
	importTexts(t, s, "a", "b")
	if r := callJSON(t, s, "GET", "/api/project", ""); !strings.Contains(r.body, `"task_count":2`) {
		t.Fatalf("served project counts the other: %s", r.body)
	}
	if files := unzip(t, call(t, s, "GET", "/api/project/export?format=JSON&only_completed=false", "", "").body); strings.Contains(files["result.json"], `"x"`) {
		t.Fatalf("export holds the other project's task: %s", files["result.json"])
	}
	r := callJSON(t, s, "PATCH", "/api/projects/"+other.UUID, `{"name":"renamed","description":"Cats"}`)
	var info projectInfo
	json.Unmarshal([]byte(r.body), &info)
	if r.status != 200 || info.Name != "renamed" || info.Description != "Cats" || info.TaskCount != 1 {
		t.Fatalf("rename: %d %s", r.status, r.body)
	}
	cur, _ := st.Project("test")
	if r := callJSON(t, s, "PATCH", "/api/projects/"+cur.UUID, `{"name":"x"}`); r.status != 409 {
		t.Fatalf("rename of the served project: %d %s", r.status, r.body)
	}
	if r := callJSON(t, s, "DELETE", "/api/projects/test", ""); r.status != 409 {
		t.Fatalf("delete of the served project: %d", r.status)
	}
	if r := callJSON(t, s, "DELETE", "/api/projects/"+other.UUID, ""); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	if r := callJSON(t, s, "DELETE", "/api/projects/"+other.UUID, ""); r.status != 404 {
		t.Fatalf("delete again: %d", r.status)
	}
}
