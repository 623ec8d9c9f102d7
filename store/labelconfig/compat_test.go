package labelconfig

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const compatConfig = `<View><Text name="text" value="$text"/><Image name="img" value="$image"/>` +
	`<Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative" alias="neg"/></Choices>` +
	`<RectangleLabels name="box" toName="img,text"><Label value="Car"/></RectangleLabels></View>`

const inputPrefix = "You have already imported tasks and they are incompatible with a new config. You've specified value=$"

// compatProblems runs CheckCompatibility and returns its problems (nil when
// the config fits), checking the error's type and text on the way.
func compatProblems(t *testing.T, c *Config, s Stored) []Incompatibility {
	t.Helper()
	err := c.CheckCompatibility(s)
	if err == nil {
		return nil
	}
	var ce *CompatError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *CompatError", err, err)
	}
	if len(ce.Problems) == 0 {
		t.Fatal("*CompatError without problems")
	}
	if err.Error() != strings.Join(ce.Messages(), "; ") {
		t.Fatalf("Error() = %q", err.Error())
	}
	return ce.Problems
}

func messagesOf(problems []Incompatibility) []string {
	if problems == nil {
		return nil
	}
	return (&CompatError{Problems: problems}).Messages()
}

func TestCheckCompatibilityOneProblem(t *testing.T) {
	c, err := Validate(compatConfig)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		stored Stored
		want   []string
	}{
		{"nothing stored", Stored{}, nil},
		{"compatible keys", Stored{HasTasks: true, DataKeys: []string{"image", "text", "other"}}, nil},
		{"missing key, the keys listed sorted", Stored{HasTasks: true, DataKeys: []string{"text", "body"}},
			[]string{inputPrefix + "image, but imported tasks contain only keys: ['body', 'text']"}},
		{"keys are not checked without tasks", Stored{DataKeys: nil}, nil},
		{"compatible completions", Stored{
			Results: []ResultKey{{"sentiment", "text", "choices"}, {"box", "img", "rectanglelabels"}},
			Labels:  map[string][]string{"sentiment": {"Positive", "neg"}, "box": {"Car"}}}, nil},
		{"only the first toName item is allowed", Stored{Results: []ResultKey{{"box", "text", "rectanglelabels"}}},
			[]string{compatPrefix + "name=box, toName=text, type=rectanglelabels are expected"}},
		{"type must match the tag", Stored{Results: []ResultKey{{"sentiment", "text", "labels"}}},
			[]string{compatPrefix + "name=sentiment, toName=text, type=labels are expected"}},
		{"control gone", Stored{Labels: map[string][]string{"old": {"x"}}},
			[]string{compatPrefix + "name=old is expected"}},
		{"labels gone, listed sorted and once", Stored{Labels: map[string][]string{"sentiment": {"Positive", "Zebra", "Negative", "Zebra"}}},
			[]string{compatPrefix + "there are labels already created for \"sentiment\":\n['Negative', 'Zebra']"}},
		{"names quoted as Python prints them", Stored{Labels: map[string][]string{"sentiment": {"it's", `a\b`}}},
			[]string{compatPrefix + "there are labels already created for \"sentiment\":\n['a\\\\b', \"it's\"]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := messagesOf(compatProblems(t, c, tt.stored))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestCheckCompatibilityListsEveryProblem: one check reports all problems,
// in a fixed order whatever the order of what is stored.
func TestCheckCompatibilityListsEveryProblem(t *testing.T) {
	c, err := Validate(`<View><Text name="body" value="$body"/><Image name="img" value="$image"/><Audio name="audio" value="$audio"/>` +
		`<Choices name="sentiment" toName="body"><Choice value="Positive"/><Choice value="Other"/></Choices>` +
		`<RectangleLabels name="box" toName="img"><Label value="Car"/></RectangleLabels>` +
		`<TextArea name="note" toName="body,audio"/>` +
		`<Labels name="ner" toName="body"><Label value="PER"/></Labels></View>`)
	if err != nil {
		t.Fatal(err)
	}
	stored := Stored{
		HasTasks: true,
		DataKeys: []string{"text", "image"},
		Results: []ResultKey{
			{"sentiment", "text", "choices"},
			{"box", "img", "rectanglelabels"},
			{"old", "text", "labels"},
			{"box", "img", "polygonlabels"},
		},
		Labels: map[string][]string{
			"sentiment": {"Positive", "Negative"},
			"old":       {"X"},
			"box":       {"Truck", "Car", "Bus"},
			"ner":       {"PER"},
			"gone":      {"Y"},
		},
	}
	want := []Incompatibility{
		{Message: inputPrefix + "body, but imported tasks contain only keys: ['image', 'text']", Key: "body"},
		{Message: inputPrefix + "audio, but imported tasks contain only keys: ['image', 'text']", Key: "audio"},
		{Message: compatPrefix + "name=box, toName=img, type=polygonlabels are expected", FromName: "box"},
		{Message: compatPrefix + "name=old, toName=text, type=labels are expected", FromName: "old"},
		{Message: compatPrefix + "name=sentiment, toName=text, type=choices are expected", FromName: "sentiment"},
		{Message: compatPrefix + "there are labels already created for \"box\":\n['Bus', 'Truck']", FromName: "box", Labels: []string{"Bus", "Truck"}},
		{Message: compatPrefix + "name=gone is expected", FromName: "gone"},
		{Message: compatPrefix + "name=old is expected", FromName: "old"},
		{Message: compatPrefix + "there are labels already created for \"sentiment\":\n['Negative']", FromName: "sentiment", Labels: []string{"Negative"}},
	}
	for range 20 { // map iteration differs from run to run
		got := compatProblems(t, c, stored)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("got  %#v\nwant %#v", got, want)
		}
	}
	// The stored slices are left as they were.
	if stored.DataKeys[0] != "text" || stored.Results[0].FromName != "sentiment" || stored.Labels["box"][0] != "Truck" {
		t.Errorf("the check reordered its input: %+v", stored)
	}
}
