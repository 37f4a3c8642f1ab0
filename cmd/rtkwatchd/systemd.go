package main

import (
	"fmt"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
)

// systemdNotifier tells the service manager about the daemon's state.
type systemdNotifier interface {
	// Notify sends one sd_notify state, such as sd.SdNotifyReady.
	Notify(state string) error
	// WatchdogInterval is the watchdog timeout systemd expects pings
	// within; 0 when the watchdog is off.
	WatchdogInterval() (time.Duration, error)
}

// newSystemdNotifier returns a notifier over $NOTIFY_SOCKET, or one that
// does nothing when the daemon does not run under systemd's Type=notify.
func newSystemdNotifier(getenv func(string) string) systemdNotifier {
	if getenv("NOTIFY_SOCKET") == "" {
		return noSystemd{}
	}
	return sdNotify{}
}

// sdNotify speaks the sd_notify protocol through go-systemd.
type sdNotify struct{}

func (sdNotify) Notify(state string) error {
	_, err := sd.SdNotify(false, state)
	return err
}

func (sdNotify) WatchdogInterval() (time.Duration, error) {
	d, err := sd.SdWatchdogEnabled(false)
	if err != nil {
		return 0, fmt.Errorf("read the watchdog settings: %w", err)
	}
	return d, nil
}

// noSystemd is the notifier outside systemd.
type noSystemd struct{}

func (noSystemd) Notify(string) error                      { return nil }
func (noSystemd) WatchdogInterval() (time.Duration, error) { return 0, nil }

// tellSystemd sends state to systemd. A failure is logged: systemd then
// believes the daemon is not ready, or hung, and may stop it.
func (d *daemon) tellSystemd(state string) {
	if err := d.opts.notifier.Notify(state); err != nil {
		d.log.Error().Err(err).Str("state", state).Msg("sd_notify")
	}
}
