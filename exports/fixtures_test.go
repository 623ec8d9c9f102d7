package exports

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"labelstudio/store"
)

// TestFixtureCompletions exports the completions that ship with the Label
// Studio 0.8.1 example projects (../shared/fixtures/ls081, read in place,
// never copied) in every format their config supports, extras included,
// with media resolving to nothing, and checks that each export succeeds
// and parses back.
func TestFixtureCompletions(t *testing.T) {
	needFixtures(t)
	dirs, err := filepath.Glob(filepath.Join(fixturesDir, "examples", "*", "completions"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Skip("no example has completions")
	}
	for _, dir := range dirs {
		example := filepath.Base(filepath.Dir(dir))
		t.Run(example, func(t *testing.T) {
			cfg, err := os.ReadFile(filepath.Join(filepath.Dir(dir), "config.xml"))
			if err != nil {
				t.Fatal(err)
			}
			s, err := parseTestSchema(string(cfg))
			if err != nil {
				t.Fatal(err)
			}
			files, err := filepath.Glob(filepath.Join(dir, "*.json"))
			if err != nil {
				t.Fatal(err)
			}
			var tasks []store.Task
			for _, f := range files {
				raw, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				task, err := recordToTask(raw)
				if err != nil {
					t.Fatalf("%s: %v", f, err)
				}
				tasks = append(tasks, task)
			}
			sort.Slice(tasks, func(i, j int) bool { return tasks[i].ID < tasks[j].ID })
			names := append(Supported(s), SupportedExtras(s)...)
			opts := DefaultOptions()
			opts.Media = func(string) (string, io.ReadCloser, error) { return "", nil, ErrNoMedia }
			for _, name := range names {
				var buf bytes.Buffer
				if err := Write(&buf, name, sliceIterator(tasks), s, opts); err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				entries := readZip(t, buf.Bytes())
				checkParses(t, name, entries)
				if w := entryMap(entries)[warningsFile]; len(w) > 0 {
					t.Logf("%s warnings:\n%s", name, strings.TrimSpace(string(w)))
				}
			}
		})
	}
}
