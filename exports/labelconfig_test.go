package exports

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"labelstudio/store/labelconfig"
)

// TestSchemaFromConfig checks that the schema built from the labelconfig
// package offers the same formats as the tests' own config.md §5 parser, on
// every template config of 0.8.1.
func TestSchemaFromConfig(t *testing.T) {
	needFixtures(t)
	configs, err := filepath.Glob(filepath.Join(fixturesDir, "examples", "*", "config.xml"))
	if err != nil || len(configs) == 0 {
		t.Fatalf("no configs: %v", err)
	}
	for _, path := range configs {
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := labelconfig.Parse(string(text))
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		got := SchemaFromConfig(cfg)
		want, err := parseTestSchema(string(text))
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(filepath.Dir(path))
		if g, w := append(Supported(got), SupportedExtras(got)...), append(Supported(want), SupportedExtras(want)...); !reflect.DeepEqual(g, w) {
			t.Errorf("%s: formats %v, test parser %v", name, g, w)
		}
		if g, w := got.DataKeys(), want.DataKeys(); !reflect.DeepEqual(g, w) {
			t.Errorf("%s: data keys %v, test parser %v", name, g, w)
		}
		if len(got.Controls) != len(want.Controls) {
			t.Errorf("%s: %d controls, test parser %d", name, len(got.Controls), len(want.Controls))
		}
	}
	if s := SchemaFromConfig(nil); len(s.Controls) != 0 || len(Supported(s)) != 4 {
		t.Errorf("nil config: %+v", s)
	}
}
