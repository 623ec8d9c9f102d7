package labelconfig

import (
	"reflect"
	"testing"
)

const compatConfig = `<View><Text name="text" value="$text"/><Image name="img" value="$image"/>` +
	`<Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative" alias="neg"/></Choices>` +
	`<RectangleLabels name="box" toName="img,text"><Label value="Car"/></RectangleLabels></View>`

func TestCheckInputCompatibility(t *testing.T) {
	c, err := Validate(compatConfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckInputCompatibility([]string{"image", "text", "other"}); err != nil {
		t.Errorf("compatible keys rejected: %v", err)
	}
	got := errorMessages(t, c.CheckInputCompatibility([]string{"text", "body"}))
	want := []string{"You have already imported tasks and they are incompatible with a new config. " +
		"You've specified value=$image, but imported tasks contain only keys: ['body', 'text']"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q", got)
	}
}

func TestCheckOutputCompatibility(t *testing.T) {
	c, err := Validate(compatConfig)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		recorded []ResultKey
		labels   map[string][]string
		want     []string
	}{
		{"compatible", []ResultKey{{"sentiment", "text", "choices"}, {"box", "img", "rectanglelabels"}},
			map[string][]string{"sentiment": {"Positive", "neg"}, "box": {"Car"}}, nil},
		{"only the first toName item is allowed", []ResultKey{{"box", "text", "rectanglelabels"}}, nil,
			[]string{compatPrefix + "name=box, toName=text, type=rectanglelabels are expected"}},
		{"type must match the tag", []ResultKey{{"sentiment", "text", "labels"}}, nil,
			[]string{compatPrefix + "name=sentiment, toName=text, type=labels are expected"}},
		{"control gone", nil, map[string][]string{"old": {"x"}},
			[]string{compatPrefix + "name=old is expected"}},
		{"labels gone", nil, map[string][]string{"sentiment": {"Positive", "Negative", "Zebra", "Negative"}},
			[]string{compatPrefix + "there are labels already created for \"sentiment\":\n['Negative', 'Zebra']"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errorMessages(t, c.CheckOutputCompatibility(tt.recorded, tt.labels))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}
