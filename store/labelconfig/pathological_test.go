package labelconfig

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestPathologicalInputs feeds inputs built to trigger quadratic behaviour
// or large allocations; each must be answered quickly and without a panic.
func TestPathologicalInputs(t *testing.T) {
	// Generous: quadratic behaviour on 2 MiB would take minutes. The race
	// detector slows encoding/json and friends down about tenfold.
	// A hang guard, not a speed check (speed is measured by the benchmarks):
	// generous enough for a loaded 2-core machine under the race detector.
	budget := 30 * time.Second
	if raceEnabled {
		budget *= 5
	}
	repeatTo := func(prefix, unit, suffix string) string {
		n := (MaxConfigSize - len(prefix) - len(suffix) - 64) / len(unit)
		return prefix + strings.Repeat(unit, n) + suffix
	}
	var singles strings.Builder
	singles.WriteString(`<View><Text name="t" value="$t"/>`)
	for i := 0; singles.Len() < MaxConfigSize-200; i++ {
		fmt.Fprintf(&singles, `<Choices name="c%d" toName="t"><Choice value="A"/></Choices>`, i)
	}
	singles.WriteString(`</View>`)
	var attrs strings.Builder
	attrs.WriteString(`<View`)
	for i := 0; attrs.Len() < MaxConfigSize-200; i++ {
		fmt.Fprintf(&attrs, ` a%d=""`, i)
	}
	attrs.WriteString(` a7="dup"/>`)

	tests := []struct {
		name   string
		config string
		valid  bool
	}{
		{"many CDATA pieces in one element", repeatTo(`<View><Text name="t" value="$t">`, `<![CDATA[x]]>y`, `</Text></View>`), true},
		{"many missing toName items", repeatTo(`<View><Text name="t" value="$t"/><Pairwise name="p" toName="`, `zz,`, `t"/></View>`), false},
		{"many single choices", singles.String(), false},
		{"many attributes with a late duplicate", attrs.String(), false},
		{"many comments", repeatTo(`<View>`, "<!-- - -->\n", `</View>`), true},
		{"only angle brackets", strings.Repeat("<", MaxConfigSize), false},
		{"only equals signs", "<View " + strings.Repeat("=", MaxConfigSize-20) + "/>", false},
		{"deep nesting with wide names", strings.Repeat(`<View name="`+strings.Repeat("n", 1000)+`">`, MaxDepth) + strings.Repeat("</View>", MaxDepth), false},
		{"one very long label value", repeatTo(`<View><Text name="t" value="$t"/><Labels name="l" toName="t"><Label value="`, "ab", `"/></Labels></View>`), true},
		{"long override comment", repeatTo(`<View/><!-- {"data": {"k": [`, `1,`, `1]}} -->`), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			c, err := Validate(tt.config)
			if (err == nil) != tt.valid {
				t.Fatalf("valid = %v, want %v (%.200v)", err == nil, tt.valid, err)
			}
			_ = LineConfig(tt.config)
			_ = FullConfig(tt.config)
			if c != nil {
				if _, err := c.Sample(EditorPreview); err != nil {
					t.Fatal(err)
				}
				_ = c.Line()
			}
			if d := time.Since(start); d > budget {
				t.Fatalf("took %v", d)
			}
			if e, ok := AsError(err); ok && len(e.Messages) > MaxMessages {
				t.Fatalf("%d messages", len(e.Messages))
			}
		})
	}
}
