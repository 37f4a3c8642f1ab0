package main

import (
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
)

// systemdNotifier tells the service manager about the daemon's state.
type systemdNotifier interface {
	Ready()
	Reloading()
	Stopping()
	Watchdog()
	// WatchdogInterval is the watchdog timeout systemd expects pings
	// within; 0 when the watchdog is off.
	WatchdogInterval() time.Duration
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

func (sdNotify) Ready()     { _, _ = sd.SdNotify(false, sd.SdNotifyReady) }
func (sdNotify) Reloading() { _, _ = sd.SdNotify(false, sd.SdNotifyReloading) }
func (sdNotify) Stopping()  { _, _ = sd.SdNotify(false, sd.SdNotifyStopping) }
func (sdNotify) Watchdog()  { _, _ = sd.SdNotify(false, sd.SdNotifyWatchdog) }

func (sdNotify) WatchdogInterval() time.Duration {
	d, err := sd.SdWatchdogEnabled(false)
	if err != nil {
		return 0
	}
	return d
}

// noSystemd is the notifier outside systemd.
type noSystemd struct{}

func (noSystemd) Ready()                          {}
func (noSystemd) Reloading()                      {}
func (noSystemd) Stopping()                       {}
func (noSystemd) Watchdog()                       {}
func (noSystemd) WatchdogInterval() time.Duration { return 0 }
