package config

import (
	"strings"
	"testing"
	"time"
)

// TestHAEdges checks the rules of ha.etcd at their edges, both ways.
func TestHAEdges(t *testing.T) {
	tests := []struct {
		name    string
		change  func(e *Etcd)
		problem string // "" when valid
	}{
		{"lease of 1s", func(e *Etcd) { e.LeaseTTL = time.Second }, ""},
		{"lease just under 1s", func(e *Etcd) { e.LeaseTTL = time.Second - time.Nanosecond }, "ha.etcd.lease_ttl"},
		{"lease of 2s and a bit", func(e *Etcd) { e.LeaseTTL = 2*time.Second + time.Millisecond }, "ha.etcd.lease_ttl"},
		{"dial timeout of 1ns", func(e *Etcd) { e.DialTimeout = time.Nanosecond }, ""},
		{"dial timeout 0", func(e *Etcd) { e.DialTimeout = 0 }, "ha.etcd.dial_timeout"},
		{"prefix /", func(e *Etcd) { e.Prefix = "/" }, ""},
		{"prefix without the last /", func(e *Etcd) { e.Prefix = "/rtk" }, "ha.etcd.prefix"},
		{"prefix with a space", func(e *Etcd) { e.Prefix = "/a b/" }, "ha.etcd.prefix"},
		{"key without cert", func(e *Etcd) { e.TLS.KeyFile = "k.pem" }, "ha.etcd.tls"},
		{"cert and key", func(e *Etcd) { e.TLS.CertFile, e.TLS.KeyFile = "c.pem", "k.pem" }, ""},
		{"user and password", func(e *Etcd) { e.Username, e.Password = "u", NewSecret("p") }, ""},
		{"endpoint with a path", func(e *Etcd) { e.Endpoints = []string{"https://etcd:2379/v3"} }, "ha.etcd.endpoints[0]"},
		{"endpoint with a slash", func(e *Etcd) { e.Endpoints = []string{"https://etcd:2379/"} }, ""},
		{"no endpoints", func(e *Etcd) { e.Endpoints = nil }, "ha.etcd.endpoints"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := Etcd{Endpoints: []string{"127.0.0.1:2379"}, Prefix: DefaultHAPrefix,
				LeaseTTL: DefaultHALeaseTTL, DialTimeout: DefaultHADialTimeout}
			tt.change(&e)
			v := &validator{}
			v.ha(&HA{Etcd: e})
			switch {
			case tt.problem == "" && len(v.errs) > 0:
				t.Errorf("valid ha.etcd refused: %v", v.errs)
			case tt.problem != "" && (len(v.errs) != 1 || !strings.Contains(v.errs[0].Error(), tt.problem+":")):
				t.Errorf("problems %v, want one about %s", v.errs, tt.problem)
			}
		})
	}
}

// TestHASecretsStayOut: the password, and one written in an endpoint by
// mistake, appear in no error.
func TestHASecretsStayOut(t *testing.T) {
	v := &validator{}
	v.ha(&HA{Etcd: Etcd{Endpoints: []string{"https://root:pw-in-url-42@etcd:2379"}, Prefix: "bad",
		Password: NewSecret("pw-secret-42"), LeaseTTL: time.Second, DialTimeout: time.Second}})
	for _, e := range v.errs {
		if s := e.Error(); strings.Contains(s, "pw-") {
			t.Errorf("error %q holds a secret", s)
		}
	}
	if len(v.errs) != 3 {
		t.Errorf("%d problems, want 3 (endpoint, prefix, username): %v", len(v.errs), v.errs)
	}
}
