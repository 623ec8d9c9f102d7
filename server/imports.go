package server

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	json "github.com/goccy/go-json"

	"labelstudio/server/importer"
	"labelstudio/store"
	"labelstudio/store/labelconfig"
)

// undefinedKey is the data key of tasks made from bare files; it is
// replaced by the config's first data key.
const undefinedKey = importer.UndefinedKey

// maxItemErrors is how many item errors an import answer lists.
const maxItemErrors = 100

// itemRepr is an item as an error message shows it: at most 300 bytes.
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

const rootShape = `Task root must be dict with "data", "meta", "completions", "predictions" fields`

// prepareTask validates one import item. The task it returns points into
// raw, which the caller must not change afterwards. It reads the item with
// importer.ObjectMembers, without decoding values it does not check.
func prepareTask(raw json.RawMessage, cfg *labelconfig.Config, firstKey string) (store.NewTask, bool, []string) {
	return prepareTaskKeys(raw, cfg, firstKey, nil)
}

// prepareTaskKeys is prepareTask with a cache of data key strings (nil for
// none), which saves an allocation per key and task in big imports.
func prepareTaskKeys(raw json.RawMessage, cfg *labelconfig.Config, firstKey string, keys keyCache) (store.NewTask, bool, []string) {
	var nt store.NewTask
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || t[0] != '{' {
		return nt, false, []string{rootShape}
	}
	var dataRaw, meta, comps, preds []byte
	hadData := false
	err := importer.ObjectMembers(t, func(rawKey, v []byte) error {
		key := rawKey[1 : len(rawKey)-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			k, ok := importer.UnquoteKey(rawKey)
			if !ok {
				return errBadKey
			}
			key = []byte(k)
		}
		switch string(key) {
		case "data":
			dataRaw, hadData = v, true
		case "meta":
			meta = v
		case "completions":
			comps = v
		case "predictions":
			preds = v
		}
		return nil
	})
	if err != nil {
		return nt, false, []string{rootShape}
	}
	if !hadData {
		dataRaw = t
	} else {
		if v := meta; len(v) > 0 && v[0] != '{' && v[0] != '[' && string(v) != "null" {
			return nt, true, []string{"Task[meta] must be dict"}
		} else if len(v) > 0 && string(v) != "null" {
			nt.Meta = v
		}
		var msg string
		if nt.Completions, msg = resultList(comps, "Completion"); msg != "" {
			return nt, true, []string{msg}
		}
		list, perr := resultList(preds, "Prediction")
		if perr != "" {
			return nt, true, []string{perr}
		}
		if list != nil {
			nt.Predictions = preds
		}
	}
	if len(dataRaw) == 0 || dataRaw[0] != '{' {
		return nt, hadData, []string{"Task[data] must be dict"}
	}
	data := make(map[string]json.RawMessage, 4)
	undefined := false
	err = importer.ObjectMembers(dataRaw, func(rawKey, v []byte) error {
		key, ok := keys.unquote(rawKey)
		if !ok {
			return errBadKey
		}
		if key == undefinedKey && firstKey != "" {
			undefined = true
		}
		data[key] = v
		return nil
	})
	if err != nil {
		return nt, hadData, []string{"Task[data] must be dict"}
	}
	if undefined {
		// 0.8.1: data[first_key] = data.pop("$undefined$"). The object is
		// written again in its order, $undefined$ renamed in place.
		v := data[undefinedKey]
		delete(data, undefinedKey)
		data[firstKey] = v
		dataRaw = renameUndefined(dataRaw, firstKey)
	}
	if cfg != nil {
		if reasons := cfg.CheckTaskData(data); len(reasons) > 0 {
			return nt, hadData, reasons
		}
	}
	nt.Data = dataRaw
	nt.DataKeys = make([]string, 0, len(data))
	for k := range data {
		nt.DataKeys = append(nt.DataKeys, k)
	}
	return nt, hadData, nil
}

var errBadKey = errors.New("bad key")

// keyCache maps the raw bytes of data keys to their strings.
type keyCache map[string]string

// unquote decodes a raw JSON key, from the cache when it holds it.
func (kc keyCache) unquote(raw []byte) (string, bool) {
	if kc != nil {
		if k, ok := kc[string(raw)]; ok {
			return k, true
		}
	}
	k, ok := importer.UnquoteKey(raw)
	if ok && kc != nil && len(kc) < 4096 {
		kc[string(raw)] = k
	}
	return k, ok
}

// renameUndefined rewrites a data object with its "$undefined$" member
// named first instead, dropping a member that had that name already.
func renameUndefined(data []byte, first string) []byte {
	out := make([]byte, 0, len(data)+len(first))
	out = append(out, '{')
	_ = importer.ObjectMembers(data, func(rawKey, v []byte) error {
		key, _ := importer.UnquoteKey(rawKey)
		switch key {
		case first:
			return nil
		case undefinedKey:
			rawKey = importer.AppendJSONString(nil, first)
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, rawKey...)
		out = append(out, ':')
		out = append(out, v...)
		return nil
	})
	return append(out, '}')
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
