package exports

import "labelstudio/store/labelconfig"

// SchemaFromConfig describes a parsed labeling config for the exports: its
// control tags with their labels, and its object tags. A nil config gives
// an empty Schema, which supports only the generic formats.
func SchemaFromConfig(cfg *labelconfig.Config) Schema {
	var s Schema
	if cfg == nil {
		return s
	}
	known := map[string]bool{}
	for _, o := range cfg.Objects() {
		s.Objects = append(s.Objects, Object{Name: o.Name, Type: o.Type, Value: o.Value})
		known[o.Name] = true
	}
	for _, c := range cfg.Controls() {
		s.Controls = append(s.Controls, Control{
			Name:   c.Name,
			Type:   c.Type,
			ToName: append([]string(nil), c.ToName...),
			Labels: append([]string(nil), c.Labels...),
		})
		for _, in := range c.Inputs {
			if !known[in.Name] {
				known[in.Name] = true
				s.Objects = append(s.Objects, Object{Name: in.Name, Type: in.Type, Value: in.Value})
			}
		}
	}
	return s
}
