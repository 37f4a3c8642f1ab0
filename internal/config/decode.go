package config

import (
	"errors"

	"go.yaml.in/yaml/v4"
)

// UnmarshalYAML decodes a watch over its defaults, DefaultSchedule,
// DefaultFailingAfter and DefaultRecoverAfter, so that a watch leaving them
// out takes them and one setting them to zero fails validation.
func (w *Watch) UnmarshalYAML(n *yaml.Node) error {
	type plain Watch
	p := plain{Schedule: DefaultSchedule, FailingAfter: DefaultFailingAfter, RecoverAfter: DefaultRecoverAfter}
	if err := n.Load(&p, yaml.WithKnownFields()); err != nil {
		return err
	}
	*w = Watch(p)
	return nil
}

// UnmarshalYAML takes the value of a scalar as the secret. Its error never
// quotes what it was given.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("a secret must be a string")
	}
	s.value = n.Value
	return nil
}
