package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/rtkwatchd/rtkwatchd/internal/store"
)

// listSilences answers `rtkwatchd silence list`: the ad hoc silences, as
// one JSON array in ascending ID order.
func (h Handlers) listSilences(w http.ResponseWriter, _ *http.Request) {
	list, err := h.Store.Silences()
	if err != nil {
		h.Log.Error().Err(err).Msg("admin: read silences")
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if list == nil {
		list = []store.Silence{}
	}
	w.Header().Set("content-type", "application/json")
	_ = json.NewEncoder(w).Encode(list)
}

// maxSilenceBody bounds the body of a request to add a silence.
const maxSilenceBody = 64 << 10

// addSilence answers `rtkwatchd silence add`: the body is a store.Silence
// (its ID ignored), the answer {"id": N}. A watch or notifier the daemon's
// config does not have, or a silence the store refuses, is a 400.
func (h Handlers) addSilence(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(cliHeader) == "" {
		http.Error(w, "missing "+cliHeader+" header", http.StatusForbidden)
		return
	}
	var s store.Silence
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxSilenceBody)).Decode(&s); err != nil {
		http.Error(w, fmt.Sprintf("silence: %v", err), http.StatusBadRequest)
		return
	}
	if h.Watch != nil && !h.Watch(s.Watch) {
		http.Error(w, fmt.Sprintf("unknown watch %q (the daemon's config has none of that name)", s.Watch), http.StatusBadRequest)
		return
	}
	if s.Notifier != "" && h.Notifier != nil && !h.Notifier(s.Notifier) {
		http.Error(w, fmt.Sprintf("unknown notifier %q (the daemon's config has none of that name)", s.Notifier), http.StatusBadRequest)
		return
	}
	id, err := h.Store.AddSilence(s)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("content-type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]uint64{"id": id})
}

// removeSilence answers `rtkwatchd silence remove ID`; an unknown ID is a
// 404.
func (h Handlers) removeSilence(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(cliHeader) == "" {
		http.Error(w, "missing "+cliHeader+" header", http.StatusForbidden)
		return
	}
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil {
		http.Error(w, fmt.Sprintf("bad silence ID %q", r.PathValue("id")), http.StatusBadRequest)
		return
	}
	if err := h.Store.RemoveSilence(id); err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, store.ErrNoSilence) {
			code = http.StatusNotFound
		}
		http.Error(w, err.Error(), code)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
