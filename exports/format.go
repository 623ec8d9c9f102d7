package exports

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"labelstudio/store"
)

// Iterator calls fn for every task to export, in ascending task id order,
// and stops at the first error fn returns. Store.EachTask fits it:
//
//	it := func(fn func(store.Task) error) error { return st.EachTask(project, opts.OnlyCompleted, fn) }
//
// An Iterator may be called more than once.
type Iterator func(fn func(store.Task) error) error

// Options tune an export. The zero value is valid; DefaultOptions gives the
// options of Label Studio 0.8.1.
type Options struct {
	// OnlyCompleted exports only tasks that have at least one completion.
	// When false, JSON also lists the tasks without completions (with an
	// empty "completions" list); the other formats export completions only,
	// so it does not change them. The Iterator should match it.
	OnlyCompleted bool
	// IncludePredictions keeps each task's "predictions" in the JSON export.
	// 0.8.1 left them out; the other formats never contain them.
	IncludePredictions bool
	// Now is the export time: the COCO info year and the zip entries' time.
	// Zero means time.Now().
	Now time.Time
	// Media, when set, resolves a task's image or audio value to a file to
	// copy into the export (COCO, VOC and YOLO images/, ASR_MANIFEST audio/).
	// When nil, no media is copied and file names keep the task's value.
	Media MediaFunc
}

// DefaultOptions returns the options that reproduce Label Studio 0.8.1:
// completed tasks only, no predictions.
func DefaultOptions() Options { return Options{OnlyCompleted: true} }

// now returns the export time.
func (o Options) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

// MediaFunc opens the media file that a task data value (an image or audio
// URL or path) refers to. It returns the file's base name — which the export
// uses inside images/ or audio/ and which must be unique per distinct file —
// and its content, which the export closes. It returns an error wrapping
// ErrNoMedia when the value names no file it can provide; the export then
// keeps the value as the file name. Any other error is reported in
// warnings.txt and the value is kept too.
type MediaFunc func(value string) (name string, body io.ReadCloser, err error)

// ErrNoMedia is returned by a MediaFunc for values that name no file it can
// provide.
var ErrNoMedia = errors.New("no media file for this value")

// Format is one export format. Formats are stateless values, safe for
// concurrent use.
type Format interface {
	// Name is the format's name as used in ?format=, e.g. "COCO".
	Name() string
	// Supports reports whether the format is offered for a config.
	Supports(s Schema) bool
	// Write writes the format's files, and warnings.txt when something was
	// skipped, into zw. It does not close zw.
	Write(zw *zip.Writer, tasks Iterator, s Schema, opts Options) error
}

// Errors returned by Write; they are wrapped with the format name.
var (
	// ErrUnknownFormat is a format name that no Format has.
	ErrUnknownFormat = errors.New("unknown export format")
	// ErrUnsupportedFormat is a format that the project's config does not
	// support (exports.md §1).
	ErrUnsupportedFormat = errors.New("export format not supported by the labeling config")
)

// formats lists every format: the nine of Label Studio 0.8.1 in its order,
// then the extras.
var formats = []Format{
	jsonFormat{}, jsonMinFormat{}, tableFormat{name: "CSV", sep: ','}, tableFormat{name: "TSV", sep: '\t'},
	conllFormat{}, cocoFormat{}, vocFormat{}, brushFormat{png: false}, brushFormat{png: true},
	yoloFormat{}, asrFormat{},
}

// original081 is the number of leading entries of formats that Label Studio
// 0.8.1 offered.
const original081 = 9

// All returns every format, the nine of Label Studio 0.8.1 first (in the
// order of its Export page), then YOLO and ASR_MANIFEST.
func All() []Format { return append([]Format(nil), formats...) }

// Names returns the names of All, in the same order.
func Names() []string {
	out := make([]string, len(formats))
	for i, f := range formats {
		out[i] = f.Name()
	}
	return out
}

// Lookup returns the format with the given name (case-sensitive, as in
// 0.8.1).
func Lookup(name string) (Format, bool) {
	for _, f := range formats {
		if f.Name() == name {
			return f, true
		}
	}
	return nil, false
}

// Supported returns the names of the Label Studio 0.8.1 formats offered for
// a config, in the Export page order (exports.md §1). It never lists the
// extras; see SupportedExtras.
func Supported(s Schema) []string {
	var out []string
	for _, f := range formats[:original081] {
		if f.Supports(s) {
			out = append(out, f.Name())
		}
	}
	return out
}

// SupportedExtras returns the names of the formats beyond Label Studio 0.8.1
// (YOLO, ASR_MANIFEST) that a config supports. A 0.8.1-compatible server
// does not list them by default.
func SupportedExtras(s Schema) []string {
	var out []string
	for _, f := range formats[original081:] {
		if f.Supports(s) {
			out = append(out, f.Name())
		}
	}
	return out
}

// Filename returns the name 0.8.1 gives an export made at t:
// YYYY-MM-DD-HH-MM-SS.zip, in t's location.
func Filename(t time.Time) string { return t.Format("2006-01-02-15-04-05") + ".zip" }

// Write writes the export of tasks in the named format as a zip archive to
// w, typically an HTTP response. It fails before writing anything when the
// format is unknown (ErrUnknownFormat) or not supported by the schema
// (ErrUnsupportedFormat).
func Write(w io.Writer, format string, tasks Iterator, s Schema, opts Options) error {
	f, ok := Lookup(format)
	if !ok {
		return fmt.Errorf("%w %q: valid formats are %s", ErrUnknownFormat, format, strings.Join(Names(), ", "))
	}
	if !f.Supports(s) {
		offered := append(Supported(s), SupportedExtras(s)...)
		return fmt.Errorf("%w: %s (this config supports %s)", ErrUnsupportedFormat, format, strings.Join(offered, ", "))
	}
	zw := zip.NewWriter(w)
	if err := f.Write(zw, tasks, s, opts); err != nil {
		return fmt.Errorf("export %s: %w", format, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("export %s: finish zip: %w", format, err)
	}
	return nil
}

// genericFormat is embedded by the formats every config supports.
type genericFormat struct{}

// Supports reports true: every config supports the generic formats.
func (genericFormat) Supports(Schema) bool { return true }
