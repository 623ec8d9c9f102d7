package server

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"

	json "github.com/goccy/go-json"

	"labelstudio/store"
	"labelstudio/store/labelconfig"
)

// undefinedKey is the data key of tasks made from bare files; it is
// replaced by the config's first data key.
const undefinedKey = "$undefined$"

// maxItemErrors is how many item errors an import answer lists.
const maxItemErrors = 100

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
