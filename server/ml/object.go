package ml

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	json "github.com/goccy/go-json"
)

// Member is one key of a JSON object with its value as raw JSON.
type Member struct {
	Key   string
	Value json.RawMessage
}

// Object is a JSON object as its members in document order, values kept
// byte for byte, so that a task can be changed without re-encoding (and
// reordering) its data.
type Object []Member

// ParseObject splits a JSON object into its members.
func ParseObject(b []byte) (Object, error) {
	dec := stdjson.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if d, ok := tok.(stdjson.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	var o Object
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not a JSON object: %w", err)
		}
		key, ok := tok.(string)
		if !ok {
			return nil, errors.New("not a JSON object: a key is not a string")
		}
		var v stdjson.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("not a JSON object: value of %q: %w", key, err)
		}
		o = append(o, Member{Key: key, Value: json.RawMessage(v)})
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not a JSON object: text after the object")
	}
	return o, nil
}

// Get returns the value of key (the last one when the key repeats).
func (o Object) Get(key string) (json.RawMessage, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if o[i].Key == key {
			return o[i].Value, true
		}
	}
	return nil, false
}

// Set gives key the value v: in place of its first occurrence (later
// repeats are dropped), else at the end. It returns the changed object.
func (o Object) Set(key string, v json.RawMessage) Object {
	out := make(Object, 0, len(o)+1)
	done := false
	for _, m := range o {
		if m.Key != key {
			out = append(out, m)
			continue
		}
		if !done {
			out = append(out, Member{Key: key, Value: v})
			done = true
		}
	}
	if !done {
		out = append(out, Member{Key: key, Value: v})
	}
	return out
}

// Delete removes every occurrence of key.
func (o Object) Delete(key string) Object {
	out := make(Object, 0, len(o))
	for _, m := range o {
		if m.Key != key {
			out = append(out, m)
		}
	}
	return out
}

// Bytes writes the object as JSON.
func (o Object) Bytes() []byte {
	n := 2
	for _, m := range o {
		n += len(m.Key) + len(m.Value) + 4
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, m := range o {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, m.Key)
		b = append(b, ':')
		b = append(b, m.Value...)
	}
	return append(b, '}')
}

func appendString(b []byte, s string) []byte {
	q, err := marshal(s)
	if err != nil { // a Go string always encodes
		return append(b, `""`...)
	}
	return append(b, q...)
}

// RawArray writes items as a JSON array.
func RawArray(items []json.RawMessage) json.RawMessage {
	n := 2
	for _, it := range items {
		n += len(it) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, '[')
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it...)
	}
	return append(b, ']')
}

// AllowFunc tells whether a result item's (from_name, to_name, type) is
// one the labeling config has.
type AllowFunc func(fromName, toName, typ string) bool

// Invalid describes a result item of a prediction that was left out.
type Invalid struct {
	FromName string `json:"from_name"`
	ToName   string `json:"to_name"`
	Type     string `json:"type"`
	Reason   string `json:"reason"`
}

func (v Invalid) String() string {
	return fmt.Sprintf("from_name=%q to_name=%q type=%q: %s", v.FromName, v.ToName, v.Type, v.Reason)
}

// PreparePrediction checks a prediction a backend returned and makes it
// the object Label Studio stores: "result" must be a list; result items
// whose (from_name, to_name, type) allow refuses are removed and returned
// (allow nil accepts all; relation items, which link regions and have no
// from_name, are kept); "created_by" and "created_date" are set.
func PreparePrediction(raw json.RawMessage, createdBy, createdDate string, allow AllowFunc) (json.RawMessage, []Invalid, error) {
	o, err := ParseObject(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("prediction: %w", err)
	}
	res, ok := o.Get("result")
	if !ok {
		return nil, nil, errors.New(`prediction has no "result"`)
	}
	var items []json.RawMessage
	if err := json.Unmarshal(res, &items); err != nil || items == nil {
		return nil, nil, errors.New(`prediction "result" is not a list`)
	}
	var bad []Invalid
	kept := items[:0:0]
	for _, it := range items {
		if inv, ok := checkItem(it, allow); !ok {
			bad = append(bad, inv)
			continue
		}
		kept = append(kept, it)
	}
	if len(bad) > 0 {
		o = o.Set("result", RawArray(kept))
	}
	by, err := marshal(createdBy)
	if err != nil {
		return nil, nil, err
	}
	date, err := marshal(createdDate)
	if err != nil {
		return nil, nil, err
	}
	o = o.Set("created_by", by).Set("created_date", date)
	return o.Bytes(), bad, nil
}

func checkItem(raw json.RawMessage, allow AllowFunc) (Invalid, bool) {
	var it struct {
		FromName *string `json:"from_name"`
		ToName   *string `json:"to_name"`
		Type     *string `json:"type"`
	}
	if err := json.Unmarshal(raw, &it); err != nil {
		return Invalid{Reason: "the result item is not an object with string from_name, to_name and type"}, false
	}
	inv := Invalid{FromName: deref(it.FromName), ToName: deref(it.ToName), Type: deref(it.Type)}
	if it.FromName == nil && strings.EqualFold(inv.Type, "relation") {
		return inv, true
	}
	if allow == nil {
		return inv, true
	}
	if it.FromName == nil || it.ToName == nil || it.Type == nil {
		inv.Reason = "from_name, to_name and type are required"
		return inv, false
	}
	if !allow(inv.FromName, inv.ToName, inv.Type) {
		inv.Reason = "the labeling config has no such control"
		return inv, false
	}
	return inv, true
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
