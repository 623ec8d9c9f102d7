package labelconfig

import (
	"sort"
	"strings"
)

// compatPrefix starts every output-compatibility message (config.md §8.2).
const compatPrefix = "You've already completed some tasks, but some of them couldn't be loaded with this config: "

// CheckInputCompatibility runs config.md §8.1 against the derived input
// schema: taskKeys are the data keys common to all imported tasks. Call it
// only when at least one task exists. For every control tag, the value of
// every object tag it targets (with "$" stripped) must be among taskKeys.
// The error is an *Error.
func (c *Config) CheckInputCompatibility(taskKeys []string) error {
	have := make(map[string]struct{}, len(taskKeys))
	for _, k := range taskKeys {
		have[k] = struct{}{}
	}
	sorted := append([]string(nil), taskKeys...)
	sort.Strings(sorted)
	for _, ct := range c.controls {
		for _, in := range ct.Inputs {
			if _, ok := have[in.Value]; !ok {
				return newError("You have already imported tasks and they are incompatible with a new config. "+
					"You've specified value=$%s, but imported tasks contain only keys: %s",
					in.Value, pyListRepr(sorted, namesInMessage))
			}
		}
	}
	return nil
}

// ResultKey is one (from_name, to_name, type) triple recorded in stored
// completions (api.md §5.5).
type ResultKey struct {
	FromName string
	ToName   string
	Type     string
}

// CheckOutputCompatibility runs config.md §8.2 against the derived output
// schema: the triples recorded in completions and, per from_name, the
// labels recorded for it. Call it only when at least one completion result
// was recorded. The error is an *Error.
func (c *Config) CheckOutputCompatibility(recorded []ResultKey, labels map[string][]string) error {
	allowed := make(map[ResultKey]struct{}, len(c.controls))
	for _, ct := range c.controls {
		to := ""
		if len(ct.ToName) > 0 {
			to = ct.ToName[0] // 0.8.1 only considers the first toName item
		}
		allowed[ResultKey{ct.Name, to, strings.ToLower(ct.Type)}] = struct{}{}
	}
	keys := append([]ResultKey(nil), recorded...)
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.FromName != b.FromName {
			return a.FromName < b.FromName
		}
		if a.ToName != b.ToName {
			return a.ToName < b.ToName
		}
		return a.Type < b.Type
	})
	for _, k := range keys {
		if _, ok := allowed[k]; !ok {
			return newError("%sname=%s, toName=%s, type=%s are expected", compatPrefix, k.FromName, k.ToName, k.Type)
		}
	}
	froms := make([]string, 0, len(labels))
	for f := range labels {
		froms = append(froms, f)
	}
	sort.Strings(froms)
	for _, from := range froms {
		ct, ok := c.Control(from)
		if !ok {
			return newError("%sname=%s is expected", compatPrefix, from)
		}
		var missing []string
		seen := map[string]bool{}
		for _, l := range labels[from] {
			if _, ok := ct.LabelAttrs[l]; !ok && !seen[l] {
				seen[l] = true
				missing = append(missing, l)
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			return newError("%sthere are labels already created for %q:\n%s", compatPrefix, from, pyListRepr(missing, namesInMessage))
		}
	}
	return nil
}
