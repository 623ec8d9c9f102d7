package labelconfig

import (
	"slices"
	"sort"
	"strings"
)

// compatPrefix starts every output-compatibility message (config.md §8.2).
const compatPrefix = "You've already completed some tasks, but some of them couldn't be loaded with this config: "

// ResultKey is one (from_name, to_name, type) triple recorded in stored
// completions (api.md §5.5).
type ResultKey struct {
	FromName string
	ToName   string
	Type     string
}

// Stored is what a project already holds that a new config has to fit: the
// derived input and output schemas (api.md §5.5).
type Stored struct {
	// HasTasks reports whether at least one task exists; the data keys are
	// checked only then.
	HasTasks bool
	// DataKeys are the data keys common to all tasks.
	DataKeys []string
	// Results are the triples recorded in completions.
	Results []ResultKey
	// Labels maps each from_name to the labels recorded for it.
	Labels map[string][]string
}

// Incompatibility is one reason a config does not fit what is stored.
type Incompatibility struct {
	// Message is the 0.8.1 wording of the problem.
	Message string
	// Key is the data key a control targets that the tasks lack; empty
	// for the problems with completions.
	Key string
	// FromName is the recorded control the config no longer accepts (when
	// Labels is empty) or whose recorded Labels it lacks.
	FromName string
	// Labels are the recorded labels of FromName the config lacks, sorted.
	Labels []string
}

// CompatError is a config that does not fit a project's tasks or
// completions. It lists every problem.
type CompatError struct {
	Problems []Incompatibility
}

// Error joins the messages with "; ".
func (e *CompatError) Error() string { return strings.Join(e.Messages(), "; ") }

// Messages returns the problems' messages, in order.
func (e *CompatError) Messages() []string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Message
	}
	return msgs
}

// CheckCompatibility runs config.md §8 against what a project holds and
// returns nil or a *CompatError with every problem, in this order:
//
//   - §8.1, when s.HasTasks: each data key a control targets (the object
//     tag's value with "$" stripped) that is not among s.DataKeys, once,
//     in the order of the controls and their toName items;
//   - §8.2 step 1: each recorded triple the config does not allow (only a
//     control's first toName item counts), sorted;
//   - §8.2 steps 2 and 3: each from_name with recorded labels, sorted,
//     whose control is gone or lacks some of those labels.
func (c *Config) CheckCompatibility(s Stored) error {
	var problems []Incompatibility
	if s.HasTasks {
		problems = c.inputProblems(s.DataKeys)
	}
	problems = append(problems, c.resultProblems(s.Results)...)
	problems = append(problems, c.labelProblems(s.Labels)...)
	if len(problems) == 0 {
		return nil
	}
	return &CompatError{Problems: problems}
}

// inputProblems is config.md §8.1.
func (c *Config) inputProblems(taskKeys []string) []Incompatibility {
	sorted := slices.Clone(taskKeys)
	sort.Strings(sorted)
	var problems []Incompatibility
	reported := map[string]bool{}
	for _, ct := range c.controls {
		for _, in := range ct.Inputs {
			if _, ok := slices.BinarySearch(sorted, in.Value); ok || reported[in.Value] {
				continue
			}
			reported[in.Value] = true
			problems = append(problems, Incompatibility{
				Message: "You have already imported tasks and they are incompatible with a new config. " +
					"You've specified value=$" + in.Value + ", but imported tasks contain only keys: " + pyListRepr(sorted, 0),
				Key: in.Value,
			})
		}
	}
	return problems
}

// resultProblems is config.md §8.2 step 1.
func (c *Config) resultProblems(recorded []ResultKey) []Incompatibility {
	allowed := make(map[ResultKey]bool, len(c.controls))
	for _, ct := range c.controls {
		if len(ct.ToName) > 0 {
			allowed[ResultKey{ct.Name, ct.ToName[0], strings.ToLower(ct.Type)}] = true
		}
	}
	keys := slices.Clone(recorded)
	slices.SortFunc(keys, func(a, b ResultKey) int {
		if a.FromName != b.FromName {
			return strings.Compare(a.FromName, b.FromName)
		}
		if a.ToName != b.ToName {
			return strings.Compare(a.ToName, b.ToName)
		}
		return strings.Compare(a.Type, b.Type)
	})
	keys = slices.Compact(keys)
	var problems []Incompatibility
	for _, k := range keys {
		if !allowed[k] {
			problems = append(problems, Incompatibility{
				Message:  compatPrefix + "name=" + k.FromName + ", toName=" + k.ToName + ", type=" + k.Type + " are expected",
				FromName: k.FromName,
			})
		}
	}
	return problems
}

// labelProblems is config.md §8.2 steps 2 and 3.
func (c *Config) labelProblems(labels map[string][]string) []Incompatibility {
	froms := make([]string, 0, len(labels))
	for f := range labels {
		froms = append(froms, f)
	}
	sort.Strings(froms)
	var problems []Incompatibility
	for _, from := range froms {
		ct, ok := c.Control(from)
		if !ok {
			problems = append(problems, Incompatibility{Message: compatPrefix + "name=" + from + " is expected", FromName: from})
			continue
		}
		var missing []string
		for _, l := range labels[from] {
			if _, ok := ct.LabelAttrs[l]; !ok {
				missing = append(missing, l)
			}
		}
		if len(missing) == 0 {
			continue
		}
		sort.Strings(missing)
		missing = slices.Compact(missing)
		problems = append(problems, Incompatibility{
			Message:  compatPrefix + `there are labels already created for "` + from + "\":\n" + pyListRepr(missing, 0),
			FromName: from,
			Labels:   missing,
		})
	}
	return problems
}
