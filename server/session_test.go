package server

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	json "github.com/goccy/go-json"

	"labelstudio/store"
)

// browser keeps one cookie jar against a multi-session server.
type browser struct {
	t      *testing.T
	s      *Server
	cookie string
}

func (b *browser) do(method, url, body string) response {
	b.t.Helper()
	var req *http.Request
	if body != "" {
		req = httptest.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req = httptest.NewRequest(method, url, nil)
	}
	if b.cookie != "" {
		req.Header.Set("Cookie", b.cookie)
	}
	resp, err := b.s.App().Test(req, -1)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie {
			b.cookie = c.Name + "=" + c.Value
		}
	}
	raw, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, body: string(raw), header: resp.Header}
}

func newMultiServer(t *testing.T) (*Server, *store.Store) {
	st := openTestStore(t, false)
	return New(st, Options{MultiSession: true, DefaultLabelConfig: textConfig}), st
}

func TestMultiSession(t *testing.T) {
	s, _ := newMultiServer(t)
	alice := &browser{t: t, s: s}
	bob := &browser{t: t, s: s}
	var pa, pb map[string]any
	json.Unmarshal([]byte(alice.do("GET", "/api/project", "").body), &pa)
	json.Unmarshal([]byte(bob.do("GET", "/api/project", "").body), &pb)
	if pa["project_name"] == pb["project_name"] || pa["multi_session_mode"] != false {
		t.Fatalf("sessions share a project: %v %v", pa["project_name"], pb["project_name"])
	}
	if r := alice.do("POST", "/api/project/import", `[{"text":"a"},{"text":"b"}]`); r.status != 201 {
		t.Fatal(r.body)
	}
	if r := bob.do("GET", "/api/tasks", ""); r.body != "[]" {
		t.Fatalf("bob sees alice's tasks: %s", r.body)
	}
	// A new project for alice, with a description.
	r := alice.do("POST", "/api/project?new=1&desc=Second", "")
	if r.status != 201 || !strings.Contains(r.body, `"description":"Second"`) || !strings.Contains(r.body, `"task_count":0`) {
		t.Fatalf("new project: %d %s", r.status, r.body)
	}
	var list []projectInfo
	json.Unmarshal([]byte(alice.do("GET", "/api/projects", "").body), &list)
	if len(list) != 2 {
		t.Fatalf("alice's projects: %+v", list)
	}
	first := list[0]
	if first.TaskCount != 2 {
		first = list[1]
	}
	// Alice shares her first project with bob through the switch link.
	r = bob.do("GET", "/api/project-switch?uuid="+first.UUID, "")
	if r.status != 302 || r.header.Get("Location") != "/setup" {
		t.Fatalf("switch: %d %v", r.status, r.header)
	}
	if r := bob.do("GET", "/api/project", ""); !strings.Contains(r.body, `"task_count":2`) {
		t.Fatalf("bob after switch: %s", r.body)
	}
	json.Unmarshal([]byte(bob.do("GET", "/api/projects", "").body), &list)
	shared := 0
	for _, p := range list {
		if p.Shared {
			shared++
		}
	}
	if shared != 1 {
		t.Fatalf("bob's list: %+v", list)
	}
	if r := bob.do("POST", "/api/project-switch?uuid="+first.UUID, ""); r.status != 200 || !strings.Contains(r.body, `"multi_session_mode":true`) {
		t.Fatalf("POST switch: %d %s", r.status, r.body)
	}
	if r := bob.do("GET", "/api/project-switch?uuid=00000000-0000-4000-8000-000000000000", ""); r.status != 404 {
		t.Fatalf("unknown uuid: %d", r.status)
	}
	if r := bob.do("GET", "/api/project-switch", ""); r.status != 400 || r.body != "Not a valid UUID" {
		t.Fatalf("missing uuid: %d %q", r.status, r.body)
	}
	// A forged cookie gets a fresh session, not someone else's.
	eve := &browser{t: t, s: s, cookie: alice.cookie[:len(alice.cookie)-3] + "xyz"}
	if r := eve.do("GET", "/api/tasks", ""); r.body != "[]" {
		t.Fatalf("forged cookie reached alice's tasks: %s", r.body)
	}
}

func TestProjectSwitchSingleMode(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "missing uuid", method: "GET", url: "/api/project-switch", wantStatus: 400, want: []string{"Not a valid UUID"}},
		{name: "with uuid", method: "POST", url: "/api/project-switch?uuid=x", wantStatus: 404, want: []string{"multi-session"}},
		{name: "projects list", method: "GET", url: "/api/projects", wantStatus: 200, want: []string{`"name":"test"`, `"current":true`}},
	})
}

// TestMultiSessionProjectGone: a session whose own project was deleted gets
// it back under the same name, with the same cookie; one whose shared
// project was deleted moves to a new project of its own and forgets it.
func TestMultiSessionProjectGone(t *testing.T) {
	s, st := newMultiServer(t)
	alice := &browser{t: t, s: s}
	bob := &browser{t: t, s: s}
	projectOf := func(b *browser) string {
		t.Helper()
		var p map[string]any
		r := b.do("GET", "/api/project", "")
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		json.Unmarshal([]byte(r.body), &p)
		name, _ := p["project_name"].(string)
		if name == "" {
			t.Fatalf("no project name: %s", r.body)
		}
		return name
	}
	own := projectOf(alice)
	cookie := alice.cookie
	if err := st.DeleteProject(own); err != nil {
		t.Fatal(err)
	}
	if got := projectOf(alice); got != own || alice.cookie != cookie {
		t.Fatalf("own project gone: now %q (was %q), cookie changed %v", got, own, alice.cookie != cookie)
	}
	if _, err := st.Project(own); err != nil {
		t.Fatalf("own project not made again: %v", err)
	}

	bobsOwn := projectOf(bob)
	p, err := st.Project(own)
	if err != nil {
		t.Fatal(err)
	}
	if r := bob.do("GET", "/api/project-switch?uuid="+p.UUID, ""); r.status != 302 {
		t.Fatalf("switch: %d %s", r.status, r.body)
	}
	if got := projectOf(bob); got != own {
		t.Fatalf("bob after switch: %q", got)
	}
	if err := st.DeleteProject(own); err != nil {
		t.Fatal(err)
	}
	cookie = bob.cookie
	got := projectOf(bob)
	if got == own || got == bobsOwn || !strings.HasPrefix(got, strings.SplitN(bobsOwn, "/", 2)[0]+"/") || bob.cookie == cookie {
		t.Fatalf("shared project gone: bob is on %q (own %q, shared %q), new cookie %v", got, bobsOwn, own, bob.cookie != cookie)
	}
	if _, err := st.Project(own); err == nil {
		t.Fatal("alice's deleted project was made again for bob")
	}
	var list []projectInfo
	json.Unmarshal([]byte(bob.do("GET", "/api/projects", "").body), &list)
	for _, pi := range list {
		if pi.Shared || pi.Name == own {
			t.Fatalf("bob still lists the deleted project: %+v", list)
		}
	}
	if len(list) != 2 {
		t.Fatalf("bob's projects: %+v", list)
	}
}
