package server

import (
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"

	json "github.com/goccy/go-json"
)

func TestConfigHelpers(t *testing.T) {
	form := "application/x-www-form-urlencoded"
	enc := func(cfg string) string { return "label_config=" + url.QueryEscape(cfg) }
	img := `<View><Image name="image" value="$image"/><Choices name="c" toName="image"><Choice value="A"/><Choice value="B"/></Choices></View>`
	runScenarios(t, []scenario{
		{name: "validate ok", method: "POST", url: "/api/validate-config", contentType: form, body: enc(textConfig), wantStatus: 204},
		{name: "validate json", method: "POST", url: "/api/validate-config", body: `{"label_config":"<View></View>"}`, wantStatus: 204},
		{name: "validate missing", method: "POST", url: "/api/validate-config", contentType: form, body: "x=1", wantStatus: 417, want: []string{"No label_config in POST"}},
		{name: "validate single choice", method: "POST", url: "/api/validate-config", contentType: form,
			body: enc(`<View><Text name="t" value="$t"/><Choices name="c" toName="t"><Choice value="A"/></Choices></View>`), wantStatus: 400, want: []string{`"label_config":["Validation failed on`}},
		{name: "validate against tasks", setup: seed("a"), method: "POST", url: "/api/validate-config", contentType: form, body: enc(img), wantStatus: 400, want: []string{"value=$image"}},
		{name: "validate against completions names tasks", setup: seedCompleted, method: "POST", url: "/api/validate-config", contentType: form,
			body:       enc(`<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"><Choice value="Negative"/><Choice value="Other"/></Choices></View>`),
			wantStatus: 400, want: []string{`1 completion(s) use label \"Positive\" of control \"sentiment\", in tasks 1`}},
		{name: "import example", method: "GET", url: "/api/import-example?label_config=" + url.QueryEscape(img), wantStatus: 200, want: []string{`{"image":"static/samples/sample.jpg"}`}},
		{name: "import example post", method: "POST", url: "/api/import-example", contentType: form, body: enc(textConfig), wantStatus: 200, want: []string{`"text":`}},
		{name: "import example invalid", method: "GET", url: "/api/import-example?label_config=%3CView", wantStatus: 400, want: []string{"error while example generating"}},
		{name: "import example empty", method: "GET", url: "/api/import-example", wantStatus: 400},
		{name: "example file json", method: "GET", url: "/api/import-example-file", wantStatus: 200, want: []string{`[{"text":`}, wantHeader: map[string]string{"Content-Disposition": "attachment; filename=sample-", "filename": ".json"}},
		{name: "example file csv", method: "GET", url: "/api/import-example-file?q=csv&raw=1", wantStatus: 200, want: []string{"text\n"}},
		{name: "example file tsv", method: "GET", url: "/api/import-example-file?q=tsv", wantStatus: 200, wantHeader: map[string]string{"filename": ".tsv"}},
		{name: "example file txt", method: "GET", url: "/api/import-example-file?q=txt", wantStatus: 200},
		{name: "example file bad q", method: "GET", url: "/api/import-example-file?q=xml", wantStatus: 400, want: []string{`Incorrect format ("q") in request`}},
		{name: "templates", method: "GET", url: "/api/templates", wantStatus: 200, want: []string{`"name":"image_bbox"`, `"group":"image"`, `"config":"<View>`}},
		{name: "time series header", method: "GET", url: "/samples/time-series.csv?time=time&values=a,b&tf=%25Y-%25m-%25d", wantStatus: 200, want: []string{"time,a,b\n2020-01-01,"}, wantHeader: map[string]string{"Content-Type": "text/csv"}},
		{name: "time series headless", method: "GET", url: "/samples/time-series.csv?time=0&values=1,2&sep=tab", wantStatus: 200, want: []string{"0\t"}, notWant: []string{"time"}},
		{name: "sample image", method: "GET", url: "/static/samples/sample.jpg", wantStatus: 200, wantHeader: map[string]string{"Content-Type": "image/jpeg"}},
		{name: "sample audio", method: "GET", url: "/static/samples/game.wav", wantStatus: 200, want: []string{"RIFF"}},
		{name: "sample pdf", method: "GET", url: "/static/samples/sample.pdf", wantStatus: 200, want: []string{"%PDF-1.4", "%%EOF"}},
		{name: "sample missing", method: "GET", url: "/static/samples/nothing.bin", wantStatus: 404},
	})
}

func TestExampleFileTxtNeedsOneKey(t *testing.T) {
	s, _ := newTestServer(t)
	two := `{"label_config":"<View><Text name=\"a\" value=\"$a\"/><Text name=\"b\" value=\"$b\"/></View>"}`
	if r := callJSON(t, s, "POST", "/api/project/config", two); r.status != 201 {
		t.Fatal(r.body)
	}
	r := callJSON(t, s, "GET", "/api/import-example-file?q=txt", "")
	if r.status != 400 || !strings.Contains(r.body, "TXT is unsupported") {
		t.Fatalf("%d %s", r.status, r.body)
	}
}

// TestConfigChangeListsEveryProblem: a config change that breaks the stored
// tasks and completions in several ways is refused with every problem, in a
// fixed order (data keys, recorded triples, recorded controls and labels),
// followed by the completions that block it; nothing is saved.
func TestConfigChangeListsEveryProblem(t *testing.T) {
	s, st := newTestServer(t)
	ids := importTexts(t, s, "a", "b")
	for i, id := range ids {
		result := `{"result":[{"id":"s","from_name":"sentiment","to_name":"text","type":"choices","value":{"choices":["Positive"]}}`
		if i == 0 {
			result += `,{"id":"t","from_name":"topic","to_name":"text","type":"choices","value":{"choices":["Sport"]}}`
		}
		if r := callJSON(t, s, "POST", "/api/tasks/"+strconv.FormatInt(id, 10)+"/completions", result+`]}`); r.status != 201 {
			t.Fatalf("completion: %d %s", r.status, r.body)
		}
	}
	cfg := `<View><Image name="img" value="$image"/><Text name="body" value="$body"/>` +
		`<Choices name="sentiment" toName="img"><Choice value="Negative"/><Choice value="Other"/></Choices>` +
		`<Labels name="ner" toName="body"><Label value="X"/></Labels></View>`
	prefix := "You've already completed some tasks, but some of them couldn't be loaded with this config: "
	both := strconv.FormatInt(ids[0], 10) + ", " + strconv.FormatInt(ids[1], 10)
	first := strconv.FormatInt(ids[0], 10)
	want := []string{
		"You have already imported tasks and they are incompatible with a new config. You've specified value=$image, but imported tasks contain only keys: ['text']",
		"You have already imported tasks and they are incompatible with a new config. You've specified value=$body, but imported tasks contain only keys: ['text']",
		prefix + "name=sentiment, toName=text, type=choices are expected",
		prefix + "name=topic, toName=text, type=choices are expected",
		prefix + "there are labels already created for \"sentiment\":\n['Positive']",
		prefix + "name=topic is expected",
		`2 completion(s) use control "sentiment", in tasks ` + both + `: delete or update them first`,
		`1 completion(s) use control "topic", in tasks ` + first + `: delete or update them first`,
		`2 completion(s) use label "Positive" of control "sentiment", in tasks ` + both + `: delete or update them first`,
	}
	body, _ := json.Marshal(map[string]string{"label_config": cfg})
	for _, path := range []string{"/api/validate-config", "/api/project/config"} {
		for range 5 { // the order must not depend on map iteration
			r := callJSON(t, s, "POST", path, string(body))
			if r.status != 400 {
				t.Fatalf("%s: %d %s", path, r.status, r.body)
			}
			var got struct {
				LabelConfig []string `json:"label_config"`
			}
			r.json(t, &got)
			if !reflect.DeepEqual(got.LabelConfig, want) {
				t.Fatalf("%s:\ngot  %q\nwant %q", path, got.LabelConfig, want)
			}
		}
	}
	p, err := st.Project("test")
	if err != nil {
		t.Fatal(err)
	}
	if p.LabelConfig != textConfig {
		t.Errorf("refused config was saved: %s", p.LabelConfig)
	}
}
