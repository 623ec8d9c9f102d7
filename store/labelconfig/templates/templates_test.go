package templates

import (
	"testing"

	"labelstudio/store/labelconfig"
)

// TestGalleryValidates checks every template: it parses, validates, has a
// title, a known complexity, a group, and at least one data key.
func TestGalleryValidates(t *testing.T) {
	all, err := All()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 25 {
		t.Fatalf("only %d templates", len(all))
	}
	groups := map[string]int{}
	for _, tp := range all {
		cfg, err := labelconfig.Validate(tp.Config)
		if err != nil {
			t.Errorf("%s: %v", tp.Name, err)
			continue
		}
		if tp.Title == "" || tp.Group == "" || (tp.Complexity != "basic" && tp.Complexity != "advanced") {
			t.Errorf("%s: meta %+v", tp.Name, tp)
		}
		if len(cfg.DataKeys()) == 0 || len(cfg.Controls()) == 0 {
			t.Errorf("%s: no data keys or no controls", tp.Name)
		}
		if _, _, _, err := labelconfig.SampleTask(tp.Config, labelconfig.EditorPreview); err != nil {
			t.Errorf("%s: sample task: %v", tp.Name, err)
		}
		groups[tp.Group]++
	}
	for _, g := range []string{"image", "text", "audio", "html", "time-series", "layouts", "nested", "per-region", "other"} {
		if groups[g] == 0 {
			t.Errorf("no template in group %s", g)
		}
	}
	if all[0].Complexity != "basic" || all[len(all)-1].Complexity != "advanced" {
		t.Errorf("basic templates must come first")
	}
	if all[0].Group != "audio" {
		t.Errorf("first group = %s, want audio", all[0].Group)
	}
}

func TestGet(t *testing.T) {
	tp, err := Get("image_bbox")
	if err != nil || tp.Group != "image" {
		t.Fatal(tp, err)
	}
	if _, err := Get("nope"); err == nil {
		t.Fatal("unknown template found")
	}
}
