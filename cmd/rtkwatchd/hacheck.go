package main

import (
	"context"
	"fmt"
	"io"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/ha"
)

// checkEtcd connects to the cluster of ha.etcd, as `run` would, and says
// who leads under its prefix. Its output and errors hold no secret: the
// password and the keys stay in ha.Connect.
func checkEtcd(ctx context.Context, w io.Writer, e config.Etcd) error {
	cli, err := ha.Connect(ctx, haOptions(e))
	if err != nil {
		return fmt.Errorf("connect to etcd (ha.etcd): %w", err)
	}
	defer cli.Close()
	el, err := ha.NewElector(cli, ha.ElectorOptions{Prefix: e.Prefix, Name: nodeName(), LeaseTTL: e.LeaseTTL})
	if err != nil {
		return err
	}
	lctx, cancel := context.WithTimeout(ctx, e.DialTimeout)
	defer cancel()
	leader, err := el.Leader(lctx)
	if err != nil {
		return fmt.Errorf("read the election in etcd (ha.etcd): %w", err)
	}
	if leader == "" {
		leader = "none yet"
	}
	fmt.Fprintf(w, "\netcd answers at %d endpoint(s); prefix %s; leader: %s\n", len(e.Endpoints), e.Prefix, leader)
	return nil
}
