package server

import (
	"fmt"
	"strings"
	"testing"
)

func TestImportJSON(t *testing.T) {
	form := "application/x-www-form-urlencoded"
	runScenarios(t, []scenario{
		{name: "list of data items", method: "POST", url: "/api/project/import", body: `[{"text":"a"},{"text":"b"}]`, wantStatus: 201,
			want: []string{`"task_count":2`, `"completion_count":0`, `"prediction_count":0`, `"formats":{"request":2}`, `"new_task_ids":[0,1]`, `"duration":`}},
		{name: "single task", method: "POST", url: "/api/project/import", body: `{"text":"a"}`, wantStatus: 201, want: []string{`"new_task_ids":[0]`, `"formats":{"request":1}`}},
		{name: "data items with predictions and completions", method: "POST", url: "/api/project/import",
			body:       `[{"data":{"text":"a"},"predictions":[{"result":[],"score":0.5}],"completions":[{"result":[]},{"result":[],"lead_time":3}]},{"data":{"text":"b"},"meta":{"source":"x"}}]`,
			wantStatus: 201, want: []string{`"task_count":2`, `"completion_count":2`, `"prediction_count":1`}},
		{name: "undefined key", method: "POST", url: "/api/project/import", body: `[{"$undefined$":"x"}]`, wantStatus: 201},
		{name: "deprecated alias", method: "POST", url: "/api/import", body: `[{"text":"a"}]`, wantStatus: 201},
		{name: "missing key", method: "POST", url: "/api/project/import", body: `[{"text":"a"},{"other":"b"}]`, wantStatus: 400,
			want: []string{`Error   at item 1`, `\"text\" key is expected in task data`, ` :: `}},
		{name: "wrong type", method: "POST", url: "/api/project/import", body: `[{"data":{"text":{"a":1}}}]`, wantStatus: 400, want: []string{`is of type`}},
		{name: "data not object", method: "POST", url: "/api/project/import", body: `[{"data":"x"}]`, wantStatus: 400, want: []string{`Task[data] must be dict`}},
		{name: "item not object", method: "POST", url: "/api/project/import", body: `[1, "x"]`, wantStatus: 400, want: []string{`Task root must be dict`}},
		{name: "completion without result", method: "POST", url: "/api/project/import", body: `[{"data":{"text":"a"},"completions":[{}]}]`, wantStatus: 400, want: []string{`Completion must have \"result\" fields`}},
		{name: "prediction result not list", method: "POST", url: "/api/project/import", body: `[{"data":{"text":"a"},"predictions":[{"result":1}]}]`, wantStatus: 400, want: []string{`\"result\" field in prediction must be list`}},
		{name: "empty list", method: "POST", url: "/api/project/import", body: `[]`, wantStatus: 400, want: []string{`["load_tasks: No tasks added"]`}},
		{name: "empty object", method: "POST", url: "/api/project/import", body: `{}`, wantStatus: 400, want: []string{`No tasks added`}},
		{name: "malformed", method: "POST", url: "/api/project/import", body: `[{"text":`, wantStatus: 400, want: []string{`load_tasks: request body is not valid JSON`}},
		{name: "empty body", method: "POST", url: "/api/project/import", contentType: "application/json", wantStatus: 400, want: []string{`not valid JSON`}},
		{name: "scalar", method: "POST", url: "/api/project/import", body: `"hello"`, wantStatus: 400, want: []string{`No data found in DATA or in FILES`}},
		{name: "number", method: "POST", url: "/api/project/import", body: `42`, wantStatus: 400, want: []string{`No data found`}},
		{name: "no body no type", method: "POST", url: "/api/project/import", wantStatus: 400, want: []string{`No data found in DATA or in FILES`}},
		{name: "form without url", method: "POST", url: "/api/project/import", contentType: form, body: "a=b", wantStatus: 400, want: []string{`No data found`}},
	})
}

func TestImportAllOrNothing(t *testing.T) {
	s, st := newTestServer(t)
	importTexts(t, s, "keep")
	var items []string
	for i := 0; i < 150; i++ {
		items = append(items, `{"wrong":1}`)
	}
	r := callJSON(t, s, "POST", "/api/project/import", "[{\"text\":\"ok\"},"+strings.Join(items, ",")+"]")
	if r.status != 400 {
		t.Fatalf("status %d", r.status)
	}
	var msgs []string
	r.json(t, &msgs)
	if len(msgs) != 100 || msgs[99] != "..." || !strings.HasPrefix(msgs[0], "Error   at item 1:") {
		t.Fatalf("got %d messages, first %q last %q", len(msgs), msgs[0], msgs[len(msgs)-1])
	}
	p, _ := st.Project("test")
	if p.Counters.Tasks != 1 {
		t.Fatalf("tasks after a refused import: %d", p.Counters.Tasks)
	}
}

// TestImportPipelinedRollsBack: a small JSON body is stored while it is
// parsed; a bad item after several stored batches still leaves nothing,
// and the store is free again at once.
func TestImportPipelinedRollsBack(t *testing.T) {
	s, st := newTestServer(t)
	importTexts(t, s, "keep")
	var items []string
	for i := 0; i < 5*pipeBatch; i++ {
		items = append(items, fmt.Sprintf(`{"text":"t%d"}`, i))
	}
	head := "[" + strings.Join(items, ",")
	for _, body := range []string{
		head + `,{"wrong":1}]`,   // an invalid item
		head + `,{"text":`,       // cut short
		head + `] and then text`, // data after the array
	} {
		r := callJSON(t, s, "POST", "/api/project/import", body)
		if r.status != 400 {
			t.Fatalf("%q: status %d %s", body[len(body)-20:], r.status, r.body)
		}
		p, _ := st.Project("test")
		if p.Counters.Tasks != 1 {
			t.Fatalf("%q: %d tasks after a refused import", body[len(body)-20:], p.Counters.Tasks)
		}
	}
	// The same items without the bad one are stored, all of them.
	r := callJSON(t, s, "POST", "/api/project/import", "["+strings.Join(items, ",")+"]")
	if r.status != 201 || !strings.Contains(r.body, fmt.Sprintf(`"task_count":%d`, len(items))) {
		t.Fatalf("status %d %.200s", r.status, r.body)
	}
	if _, err := st.SaveCompletion("test", 1, []byte(`{"result":[]}`), false); err != nil {
		t.Fatal(err)
	}
	var tk wireTask
	callJSON(t, s, "GET", fmt.Sprintf("/api/tasks/%d", len(items)), "").json(t, &tk)
	if tk.ID != int64(len(items)) {
		t.Fatalf("last task %d, want %d", tk.ID, len(items))
	}
}

func TestImportIDsContinue(t *testing.T) {
	s, _ := newTestServer(t)
	if ids := importTexts(t, s, "a", "b"); fmt.Sprint(ids) != "[0 1]" {
		t.Fatal(ids)
	}
	if ids := importTexts(t, s, "c"); fmt.Sprint(ids) != "[2]" {
		t.Fatal(ids)
	}
	callJSON(t, s, "DELETE", "/api/tasks", "")
	if ids := importTexts(t, s, "d"); fmt.Sprint(ids) != "[0]" {
		t.Fatalf("after delete all: %v", ids)
	}
}

func TestImportCompletionsGetIDs(t *testing.T) {
	s, _ := newTestServer(t)
	r := callJSON(t, s, "POST", "/api/project/import", `[{"text":"x"},{"data":{"text":"a"},"completions":[{"id":77,"result":[],"was_cancelled":true}]}]`)
	if r.status != 201 {
		t.Fatal(r.body)
	}
	r = callJSON(t, s, "GET", "/api/tasks/1", "")
	if !strings.Contains(r.body, `"id":1001`) || !strings.Contains(r.body, `"was_cancelled":true`) || !strings.Contains(r.body, `"created_at":`) {
		t.Fatalf("imported completion: %s", r.body)
	}
}
