package labelconfig

import "encoding/json"

// The sample value tables of config.md §6 (the role of 0.8.1's
// data_examples.json). Media point at files the binary serves under
// static/samples/; the texts are this project's own, except TextRaw, whose
// exact value the specification prescribes. The two modes differ only in
// HyperText and $website, as in 0.8.1.

// sampleLongText is the $longText example: long enough to need scrolling.
const sampleLongText = "Lighthouses were once tended by keepers who lived at the foot of the tower " +
	"and climbed its stairs several times a night to trim the wick and wind the clockwork that turned the lens. " +
	"The lens itself, a cage of glass prisms, could gather the light of a single lamp into a beam visible " +
	"more than twenty nautical miles away. Each light flashes in its own rhythm, so that a sailor who counts " +
	"the seconds between flashes can tell which headland lies ahead even on a moonless night. " +
	"Automation arrived during the twentieth century: electric lamps replaced oil, sensors switched the light " +
	"on at dusk, and one by one the keepers left. Many towers are now museums, and a few can be rented by " +
	"visitors who want to spend a windy night where the keepers once kept watch."

// sampleHyperTextPreview is a short chat rendered as HTML for the editor
// preview.
const sampleHyperTextPreview = `<div style="max-width: 750px">` +
	`<div style="margin: 10px 0; padding: 7px; border: 1px solid #F2F3F4; border-radius: 5px; background-color: #F8F9F9">` +
	`<p><b>Mia</b>: The train was late again this morning, twenty minutes this time.</p></div>` +
	`<div style="margin: 10px 0; padding: 7px; border: 1px solid #D5F5E3; border-radius: 5px; background-color: #EAFAF1">` +
	`<p><b>Leo</b>: Then let us take the bikes tomorrow and forget about the timetable.</p></div>` +
	`<div style="margin: 10px 0; padding: 7px; border: 1px solid #F2F3F4; border-radius: 5px; background-color: #F8F9F9">` +
	`<p><b>Mia</b>: Only if it does not rain. I am not cycling through a storm again.</p></div></div>`

// sampleHyperTextUpload is the compact HyperText example of upload mode.
const sampleHyperTextUpload = `<p>A <b>short</b> piece of <i>hypertext</i> to label.</p>`

// sampleTimeSeriesRaw is the JSON-form time series example (its columns are
// regenerated per TimeSeries tag anyway).
var sampleTimeSeriesRaw = map[string][]float64{
	"time": {0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
	"one":  {0.5, 1.25, 2.5, 2, 3.75, 4.5, 4, 5.25, 6.5, 6},
	"two":  {1, 0.5, -0.25, 0.75, -1, 0.25, 1.5, -0.5, 0, 1.25},
}

// sampleTables maps each mode to its example table. Keys are tag names
// (Image, Audio, ...), the derived keys TextRaw/TextUrl/TimeSeriesUrl/
// TimeSeriesRaw, or full "$variable" values looked up before tag names.
var sampleTables = map[SampleMode]map[string]json.RawMessage{
	EditorPreview: sampleTable(sampleHyperTextPreview, "<iframe src='http://example.com' width='100%' height='600px'/>"),
	Upload:        sampleTable(sampleHyperTextUpload, "<iframe src='https://example.com' width='100%' height='600px'/>"),
}

func sampleTable(hyperText, website string) map[string]json.RawMessage {
	return map[string]json.RawMessage{
		"TextRaw":   jsonOf("To have faith is to trust yourself to the water"),
		"TextUrl":   jsonOf("static/samples/lorem_ipsum.txt"),
		"HyperText": jsonOf(hyperText),
		"Image":     jsonOf("static/samples/sample.jpg"),
		"Audio":     jsonOf("static/samples/game.wav"),
		"AudioPlus": jsonOf("static/samples/game.wav"),
		"List":      listExample("text"),
		"Header":    jsonOf("Example header"),
		"Dialog": jsonOf([]map[string]string{
			{"name": "Mia", "text": "Is the museum open on Mondays?"},
			{"name": "Leo", "text": "Only in summer, as far as I know."},
		}),
		"Table":         json.RawMessage(`{"Order":4711,"Item":"Desk lamp","Colour":"Green"}`),
		"$video":        jsonOf("<video src='static/samples/sample.mp4' width=100% controls>"),
		"$longText":     jsonOf(sampleLongText),
		"$pdf":          jsonOf("<embed src='static/samples/sample.pdf' width='100%' height='600px'/>"),
		"$website":      jsonOf(website),
		"$headlessCsv":  jsonOf("static/samples/sample-task-sin-headless.csv"),
		"TimeSeriesUrl": jsonOf("static/samples/sample-task-sin.csv"),
		"TimeSeriesRaw": jsonOf(sampleTimeSeriesRaw),
	}
}
