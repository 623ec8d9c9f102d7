package labelconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SampleMode selects the sample value table (config.md §6.1).
type SampleMode string

// Sample modes.
const (
	// EditorPreview is used by /api/import-example and /render-label-studio;
	// it also applies the config-comment override of config.md §6.3.
	EditorPreview SampleMode = "editor_preview"
	// Upload is used by /api/import-example-file and the Import page.
	Upload SampleMode = "upload"
)

// Sample is a generated sample task.
type Sample struct {
	// Keys are the data keys in order.
	Keys []string
	// Values holds the JSON value of each key.
	Values map[string]json.RawMessage
	// Completions and Predictions come from the config-comment override;
	// nil when absent (encoding/json writes nil as null).
	Completions json.RawMessage
	Predictions json.RawMessage
}

// set stores a copy of a value (the tables are shared), keeping the first
// position of an existing key.
func (s *Sample) set(key string, v json.RawMessage) {
	if _, ok := s.Values[key]; !ok {
		s.Keys = append(s.Keys, key)
	}
	s.Values[key] = append(json.RawMessage(nil), v...)
}

// DataJSON returns the sample data as a compact JSON object with keys in
// order. Strings are not HTML-escaped: a page that embeds the JSON in a
// <script> must escape it (html/template or json.HTMLEscape do).
func (s *Sample) DataJSON() json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range s.Keys {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, k)
		b.WriteByte(':')
		b.Write(compactJSON(s.Values[k]))
	}
	b.WriteByte('}')
	return b.Bytes()
}

// compactJSON removes insignificant white space from valid JSON.
func compactJSON(v []byte) json.RawMessage {
	if v == nil {
		return nil
	}
	var c bytes.Buffer
	if err := json.Compact(&c, v); err != nil {
		return v
	}
	return c.Bytes()
}

// SampleTask parses text and generates its sample task (config.md §6). data
// is the ordered JSON object of sample data; completions and predictions
// come from the config-comment override (EditorPreview only) and are nil
// when absent. The error is an *Error for a config that is not well-formed.
func SampleTask(text string, mode SampleMode) (data, completions, predictions json.RawMessage, err error) {
	c, err := Parse(text)
	if err != nil {
		return nil, nil, nil, err
	}
	s, err := c.Sample(mode)
	if err != nil {
		return nil, nil, nil, err
	}
	return s.DataJSON(), s.Completions, s.Predictions, nil
}

// Sample generates the sample task of the config (config.md §6.2, and §6.3
// in EditorPreview mode).
func (c *Config) Sample(mode SampleMode) (*Sample, error) {
	base, ok := sampleTables[mode]
	if !ok {
		return nil, fmt.Errorf("labelconfig: unknown sample mode %q", mode)
	}
	examples := make(map[string]json.RawMessage, len(base)+3)
	for k, v := range base {
		examples[k] = v
	}
	s := &Sample{Values: map[string]json.RawMessage{}}
	elems := c.doc.elems
	for i := 1; i < len(elems); i++ {
		e := &elems[i]
		value, ok := e.Attr("value")
		if !ok {
			continue
		}
		valueType, hasType := e.Attr("valueType")
		if !hasType {
			valueType, hasType = e.Attr("valuetype")
		}
		if e.Tag == "List" {
			k := "text" // 0.8.1 leaves this case undefined; "text" passes import checks
			if ev, ok := e.Attr("elementValue"); ok {
				k = strings.ReplaceAll(ev, "$", "")
			}
			examples["List"] = listExample(k)
		}
		if valueType == "url" {
			examples["Text"] = examples["TextUrl"]
		} else {
			examples["Text"] = examples["TextRaw"]
		}
		if valueType == "url" || !hasType {
			examples["TimeSeries"] = examples["TimeSeriesUrl"]
		} else {
			examples["TimeSeries"] = examples["TimeSeriesRaw"]
		}
		if !strings.HasPrefix(value, "$") {
			continue
		}
		v, ok := examples[value]
		if !ok {
			v, ok = examples[e.Tag]
		}
		if !ok {
			v = jsonOf("Something")
		}
		s.set(value[1:], v)
	}
	for i := 1; i < len(elems); i++ {
		if elems[i].Tag == "TimeSeries" {
			timeSeriesSample(s, &elems[i])
		}
	}
	if mode == EditorPreview {
		applyOverride(s, c.raw)
	}
	return s, nil
}

func listExample(k string) json.RawMessage {
	return jsonOf([]map[string]string{{k: "Hello world"}, {k: "Goodbye world"}})
}

// timeSeriesSample replaces the sample of a TimeSeries key: a URL sample
// becomes a /samples/time-series.csv link, a JSON sample generated columns.
func timeSeriesSample(s *Sample, e *Element) {
	value, _ := e.Attr("value")
	if !strings.HasPrefix(value, "$") {
		return
	}
	key := value[1:]
	cur, ok := s.Values[key]
	if !ok {
		return
	}
	timeColumn, _ := e.Attr("timeColumn")
	sep, _ := e.Attr("sep")
	timeFormat, _ := e.Attr("timeFormat")
	var columns []string
	for _, ch := range e.Children {
		if ch.Tag != "Channel" {
			continue
		}
		if col, ok := ch.Attr("column"); ok {
			columns = append(columns, col)
		}
	}
	switch kindOf(cur) {
	case jsonStr:
		q := "time=" + url.QueryEscape(timeColumn) + "&values=" + url.QueryEscape(strings.Join(columns, ","))
		if sep != "" {
			q += "&sep=" + url.QueryEscape(sep)
		}
		if timeFormat != "" {
			q += "&tf=" + url.QueryEscape(timeFormat)
		}
		s.Values[key] = jsonOf("/samples/time-series.csv?" + q)
	case jsonDict:
		s.Values[key] = generatedSeries(timeColumn, timeFormat, columns)
	}
}

// seriesLength is the number of points of a generated time series.
const seriesLength = 100

// generatedSeries builds {timeColumn: [...], column: [...], ...} with 100
// points: times 0..99, or daily dates from 2020-01-01 when timeFormat is a
// strftime pattern or "yyyy-MM-dd"; values are pseudo-random normal floats
// from a fixed seed, so the same config always gives the same sample.
func generatedSeries(timeColumn, timeFormat string, columns []string) json.RawMessage {
	if timeFormat == "yyyy-MM-dd" {
		timeFormat = "%Y-%m-%d"
	}
	var b bytes.Buffer
	b.WriteByte('{')
	written := map[string]bool{}
	first := true
	field := func(name string) bool {
		if written[name] {
			return false
		}
		written[name] = true
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeJSONString(&b, name)
		b.WriteByte(':')
		return true
	}
	if timeColumn != "" && field(timeColumn) {
		b.WriteByte('[')
		day := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := 0; i < seriesLength; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			if strings.Contains(timeFormat, "%") {
				writeJSONString(&b, Strftime(day.AddDate(0, 0, i), timeFormat))
			} else {
				b.WriteString(strconv.Itoa(i))
			}
		}
		b.WriteByte(']')
	}
	rng := rand.New(rand.NewPCG(81, 2020))
	for _, col := range columns {
		if !field(col) {
			continue
		}
		b.WriteByte('[')
		for i := 0; i < seriesLength; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			v := math.Round(rng.NormFloat64()*1e4) / 1e4
			b.WriteString(strconv.FormatFloat(v, 'f', -1, 64))
		}
		b.WriteByte(']')
	}
	b.WriteByte('}')
	return b.Bytes()
}

// Strftime formats t with the common C strftime directives (as Python does
// for a naive datetime); unknown directives are kept literally. Time-series
// configs give their time formats this way.
func Strftime(t time.Time, layout string) string {
	var b strings.Builder
	for i := 0; i < len(layout); i++ {
		c := layout[i]
		if c != '%' || i+1 >= len(layout) {
			b.WriteByte(c)
			continue
		}
		i++
		switch layout[i] {
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'e':
			fmt.Fprintf(&b, "%2d", t.Day())
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'I':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			fmt.Fprintf(&b, "%02d", h)
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'f':
			fmt.Fprintf(&b, "%06d", t.Nanosecond()/1000)
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'p':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'b', 'h':
			b.WriteString(t.Month().String()[:3])
		case 'B':
			b.WriteString(t.Month().String())
		case 'a':
			b.WriteString(t.Weekday().String()[:3])
		case 'A':
			b.WriteString(t.Weekday().String())
		case 'w':
			b.WriteString(strconv.Itoa(int(t.Weekday())))
		case 'z', 'Z':
			// naive datetime: empty, like Python
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(layout[i])
		}
	}
	return b.String()
}

// overrideText finds the JSON of the first config-comment override: the
// text from the "{" of the first "<!-- {" (or, failing that, "<!--{") up to
// the next "-->".
func overrideText(raw string) (string, bool) {
	i := strings.Index(raw, "<!-- {")
	if i >= 0 {
		i += len("<!-- ")
	} else if i = strings.Index(raw, "<!--{"); i >= 0 {
		i += len("<!--")
	} else {
		return "", false
	}
	end := strings.Index(raw[i:], "-->")
	if end < 0 {
		return "", false
	}
	return raw[i : i+end], true
}

// applyOverride merges the config-comment override into the sample
// (config.md §6.3). Anything that is not a JSON object is ignored.
func applyOverride(s *Sample, raw string) {
	text, ok := overrideText(raw)
	if !ok {
		return
	}
	keys, vals, ok := orderedObject([]byte(text))
	if !ok {
		return
	}
	data, hasData := vals["data"]
	_, hasPred := vals["predictions"]
	_, hasComp := vals["completions"]
	switch {
	case hasData:
		if dk, dv, ok := orderedObject(data); ok {
			for _, k := range dk {
				s.set(k, dv[k])
			}
		}
	case !hasPred && !hasComp:
		for _, k := range keys {
			s.set(k, vals[k])
		}
	}
	if hasComp {
		s.Completions = compactJSON(vals["completions"])
	}
	if hasPred {
		s.Predictions = compactJSON(vals["predictions"])
	}
}

// orderedObject decodes a JSON object keeping its key order; a repeated key
// keeps its first position and its last value.
func orderedObject(data []byte) ([]string, map[string]json.RawMessage, bool) {
	if !json.Valid(data) {
		return nil, nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, nil, false
	}
	var keys []string
	vals := map[string]json.RawMessage{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, false
		}
		k, ok := tok.(string)
		if !ok {
			return nil, nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, false
		}
		if _, seen := vals[k]; !seen {
			keys = append(keys, k)
		}
		vals[k] = v
	}
	return keys, vals, true
}

// jsonOf encodes v as compact JSON without HTML escaping.
func jsonOf(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return json.RawMessage("null")
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}
