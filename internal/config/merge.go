package config

import "go.yaml.in/yaml/v3"

// pair is one key and value of a mapping; merged marks those that came in
// through a merge key ("<<").
type pair struct {
	key, value *yaml.Node
	merged     bool
}

// pairs returns the mapping's own pairs, then those merged in that it does
// not set itself; of two merged mappings the first wins.
func (d *decoder) pairs(n *yaml.Node, path string, depth int) []pair {
	var own, merged []pair
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, d.merge(v, path, depth)...)
			continue
		}
		own = append(own, pair{key: k, value: v})
	}
	if len(merged) == 0 {
		return own
	}
	set := make(map[string]bool)
	for _, p := range own {
		set[p.key.Value] = true
	}
	for _, p := range merged {
		if p.key.Kind == yaml.ScalarNode && set[p.key.Value] {
			continue
		}
		set[p.key.Value] = true
		p.merged = true
		own = append(own, p)
	}
	return own
}

// merge returns the pairs of the value of a merge key: a mapping or a list
// of mappings.
func (d *decoder) merge(v *yaml.Node, path string, depth int) []pair {
	if depth >= maxMergeDepth {
		d.fail(path, v.Line, "merge keys (<<) nested more than %d deep", maxMergeDepth)
		return nil
	}
	if !d.visit(v) {
		return nil
	}
	v = deref(v)
	switch v.Kind {
	case yaml.MappingNode:
		return d.pairs(v, path, depth+1)
	case yaml.SequenceNode:
		var ps []pair
		for _, m := range v.Content {
			if !d.visit(m) {
				return nil
			}
			if m = deref(m); m.Kind != yaml.MappingNode {
				d.fail(path, m.Line, "a merge key (<<) takes a mapping or a list of mappings")
				continue
			}
			ps = append(ps, d.pairs(m, path, depth+1)...)
		}
		return ps
	}
	d.fail(path, v.Line, "a merge key (<<) takes a mapping or a list of mappings")
	return nil
}
