package labelconfig

import (
	"sync"
	"testing"
)

// TestConcurrentUse shares one Config between goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	c, err := Parse(`<!-- {"data": {"extra": 1}} --><View><Image name="i" value="$image"/>` +
		`<Choices name="c" toName="i"><Choice value="A"/><Choice value="B"/></Choices></View>`)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	results := make([]string, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Validate(); err != nil {
				t.Error(err)
			}
			s, err := c.Sample(EditorPreview)
			if err != nil {
				t.Error(err)
				return
			}
			s.Values["image"][0] = 'X' // callers may scribble on their copy
			_ = c.Controls()
			_ = c.CheckTaskData(nil)
			results[i] = c.Line() + string(c.ParsedConfig())
		}()
	}
	wg.Wait()
	for _, r := range results[1:] {
		if r != results[0] {
			t.Fatal("goroutines saw different results")
		}
	}
	data, _, _, err := SampleTask(c.Raw(), EditorPreview)
	if err != nil || string(data) != `{"image":"static/samples/sample.jpg","extra":1}` {
		t.Fatalf("shared sample table changed: %s %v", data, err)
	}
}
