package server

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	json "github.com/goccy/go-json"
	"github.com/gofiber/fiber/v2"

	"labelstudio/store"
	"labelstudio/store/labelconfig"
)

// undefinedKey is the data key of tasks made from bare files; it is
// replaced by the config's first data key.
const undefinedKey = "$undefined$"

// maxItemErrors is how many item errors an import answer lists.
const maxItemErrors = 100

// importTasks: POST /api/project/import.
func (s *Server) importTasks(c *fiber.Ctx) error {
	start := time.Now()
	ct := strings.ToLower(string(c.Request().Header.ContentType()))
	if !strings.Contains(ct, fiber.MIMEApplicationJSON) {
		return importError("load_tasks: No data found in DATA or in FILES")
	}
	body := bytes.TrimSpace(c.Body())
	if len(body) == 0 {
		return importError("load_tasks: request body is not valid JSON: the body is empty")
	}
	if !utf8.Valid(body) {
		return importError("load_tasks: request body is not valid JSON: it is not UTF-8 text")
	}
	var items []json.RawMessage
	switch body[0] {
	case '[':
		if err := json.Unmarshal(body, &items); err != nil {
			return importError("load_tasks: request body is not valid JSON: " + err.Error())
		}
	case '{':
		if !json.Valid(body) {
			var v any
			err := json.Unmarshal(body, &v)
			return importError(fmt.Sprintf("load_tasks: request body is not valid JSON: %v", err))
		}
		if isEmptyObject(body) {
			return importError("load_tasks: No tasks added")
		}
		items = []json.RawMessage{body}
	default:
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return importError("load_tasks: request body is not valid JSON: " + err.Error())
		}
		return importError("load_tasks: No data found in DATA or in FILES")
	}
	if len(items) == 0 {
		return importError("load_tasks: No tasks added")
	}
	if len(items) > MaxImportTasks {
		return importError(fmt.Sprintf("Maximum task number is %d, current task number is %d", MaxImportTasks, len(items)))
	}
	p, cfg, err := s.project(c)
	if err != nil {
		return err
	}
	tasks, counts, errs := prepareTasks(items, cfg)
	if len(errs) > 0 {
		return importError(errs...)
	}
	res, err := s.st.ImportTasks(p.Name, tasks, store.ImportOptions{})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{
		"task_count":       len(res.TaskIDs),
		"completion_count": counts.completions,
		"prediction_count": counts.predictions,
		"duration":         time.Since(start).Seconds(),
		"formats":          map[string]int{"request": len(items)},
		"new_task_ids":     res.TaskIDs,
	})
}

func isEmptyObject(b []byte) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal(b, &m) == nil && len(m) == 0
}

type importCounts struct{ completions, predictions int }

// prepareTasks validates import items (api.md §4.3) and turns them into
// store tasks. It returns every item error (at most maxItemErrors).
func prepareTasks(items []json.RawMessage, cfg *labelconfig.Config) ([]store.NewTask, importCounts, []string) {
	var counts importCounts
	var errs []string
	tasks := make([]store.NewTask, 0, len(items))
	first := ""
	if cfg != nil {
		first = cfg.FirstDataKey()
	}
	for i, raw := range items {
		nt, hadData, reasons := prepareTask(raw, cfg, first)
		if len(reasons) > 0 {
			if len(errs) >= maxItemErrors-1 {
				errs = append(errs, "...")
				break
			}
			assume := `[assume: item as is = task root with values] `
			if hadData {
				assume = `[assume: item["data"] = task root with values]`
			}
			errs = append(errs, fmt.Sprintf("Error   at item %d: %s %s :: %s", i, strings.Join(reasons, "; "), assume, itemRepr(raw)))
			continue
		}
		counts.completions += len(nt.Completions)
		counts.predictions += countArray(nt.Predictions)
		tasks = append(tasks, nt)
	}
	return tasks, counts, errs
}

func itemRepr(raw []byte) string {
	const max = 300
	s := string(bytes.TrimSpace(raw))
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}

func countArray(raw json.RawMessage) int {
	var a []json.RawMessage
	if json.Unmarshal(raw, &a) != nil {
		return 0
	}
	return len(a)
}

const rootShape = `Task root must be dict with "data", "meta", "completions", "predictions" fields`

// prepareTask validates one import item.
func prepareTask(raw json.RawMessage, cfg *labelconfig.Config, firstKey string) (store.NewTask, bool, []string) {
	var nt store.NewTask
	var item map[string]json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' || json.Unmarshal(t, &item) != nil || item == nil {
		return nt, false, []string{rootShape}
	}
	dataRaw, hadData := item["data"]
	if !hadData {
		dataRaw = bytes.TrimSpace(raw)
	} else {
		if v := bytes.TrimSpace(item["meta"]); len(v) > 0 && v[0] != '{' && v[0] != '[' && string(v) != "null" {
			return nt, true, []string{"Task[meta] must be dict"}
		} else if len(v) > 0 && string(v) != "null" {
			nt.Meta = v
		}
		var err string
		if nt.Completions, err = resultList(item["completions"], "Completion"); err != "" {
			return nt, true, []string{err}
		}
		preds, perr := resultList(item["predictions"], "Prediction")
		if perr != "" {
			return nt, true, []string{perr}
		}
		if preds != nil {
			nt.Predictions = bytes.TrimSpace(item["predictions"])
		}
	}
	var data map[string]json.RawMessage
	if t := bytes.TrimSpace(dataRaw); len(t) == 0 || t[0] != '{' || json.Unmarshal(t, &data) != nil || data == nil {
		return nt, hadData, []string{"Task[data] must be dict"}
	}
	if v, ok := data[undefinedKey]; ok && firstKey != "" {
		delete(data, undefinedKey)
		data[firstKey] = v
		b, err := json.Marshal(data)
		if err != nil {
			return nt, hadData, []string{"data cannot be encoded: " + err.Error()}
		}
		dataRaw = b
	}
	if cfg != nil {
		if reasons := cfg.CheckTaskData(data); len(reasons) > 0 {
			return nt, hadData, reasons
		}
	}
	nt.Data = bytes.TrimSpace(dataRaw)
	nt.DataKeys = make([]string, 0, len(data))
	for k := range data {
		nt.DataKeys = append(nt.DataKeys, k)
	}
	return nt, hadData, nil
}

// resultList checks an optional completions/predictions list: each element
// an object with a "result" list.
func resultList(raw json.RawMessage, what string) ([]json.RawMessage, string) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || string(t) == "null" {
		return nil, ""
	}
	var list []json.RawMessage
	if json.Unmarshal(t, &list) != nil {
		return nil, fmt.Sprintf("Task[%ss] must be list", strings.ToLower(what))
	}
	for _, el := range list {
		var obj map[string]json.RawMessage
		if json.Unmarshal(el, &obj) != nil || obj == nil {
			return nil, what + ` must have "result" fields`
		}
		r, ok := obj["result"]
		if !ok {
			return nil, what + ` must have "result" fields`
		}
		if r = bytes.TrimSpace(r); len(r) == 0 || r[0] != '[' {
			return nil, `"result" field in ` + strings.ToLower(what) + ` must be list`
		}
	}
	return list, ""
}
