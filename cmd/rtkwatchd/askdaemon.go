package main

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/rtkwatchd/rtkwatchd/internal/admin"
	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// daemonAdmin returns a client of the running daemon's admin API, or an
// error that explains why the store could not be read when there is none.
func daemonAdmin(cfg *config.Config, openErr error) (*admin.Client, error) {
	if !errors.Is(openErr, store.ErrLocked) {
		return nil, openErr
	}
	if cfg.Admin.Listen == "" {
		return nil, fmt.Errorf("%w; with admin.listen set, this command asks the running daemon instead", openErr)
	}
	c, err := admin.NewClient(cfg.Admin.Listen)
	if err != nil {
		return nil, openErr
	}
	return c, nil
}

// adminError marks the admin API's refusals of a bad request (an unknown
// delivery ID, a malformed one) as usage errors; the daemon says what in
// the request was wrong.
func adminError(err error) error {
	var ae *admin.Error
	if errors.As(err, &ae) && (ae.StatusCode == http.StatusNotFound || ae.StatusCode == http.StatusBadRequest) {
		return usageError(err)
	}
	return err
}
