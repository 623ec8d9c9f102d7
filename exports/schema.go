package exports

import "strings"

// Schema is the part of a parsed labeling config that exports need: the
// control tags that produce results and the object tags that show task data.
// The caller builds it from the project's config (SchemaFromConfig); tests
// and tools may build it by hand.
type Schema struct {
	// Controls are the control tags in config order.
	Controls []Control
	// Objects are the object (input) tags in config order.
	Objects []Object
}

// Control is a control tag: a tag with a name and a toName that produces
// result items whose from_name is Name.
type Control struct {
	// Name is the tag's name attribute (the from_name of its results).
	Name string
	// Type is the tag name as written in the config, e.g. "RectangleLabels".
	Type string
	// ToName lists the object tags the control annotates, in attribute order.
	ToName []string
	// Labels are the control's Label or Choice values (alias when given) in
	// config order.
	Labels []string
}

// Object is an object tag: a tag that shows task data.
type Object struct {
	// Name is the tag's name attribute.
	Name string
	// Type is the tag name as written in the config, e.g. "Image".
	Type string
	// Value is the task data key the tag shows, without the leading "$".
	Value string
}

// control returns the control named name, or nil.
func (s Schema) control(name string) *Control {
	for i := range s.Controls {
		if s.Controls[i].Name == name {
			return &s.Controls[i]
		}
	}
	return nil
}

// inputs returns the object tags a control annotates, in ToName order.
func (s Schema) inputs(c Control) []Object {
	var out []Object
	for _, to := range c.ToName {
		for _, o := range s.Objects {
			if o.Name == to {
				out = append(out, o)
				break
			}
		}
	}
	return out
}

// DataKeys returns the distinct task data keys that the control tags'
// inputs show, in order of first appearance. Formats other than the four
// generic ones need exactly one.
func (s Schema) DataKeys() []string {
	var keys []string
	seen := map[string]bool{}
	for _, c := range s.Controls {
		for _, o := range s.inputs(c) {
			if !seen[o.Value] {
				seen[o.Value] = true
				keys = append(keys, o.Value)
			}
		}
	}
	return keys
}

// dataKey returns the single data key of the schema, or "" when there is
// not exactly one.
func (s Schema) dataKey() string {
	if keys := s.DataKeys(); len(keys) == 1 {
		return keys[0]
	}
	return ""
}

// hasControl reports whether some control tag has one of the given types.
func (s Schema) hasControl(types ...string) bool {
	for _, c := range s.Controls {
		for _, t := range types {
			if strings.EqualFold(c.Type, t) {
				return true
			}
		}
	}
	return false
}

// hasInput reports whether some control tag annotates an object tag of one
// of the given types.
func (s Schema) hasInput(types ...string) bool {
	for _, c := range s.Controls {
		for _, o := range s.inputs(c) {
			for _, t := range types {
				if strings.EqualFold(o.Type, t) {
					return true
				}
			}
		}
	}
	return false
}

// singleInput reports whether the schema has exactly one data key, an input
// of one of inputTypes and a control of one of controlTypes: the shape every
// format beyond the generic four requires (exports.md §1).
func (s Schema) singleInput(inputTypes []string, controlTypes ...string) bool {
	return len(s.DataKeys()) == 1 && s.hasInput(inputTypes...) && s.hasControl(controlTypes...)
}

// labelsOf returns the labels of all controls of the given types, in config
// order without duplicates.
func (s Schema) labelsOf(types ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range s.Controls {
		if !typeIn(c.Type, types...) {
			continue
		}
		for _, l := range c.Labels {
			if !seen[l] {
				seen[l] = true
				out = append(out, l)
			}
		}
	}
	return out
}

// typeIn reports whether the tag type t is one of types, ignoring case.
func typeIn(t string, types ...string) bool {
	for _, x := range types {
		if strings.EqualFold(t, x) {
			return true
		}
	}
	return false
}
