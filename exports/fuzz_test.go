package exports

import (
	"archive/zip"
	"io"
	"testing"
	"time"

	"labelstudio/store"
)

// fuzzSchema has a control of every kind the formats read, so that every
// format looks at the fuzzed results.
var fuzzSchema = Schema{
	Objects: []Object{{Name: "img", Type: "Image", Value: "image"}},
	Controls: []Control{
		{Name: "tag", Type: "RectangleLabels", ToName: []string{"img"}, Labels: []string{"A"}},
		{Name: "poly", Type: "PolygonLabels", ToName: []string{"img"}},
		{Name: "brush", Type: "BrushLabels", ToName: []string{"img"}},
		{Name: "label", Type: "Labels", ToName: []string{"img"}},
		{Name: "choice", Type: "Choices", ToName: []string{"img"}},
		{Name: "ta", Type: "TextArea", ToName: []string{"img"}},
	},
}

// FuzzFormats feeds arbitrary stored task and completion JSON to every
// format: an export may fail, but must not panic.
func FuzzFormats(f *testing.F) {
	f.Add([]byte(`{"id":1,"data":{"image":"a.jpg"}}`),
		[]byte(`{"id":1001,"created_at":5,"result":[{"from_name":"tag","type":"rectanglelabels","original_width":10,"original_height":10,"value":{"x":1,"y":2,"width":-3,"height":4,"rotation":30,"rectanglelabels":["A"]}}]}`))
	f.Add([]byte(`{"id":2,"data":{"image":"😀\u0000"}}`),
		[]byte(`{"result":[{"from_name":"poly","value":{"points":[[1,2],[3]],"polygonlabels":"A"}},{"from_name":"label","value":{"start":-1,"end":1e300,"labels":[1]}}]}`))
	f.Add([]byte(`{"id":3,"data":{"image":1}}`),
		[]byte(`{"result":[{"from_name":"brush","type":"brushlabels","original_width":2,"original_height":1,"value":{"format":"rle","rle":[0,0,0,8,231,0,0],"brushlabels":["a/b"]}}]}`))
	f.Add([]byte(`{"id":4,"data":{"image":"x"}}`), []byte(`{"result":[{"from_name":"choice","value":{"choices":[["x"]]}},{"from_name":"ta","value":{"text":"\ud800"}}]}`))
	f.Add([]byte(`{`), []byte(`[`))
	f.Fuzz(func(t *testing.T, task, completion []byte) {
		tasks := []store.Task{{ID: 1, Raw: task, Completions: []store.Completion{{ID: 1001, Raw: completion, HasCreatedAt: true}}}}
		opts := Options{Now: time.Unix(0, 0), Media: func(v string) (string, io.ReadCloser, error) {
			return "", nil, ErrNoMedia
		}}
		for _, format := range All() {
			zw := zip.NewWriter(io.Discard)
			_ = format.Write(zw, sliceIterator(tasks), fuzzSchema, opts)
			_ = zw.Close()
		}
	})
}
