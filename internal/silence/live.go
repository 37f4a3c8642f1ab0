package silence

import (
	"time"

	"github.com/rs/zerolog"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// Lister reads the ad hoc silences; *store.Store provides it.
type Lister interface {
	Silences() ([]store.Silence, error)
}

// Live answers the poller at commit time: the config's windows, and the
// ad hoc silences as the store holds them at that moment.
type Live struct {
	windows []Window
	store   Lister
	log     zerolog.Logger
}

// NewLive returns a Live over the windows and the ad hoc silences of st
// (none when st is nil).
func NewLive(windows []Window, st Lister, log zerolog.Logger) *Live {
	return &Live{windows: windows, store: st, log: log}
}

// Silenced returns the notifiers of notifiers that a silence active at t
// holds an event of watch from. When the store cannot be read it logs
// and applies the windows alone: an event delivered during a silence is
// better than one lost.
func (l *Live) Silenced(t time.Time, watch string, notifiers []string) []string {
	if len(notifiers) == 0 {
		return nil
	}
	set := Set{Windows: l.windows}
	if l.store != nil {
		list, err := l.store.Silences()
		if err != nil {
			l.log.Error().Err(err).Msg("read ad hoc silences; applying the config's alone")
		}
		set.AdHoc = FromStore(list)
	}
	return Silenced(t, set, watch, notifiers)
}

// FromStore turns stored silences into AdHoc ones.
func FromStore(list []store.Silence) []AdHoc {
	out := make([]AdHoc, 0, len(list))
	for _, s := range list {
		out = append(out, AdHoc{ID: s.ID, Watch: s.Watch, Notifier: s.Notifier, Start: s.Start, End: s.End})
	}
	return out
}
