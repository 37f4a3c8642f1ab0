package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Defaults of the ha.etcd section, when it is present.
const (
	DefaultHAPrefix      = "/rtkwatchd/"
	DefaultHALeaseTTL    = 10 * time.Second
	DefaultHADialTimeout = 5 * time.Second
)

// HA runs rtkwatchd on several nodes with its state in etcd (SPEC §11):
// one node, elected, polls and delivers; the others wait. Nil (no ha key)
// means one process and one bbolt file.
type HA struct {
	// Etcd is the cluster that holds the state and the election.
	Etcd Etcd `yaml:"etcd"`
}

// Etcd says how to reach the etcd cluster and where in it rtkwatchd's keys
// live.
type Etcd struct {
	// Endpoints are the members' client URLs, such as
	// https://etcd-1:2379. At least one.
	Endpoints []string `yaml:"endpoints"`
	// Prefix is where rtkwatchd's keys live, such as /rtkwatchd/prod/;
	// nodes that share it share one state and one leader. It must start
	// and end with "/".
	Prefix string `yaml:"prefix"`
	// TLS holds the files of the CA and of a client certificate.
	TLS EtcdTLS `yaml:"tls"`
	// Username and Password log in with etcd's own users, both or neither.
	Username string `yaml:"username"`
	Password Secret `yaml:"password"`
	// LeaseTTL is the leader's lease, in whole seconds: a dead leader is
	// replaced within about this long plus one poll interval.
	LeaseTTL time.Duration `yaml:"lease_ttl"`
	// DialTimeout bounds connecting to the cluster.
	DialTimeout time.Duration `yaml:"dial_timeout"`
}

// EtcdTLS names PEM files: the CA that signs the members' certificates
// (empty: the system's roots) and a client certificate and its key, both
// or neither.
type EtcdTLS struct {
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// haDefaults fills in the defaults of the keys of ha.etcd that the
// document left out; written says whether it wrote a key.
func (h *HA) haDefaults(written func(path string) bool) {
	if h == nil {
		return
	}
	e := &h.Etcd
	if e.Prefix == "" && !written("ha.etcd.prefix") {
		e.Prefix = DefaultHAPrefix
	}
	if e.LeaseTTL == 0 && !written("ha.etcd.lease_ttl") {
		e.LeaseTTL = DefaultHALeaseTTL
	}
	if e.DialTimeout == 0 && !written("ha.etcd.dial_timeout") {
		e.DialTimeout = DefaultHADialTimeout
	}
}

// ha checks the ha section.
func (v *validator) ha(h *HA) {
	if h == nil {
		// "ha:" with nothing under it decodes as no ha at all: a node
		// meant to share etcd would run alone on its own file.
		if _, written := v.src.lineOf("ha"); written {
			v.add("ha", "empty: set ha.etcd, or remove ha to run on one machine")
		}
		return
	}
	e := &h.Etcd
	if len(e.Endpoints) == 0 {
		v.add("ha.etcd.endpoints", "required: at least one of the cluster's client URLs")
	}
	for i, ep := range e.Endpoints {
		if err := checkEndpoint(ep); err != nil {
			v.add(fmt.Sprintf("ha.etcd.endpoints[%d]", i), "%v", err)
		}
	}
	switch {
	case e.Prefix == "":
		v.add("ha.etcd.prefix", "must not be empty")
	case !strings.HasPrefix(e.Prefix, "/") || !strings.HasSuffix(e.Prefix, "/"):
		v.add("ha.etcd.prefix", "must start and end with \"/\", got %q", clip(e.Prefix))
	case !printable(e.Prefix):
		v.add("ha.etcd.prefix", "must not contain spaces or control characters")
	}
	if (e.TLS.CertFile == "") != (e.TLS.KeyFile == "") {
		v.add("ha.etcd.tls", "set cert_file and key_file together, or neither")
	}
	switch {
	case e.Username == "" && !e.Password.IsZero():
		v.add("ha.etcd.username", "required with a password")
	case e.Username != "" && e.Password.IsZero():
		v.add("ha.etcd.password", "required with a username: set password or password_file")
	case e.Username != "" && !printable(e.Username):
		v.add("ha.etcd.username", "must not contain spaces or control characters")
	}
	if e.LeaseTTL < time.Second || e.LeaseTTL%time.Second != 0 {
		v.add("ha.etcd.lease_ttl", "must be a whole number of seconds, at least 1s, got %s", e.LeaseTTL)
	}
	if e.DialTimeout <= 0 {
		v.add("ha.etcd.dial_timeout", "must be > 0")
	}
}

// checkEndpoint checks an etcd client URL: http(s)://host:port, or
// host:port. It never echoes a password written in the URL.
func checkEndpoint(s string) error {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("must be http(s)://host:port or host:port")
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("scheme must be http or https, got %q", clip(u.Scheme))
	case u.User != nil:
		return fmt.Errorf("must not hold credentials: set ha.etcd.username and password")
	case u.Hostname() == "" || u.Port() == "":
		return fmt.Errorf("must name a host and a port, such as https://etcd-1:2379")
	case u.Path != "" && u.Path != "/":
		return fmt.Errorf("must not have a path")
	}
	return nil
}
