package frontend

import (
	"bytes"
	"io/fs"
	"strings"
	"testing"
)

func TestLabelingBundle(t *testing.T) {
	if !BundleBuilt() {
		t.Skip("the widget bundle is not built")
	}
	js := staticFile(t, EditorJS)
	glue := staticFile(t, LabelingJS)
	b := LabelingBundle()
	if !bytes.HasSuffix(b, glue) {
		t.Fatal("the bundle does not end with labeling.js")
	}
	head := bytes.TrimSuffix(b, glue)
	if !bytes.HasSuffix(head, []byte("\n;\n")) {
		t.Fatalf("the two scripts are not kept apart: %q", head[len(head)-40:])
	}
	head = bytes.TrimSuffix(head, []byte("\n;\n"))
	if !bytes.HasPrefix(js, head) || len(head) < len(js)-100 {
		t.Fatalf("the bundle does not start with main.js (%d of %d bytes)", len(head), len(js))
	}
	if rest := string(js[len(head):]); strings.TrimSpace(rest) != "//# sourceMappingURL=main.js.map" {
		t.Fatalf("left out of main.js: %q", rest)
	}
	if d := Derived(); !bytes.Equal(d[LabelingBundleJS], b) || !bytes.Equal(d[EditorLeanCSS], LeanEditorCSS()) || len(d) != 2 {
		t.Fatalf("Derived: %d files", len(d))
	}
}

// staticFile reads a file of the embedded tree or fails the test.
func staticFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(Static(), name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
