package server

import (
	"fmt"
	"strings"
	"testing"

	json "github.com/goccy/go-json"
)

func TestTrivialEndpoints(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "health", method: "GET", url: "/api/health", wantStatus: 200, want: []string{`{"status":"up"}`}, wantHeader: map[string]string{"Content-Type": "application/json"}},
		{name: "health trailing slash", method: "GET", url: "/api/health/", wantStatus: 200, want: []string{`"up"`}},
		{name: "states", method: "GET", url: "/api/states?show-readme=1", wantStatus: 200, want: []string{`{"status":"done"}`}},
		{name: "version", method: "GET", url: "/version", wantStatus: 200, want: []string{`"label-studio-backend":"0.8.1"`, `"label-studio-frontend"`, `"label-studio-go":"test"`}},
		{name: "unknown route", method: "GET", url: "/api/nothing", wantStatus: 404, want: []string{`"detail"`, `"status":404`}},
		{name: "wrong method", method: "PUT", url: "/api/health", wantStatus: 405, want: []string{`"detail"`}},
		{name: "wrong method on tasks", method: "POST", url: "/api/tasks", wantStatus: 405},
		{name: "cancel is gone", setup: seed("a"), method: "POST", url: "/api/tasks/0/cancel", wantStatus: 410, want: []string{"was_cancelled"}},
	})
}

func TestProjectEndpoint(t *testing.T) {
	runScenarios(t, []scenario{
		{name: "get", method: "GET", url: "/api/project", wantStatus: 200, want: []string{
			`"project_name":"test"`, `"task_count":0`, `"completion_count":0`, `"multi_session_mode":true`,
			`"data_types":{"text":"Text"}`, `"label_config_line":"<View><Text name=\"text\"`, `"available_storages":[["s3","Amazon S3"]`,
			`"can_manage_tasks":true`, `"source_syncing":false`, `"instruction":`, `"allow_delete_completions":true`,
		}, notWant: []string{"password"}},
		{name: "counts", setup: seedCompleted, method: "GET", url: "/api/project/", wantStatus: 200, want: []string{`"task_count":3`, `"completion_count":1`}},
		{name: "post without new", method: "POST", url: "/api/project", wantStatus: 200, want: []string{`"project_name":"test"`}},
		{name: "post new in single mode", method: "POST", url: "/api/project?new=1&desc=x", wantStatus: 400, want: []string{"multi-session"}},
		{name: "patch ignores other keys", method: "PATCH", url: "/api/project", body: `{"foo":1}`, wantStatus: 201, want: []string{`"project_name":"test"`}},
		{name: "patch bad json", method: "PATCH", url: "/api/project", body: `{`, wantStatus: 400, want: []string{"not valid JSON"}},
		{name: "patch empty", method: "PATCH", url: "/api/project", contentType: "application/json", wantStatus: 400, want: []string{"empty"}},
		{name: "patch scalar", method: "PATCH", url: "/api/project", body: `12`, wantStatus: 400},
		{name: "patch ml backend not a url", method: "PATCH", url: "/api/project", body: `{"ml_backend":"nope"}`, wantStatus: 400, want: []string{"doesn't look like URL"}},
		{name: "patch ml backend down", method: "PATCH", url: "/api/project", body: `{"ml_backend":"http://127.0.0.1:1"}`, wantStatus: 400, want: []string{`is not connected`}},
		{name: "export without format", method: "GET", url: "/api/project/export", wantStatus: 200, want: []string{`"task_count":0`}},
		{name: "expert instruction", method: "GET", url: "/api/projects/1/expert_instruction", wantStatus: 200, want: []string{"hypertext"}},
	})
}

func TestConfigEndpoint(t *testing.T) {
	form := "application/x-www-form-urlencoded"
	runScenarios(t, []scenario{
		{name: "json body", method: "POST", url: "/api/project/config", body: `{"label_config":"<View><Text name=\"t\" value=\"$t\"/></View>"}`, wantStatus: 201},
		{name: "form body", method: "POST", url: "/api/project/config", contentType: form, body: "label_config=" + strings.ReplaceAll(`<View><Text name="t" value="$t"/></View>`, "$", "%24"), wantStatus: 201},
		{name: "deprecated alias", method: "POST", url: "/api/save-config", body: `{"label_config":"<View></View>"}`, wantStatus: 201},
		{name: "missing", method: "POST", url: "/api/project/config", wantStatus: 400, want: []string{`"label_config":[`}},
		{name: "malformed xml", method: "POST", url: "/api/project/config", body: `{"label_config":"<View><Text></View>"}`, wantStatus: 400, want: []string{`"label_config":[`}},
		{name: "toName nowhere", method: "POST", url: "/api/project/config", body: `{"label_config":"<View><Text name=\"t\" value=\"$t\"/><Choices name=\"c\" toName=\"zz\"><Choice value=\"A\"/><Choice value=\"B\"/></Choices></View>"}`, wantStatus: 400, want: []string{`toName=\"zz\" not found`}},
		{name: "new key missing from tasks", setup: seed("a"), method: "POST", url: "/api/project/config", body: `{"label_config":"<View><Image name=\"i\" value=\"$image\"/><Choices name=\"c\" toName=\"i\"><Choice value=\"A\"/><Choice value=\"B\"/></Choices></View>"}`, wantStatus: 400, want: []string{"value=$image", "['text']"}},
		{name: "used label removed", setup: seedCompleted, method: "POST", url: "/api/project/config", body: `{"label_config":"<View><Text name=\"text\" value=\"$text\"/><Choices name=\"sentiment\" toName=\"text\"><Choice value=\"Negative\"/><Choice value=\"Neutral\"/></Choices></View>"}`, wantStatus: 400, want: []string{`there are labels already created for \"sentiment\"`, "'Positive'"}},
		{name: "label added", setup: seedCompleted, method: "POST", url: "/api/project/config", body: `{"label_config":"<View><Text name=\"text\" value=\"$text\"/><Choices name=\"sentiment\" toName=\"text\"><Choice value=\"Positive\"/><Choice value=\"Negative\"/><Choice value=\"Neutral\"/></Choices></View>"}`, wantStatus: 201},
		{name: "control renamed", setup: seedCompleted, method: "POST", url: "/api/project/config", body: `{"label_config":"<View><Text name=\"text\" value=\"$text\"/><Choices name=\"mood\" toName=\"text\"><Choice value=\"Positive\"/><Choice value=\"Negative\"/></Choices></View>"}`, wantStatus: 400, want: []string{"name=sentiment, toName=text, type=choices are expected"}},
	})
}

func TestConfigSaveSetsFlagAndLine(t *testing.T) {
	s, st := newTestServer(t)
	cfg := "<View>\r\n  <Text name=\"t\" value=\"$t\"/>\r\n</View>"
	b := `{"label_config":` + jsonString(cfg) + `}`
	if r := callJSON(t, s, "POST", "/api/project/config", b); r.status != 201 || r.body != "" {
		t.Fatalf("save: %d %q", r.status, r.body)
	}
	p, _ := st.Project("test")
	if p.LabelConfig != "<View>\n  <Text name=\"t\" value=\"$t\"/>\n</View>" || !p.Settings.LabelConfigUpdated {
		t.Fatalf("stored %q updated=%v", p.LabelConfig, p.Settings.LabelConfigUpdated)
	}
	r := callJSON(t, s, "GET", "/api/project", "")
	if !strings.Contains(r.body, `"label_config_line":"<View>  <Text name=\"t\" value=\"$t\"/></View>"`) {
		t.Fatalf("line config: %s", r.body)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestConfigConflict(t *testing.T) {
	s, _ := newTestServer(t)
	var p struct {
		Revision int64 `json:"label_config_revision"`
	}
	callJSON(t, s, "GET", "/api/project", "").json(t, &p)
	first := `{"label_config":"<View><Text name=\"t\" value=\"$t\"/></View>","revision":` + jsonString(fmt.Sprint(p.Revision)) + `}`
	if r := callJSON(t, s, "POST", "/api/project/config", first); r.status != 201 {
		t.Fatalf("first save: %d %s", r.status, r.body)
	}
	second := `{"label_config":"<View></View>","revision":` + fmt.Sprint(p.Revision) + `}`
	r := callJSON(t, s, "POST", "/api/project/config", second)
	if r.status != 409 || !strings.Contains(r.body, `"current":"<View><Text name=\"t\"`) || !strings.Contains(r.body, "saved meanwhile") {
		t.Fatalf("stale save: %d %s", r.status, r.body)
	}
	if r := callJSON(t, s, "POST", "/api/project/config", `{"label_config":"<View></View>"}`); r.status != 201 {
		t.Fatalf("save without revision: %d %s", r.status, r.body)
	}
	if r := callJSON(t, s, "POST", "/api/project/config", `{"label_config":"<View></View>","revision":"x"}`); r.status != 400 {
		t.Fatalf("bad revision: %d", r.status)
	}
}
