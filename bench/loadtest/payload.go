package main

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Word lists from which the task sentences are assembled.
var (
	textSubjects = []string{
		"The delivery driver", "Our new neighbour", "A curious student",
		"The support team", "My grandmother", "The quarterly report",
		"This tiny cafe", "The evening train", "An old laptop",
		"The hotel staff", "The museum guide", "A stray cat",
	}
	textVerbs = []string{
		"praised", "criticised", "ignored", "described", "recommended",
		"returned", "celebrated", "questioned", "repaired", "photographed",
	}
	textObjects = []string{
		"the noisy printer", "a surprisingly cheap lunch", "the broken umbrella",
		"every single review", "the late shipment", "a wonderful sunset",
		"the confusing manual", "our weekend plans", "the fresh bread",
		"an overpriced ticket",
	}
	textTails = []string{
		"without any hesitation", "before the rain started", "during a long meeting",
		"with obvious delight", "for the third time this week", "despite the warnings",
		"in front of everyone", "after a short delay",
	}
)

// Bounds of the length, in bytes, of a generated task text.
const (
	minTextLen = 60
	maxTextLen = 100
)

// labelConfig is the labeling configuration set before importing.
const labelConfig = `<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text"><Choice value="Positive"/><Choice value="Negative"/></Choices></View>`

// completionBody is the body of every completion POST.
const completionBody = `{"lead_time": 1.5, "result": [{"id":"r1","from_name":"sentiment","to_name":"text","type":"choices","value":{"choices":["Positive"]}}]}`

// mix64 is the splitmix64 finalizer, used to derive varied but reproducible
// choices from a task index.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// pick chooses an element of words from the bits of h.
func pick(words []string, h uint64) string {
	return words[h%uint64(len(words))]
}

// taskText returns the sentence of the i-th task: ASCII, between minTextLen
// and maxTextLen bytes long, containing "#<i>", and varying with i.
func taskText(i int) string {
	h := mix64(uint64(i))
	var b strings.Builder
	b.WriteString("#")
	b.WriteString(strconv.Itoa(i))
	for _, w := range []string{
		pick(textSubjects, h),
		pick(textVerbs, h>>16),
		pick(textObjects, h>>32),
		pick(textTails, h>>48),
	} {
		b.WriteByte(' ')
		b.WriteString(w)
	}
	s := b.String()
	for len(s)+1 < minTextLen {
		s += " again"
	}
	if len(s)+1 > maxTextLen {
		s = s[:maxTextLen-1]
		if cut := strings.LastIndexByte(s, ' '); cut > len("#")+len(strconv.Itoa(i)) {
			s = s[:cut]
		}
	}
	return s + "."
}

// importTask is one element of an import body.
type importTask struct {
	Data        map[string]string  `json:"data"`
	Predictions []importPrediction `json:"predictions,omitempty"`
}

// importPrediction is a prediction attached to an imported task.
type importPrediction struct {
	Result []any   `json:"result"`
	Score  float64 `json:"score"`
}

// predictionEvery tells which imported tasks carry a prediction: those whose
// index is a multiple of it.
const predictionEvery = 10

// importBody returns the JSON array of the n tasks with indexes start,
// start+1, ..., start+n-1.
func importBody(start, n int) ([]byte, error) {
	tasks := make([]importTask, n)
	for k := range tasks {
		i := start + k
		tasks[k].Data = map[string]string{"text": taskText(i)}
		if i%predictionEvery == 0 {
			score := float64(mix64(uint64(i)^0x5bd1e995)%1000) / 1000
			tasks[k].Predictions = []importPrediction{{Result: []any{}, Score: math.Round(score*1000) / 1000}}
		}
	}
	return json.Marshal(tasks)
}
