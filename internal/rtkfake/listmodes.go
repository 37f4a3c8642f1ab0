package rtkfake

import (
	"math/rand/v2"
	"slices"
)

// PagingMode makes the sessions route page the way some servers do rather
// than the way the fake does by default (page_no counted from 1, any
// per_page honoured, a stable order, and a top-level "paging" object in
// every answer). Each field is one such behaviour; they combine. Set it
// with [Server.SetPaging]; the zero PagingMode is the default.
type PagingMode struct {
	// MaxPerPage caps per_page: a request for more sessions a page gets
	// this many. 0 means no cap.
	MaxPerPage int
	// ZeroBased counts page_no from 0: page_no 0 is the first page, and
	// page_no 1 the second. By default page_no 0 is taken as 1.
	ZeroBased bool
	// NoPagingObject leaves the "paging" object out of every answer, as
	// the schema that SDK v6.10.0 models does (of the meetings list too).
	NoPagingObject bool
	// IgnorePageNo answers every page_no with the first page.
	IgnorePageNo bool
	// ShuffleUnsorted lists the sessions in a new order on every request
	// that names no sort_by, as a server without a default order may.
	ShuffleUnsorted bool
	// ShuffleTies lists the sessions that share the value of sort_by in a
	// new order on every request, as a server that sorts by that value
	// alone may: by default the fake breaks ties by session ID, so that
	// pages are stable.
	ShuffleTies bool
	// AfterPage, when set, is called once a page's sessions are chosen and
	// before the page is sent, with the app and the page_no asked for (0
	// taken as 1). A test ends or starts sessions there: the page shows the
	// list as it was, the next page as it is after the change.
	AfterPage func(appID string, pageNo int)
}

// SetPaging changes how the sessions route pages, from the next request
// on.
func (s *Server) SetPaging(m PagingMode) {
	s.pagingMu.Lock()
	defer s.pagingMu.Unlock()
	s.listMode = m
	s.shuffles = 0
}

// pagingMode returns the paging behaviour in force and, for
// ShuffleUnsorted and ShuffleTies, a seed that differs on every call.
func (s *Server) pagingMode() (PagingMode, uint64) {
	s.pagingMu.Lock()
	defer s.pagingMu.Unlock()
	s.shuffles++
	return s.listMode, s.shuffles
}

// sessionsPage cuts the page that page_no (as sent: 0 may be the first
// page) and per_page ask for out of found, sorted, as mode says, with its
// paging object; nil when mode leaves it out.
func sessionsPage(found []*Session, pageNo, perPage int, mode PagingMode, seed uint64, sorted bool) ([]*Session, *paging) {
	if mode.MaxPerPage > 0 {
		perPage = min(perPage, mode.MaxPerPage)
	}
	if mode.ShuffleUnsorted && !sorted {
		found = slices.Clone(found)
		r := rand.New(rand.NewPCG(seed, 0x5eed))
		r.Shuffle(len(found), func(i, j int) { found[i], found[j] = found[j], found[i] })
	}
	first := max(pageNo, 1) // pageOf counts from 1
	switch {
	case mode.IgnorePageNo:
		first = 1
	case mode.ZeroBased:
		first = pageNo + 1
	}
	page, p := pageOf(found, first, perPage)
	if mode.NoPagingObject {
		return page, nil
	}
	return page, &p
}

// sortSessions sorts found by order, which breaks ties by session ID
// unless mode.ShuffleTies, when seed chooses the order of ties.
func sortSessions(found []*Session, order func(a, b *Session) int, mode PagingMode, seed uint64) {
	if mode.ShuffleTies {
		r := rand.New(rand.NewPCG(seed, 0x71e5))
		r.Shuffle(len(found), func(i, j int) { found[i], found[j] = found[j], found[i] })
	}
	slices.SortStableFunc(found, order)
}
