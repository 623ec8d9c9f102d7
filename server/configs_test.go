package server

import (
	"net/url"
	"strings"
	"testing"
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
