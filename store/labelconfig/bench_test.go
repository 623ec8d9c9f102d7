package labelconfig

import (
	"fmt"
	"strings"
	"testing"
)

// bigConfig builds a valid config of at least size bytes out of repeated
// blocks of text classification with nested views.
func bigConfig(size int) string {
	var b strings.Builder
	b.Grow(size + 1024)
	b.WriteString("<!-- a large generated config -->\n<View>\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, `  <View style="display: flex; padding: 4px">
    <Header value="Question %d: how does this text sound?"/>
    <Text name="text%d" value="$text%d"/>
    <Choices name="choice%d" toName="text%d" choice="single" showInline="true">
      <Choice value="Positive" background="green"/>
      <Choice value="Negative" background="red"/>
      <Choice value="Neutral" alias="meh"/>
    </Choices>
  </View>
`, i, i, i, i, i)
	}
	b.WriteString("</View>\n")
	return b.String()
}

// manyLabels builds a config whose Labels control has n labels.
func manyLabels(n int) string {
	var b strings.Builder
	b.WriteString("<View>\n  <Text name=\"text\" value=\"$text\"/>\n  <Labels name=\"label\" toName=\"text\">\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    <Label value=\"Label number %d\" background=\"#%06x\"/>\n", i, i*97%0xffffff)
	}
	b.WriteString("  </Labels>\n</View>\n")
	return b.String()
}

func benchmarkValidate(b *testing.B, config string) {
	b.SetBytes(int64(len(config)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Validate(config); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidate1MB validates a 1 MB config (the target is under 50 ms).
func BenchmarkValidate1MB(b *testing.B) { benchmarkValidate(b, bigConfig(1<<20)) }

// BenchmarkValidate10kLabels validates a config with 10,000 labels (the
// target is under 50 ms).
func BenchmarkValidate10kLabels(b *testing.B) { benchmarkValidate(b, manyLabels(10000)) }

// BenchmarkLineConfig1MB derives the line config of a 1 MB config.
func BenchmarkLineConfig1MB(b *testing.B) {
	config := bigConfig(1 << 20)
	b.SetBytes(int64(len(config)))
	for b.Loop() {
		_ = LineConfig(config)
	}
}

func TestBenchConfigsAreRealistic(t *testing.T) {
	c, err := Validate(bigConfig(1 << 20))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Controls()) < 1000 || len(c.Raw()) < 1<<20 {
		t.Errorf("%d controls in %d bytes", len(c.Controls()), len(c.Raw()))
	}
	c, err = Validate(manyLabels(10000))
	if err != nil {
		t.Fatal(err)
	}
	if ct, _ := c.Control("label"); len(ct.Labels) != 10000 {
		t.Errorf("%d labels", len(ct.Labels))
	}
}
