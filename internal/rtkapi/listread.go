package rtkapi

import (
	"net/http"
	"strconv"
)

// maxListPages guards against a list that never ends, whatever its pages
// say.
const maxListPages = 1000

// PageHint is what earlier reads of one list showed about the API's pages.
// A [ListRead] starts from it and returns what it learned, so that the next
// read of the same list needs no request to learn it again.
type PageHint struct {
	// Cap is how many entries the API puts on a page when that is fewer
	// than asked for: it caps per_page. 0 when not seen.
	Cap int
	// Fill is the most entries one page has held.
	Fill int
}

// ListRead reads one paged list of sessions (GET …/sessions) so that no
// session goes missing silently. It is a state machine, so that its caller
// sends each page itself (through its request budget): [ListRead.Next]
// says which page to ask for, [ListRead.Add] takes the answer, until Next
// says the list is read or Add fails.
//
// How it reads, with the paging object (total_count, start_offset) in the
// answers, as the API's schema has it:
//
//   - the list is sorted explicitly (createdAt, ascending, unless the query
//     names another order), so that it does not change order between two
//     pages, and sessions that start during a read come last;
//   - page_no 1 whose start_offset is not 0 means that the API counts pages
//     from 0, with pages of start_offset entries; page 0 is read too;
//   - a page that is not the last tells the API's page size, which may be
//     smaller than asked for (a capped per_page): the list is complete when
//     every page that total_count implies has been read, however short;
//   - a page that starts elsewhere than its page number says (page_no
//     ignored), an empty page where total_count says there are sessions, and
//     a page that brings no session not already read all fail the read.
//
// Without a paging object it trusts page_no to count from 1 (nothing else
// tells) and reads until a page is shorter than the API has shown it can
// fill; a page that might be short only because the API caps per_page is
// followed by one more, which shows whether the list goes on. A full page
// that brings no new session means that page_no is ignored, and fails the
// read.
//
// Entries that do not decode are left out, and [ListRead.Problem] names the
// first; a list of nothing but such entries fails (see [ListRead.Sessions]).
// Failures are [*Error]s of [KindDecode].
type ListRead struct {
	q    ListQuery
	hint PageHint

	base     int          // the page_no of the first page: 1, or 0
	size     int          // the API's page size, once known
	next     int          // index (from 0) of the page to ask for next
	read     map[int]bool // indexes of the pages read
	done     bool
	err      *Error
	requests int

	sessions []Session
	seen     map[string]struct{} // IDs in sessions, from the second page on
	problem  string

	// Without a paging object:
	probing int // entries of the short page the next one is asked to check

	// For Settled:
	total   int  // total_count of the last page; -1 before a paging object
	unpaged bool // a page came without a paging object
	shifted bool // total_count changed between pages
	spans   bool // without paging objects: the list went on past a page
}

// NewListRead starts reading the list that q selects (its PageNo is
// ignored) with what hint says of the API's pages. A PerPage of 0 or less
// means [DefaultPerPage]; no SortBy means createdAt, no SortOrder ASC.
func NewListRead(q ListQuery, hint PageHint) *ListRead {
	if q.PerPage <= 0 {
		q.PerPage = DefaultPerPage
	}
	if q.SortBy == "" {
		q.SortBy = SortByCreatedAt
	}
	if q.SortOrder == "" {
		q.SortOrder = SortAscending
	}
	return &ListRead{q: q, hint: hint, base: 1, read: make(map[int]bool), total: -1}
}

// Next returns the query of the next page to ask for, or false when the
// list is read or the read failed.
func (r *ListRead) Next() (ListQuery, bool) {
	if r.done || r.err != nil {
		return ListQuery{}, false
	}
	q := r.q
	q.PageNo = r.next + r.base
	return q, true
}

// Add takes the answer to the query that Next returned. It returns an
// error, also kept for [ListRead.Sessions], when the answer shows that the
// list cannot be read whole.
func (r *ListRead) Add(p Page) error {
	if r.done || r.err != nil {
		return r.fail("a page was added after the read ended")
	}
	r.requests++
	idx, pageNo := r.next, r.next+r.base
	fresh := r.merge(p)
	if r.problem == "" {
		r.problem = p.Problem
	}
	fill := r.hint.Fill
	r.hint.Fill = max(r.hint.Fill, p.Entries)
	if p.Paging == nil {
		r.unpaged = true
		r.addUnpaged(idx, pageNo, p.Entries, fresh, fill)
	} else {
		r.addPaged(idx, pageNo, p.Entries, fresh, *p.Paging)
	}
	if r.err == nil && !r.done && r.requests >= maxListPages {
		r.fail("the sessions list did not end after " + strconv.Itoa(maxListPages) + " pages")
	}
	if r.err != nil {
		return r.err
	}
	return nil
}

// addPaged moves on after a page that carried a paging object.
func (r *ListRead) addPaged(idx, pageNo, n, fresh int, pg Paging) {
	start, total := pg.StartOffset, pg.TotalCount
	if r.total >= 0 && total != r.total {
		r.shifted = true
	}
	r.total = total
	if r.requests == 1 && r.base == 1 {
		switch {
		case n == 0 && total > 0:
			// Page 1 is empty, yet the list is not: page_no counts from 0
			// and the whole list is on page 0.
			r.base, r.next = 0, 0
			return
		case start > 0:
			// Page 1 is the second page: page_no counts from 0.
			r.base, r.size = 0, start
			idx = 1
		}
	}
	switch {
	case n > 0 && start != idx*r.size:
		r.fail("page_no " + strconv.Itoa(pageNo) + " began at entry " + strconv.Itoa(start) + ", not " +
			strconv.Itoa(idx*r.size) + ": the API does not page as asked")
		return
	case n == 0 && total > idx*r.size:
		r.fail("page_no " + strconv.Itoa(pageNo) + " is empty, but total_count is " + strconv.Itoa(total))
		return
	case n > 0 && fresh == 0 && r.requests > 1:
		r.fail("page_no " + strconv.Itoa(pageNo) + " holds only sessions already read")
		return
	}
	r.read[idx] = true
	if r.size == 0 && n > 0 && start+n < total {
		r.size = n // a page that is not the last is full
	}
	if r.size == 0 {
		r.done = true // the first page held the whole list
		return
	}
	pages := (total + r.size - 1) / r.size
	for i := range pages {
		if !r.read[i] {
			r.next = i
			return
		}
	}
	r.done = true
}

// addUnpaged moves on after a page without a paging object; fill is the
// most entries a page had held before this one.
func (r *ListRead) addUnpaged(idx, pageNo, n, fresh, fill int) {
	if n > r.hint.Cap {
		r.hint.Cap = 0 // the API no longer caps pages there
	}
	full := r.q.PerPage
	if r.hint.Cap > 0 {
		full = r.hint.Cap
	}
	if r.probing > 0 {
		short := r.probing
		r.probing = 0
		if fresh == 0 {
			r.done = true // the short page was the end
			return
		}
		// The list goes on: the API caps pages at the short page's size.
		r.hint.Cap, full, r.spans = short, short, true
	}
	switch {
	case n >= full && fresh == 0 && r.requests > 1:
		r.fail("page_no " + strconv.Itoa(pageNo) + " holds only sessions already read: the API seems to ignore page_no")
	case n >= full:
		r.read[idx], r.next, r.spans = true, idx+1, true
	case n == 0 || r.hint.Cap > 0 || n < fill:
		// Shorter than the API has shown it fills a page: the end.
		r.read[idx], r.done = true, true
	default:
		// As short as it may be only because the API caps per_page: the
		// next page tells.
		r.read[idx], r.next, r.probing = true, idx+1, n
	}
}

// merge adds the sessions of p that were not read before, in order, and
// returns how many it added.
func (r *ListRead) merge(p Page) int {
	if r.requests == 1 {
		r.sessions = p.Sessions
		return len(p.Sessions)
	}
	if r.seen == nil {
		r.seen = make(map[string]struct{}, 2*len(r.sessions)+len(p.Sessions))
		for _, s := range r.sessions {
			r.seen[s.ID] = struct{}{}
		}
	}
	fresh := 0
	for _, s := range p.Sessions {
		if _, dup := r.seen[s.ID]; dup {
			// Sessions that end between two pages shift the later ones
			// back; one may then appear twice.
			continue
		}
		r.seen[s.ID] = struct{}{}
		r.sessions = append(r.sessions, s)
		fresh++
	}
	return fresh
}

// fail ends the read with a decode failure.
func (r *ListRead) fail(what string) *Error {
	r.err = &Error{Kind: KindDecode, StatusCode: http.StatusOK, Message: what}
	return r.err
}

// Sessions returns the sessions read, in the order their pages were read
// (the list's order, unless page 1 turned out to be the second page),
// without duplicates. It returns an error when the read failed, when it has not
// ended, and when no entry of the whole list decoded although some were
// there: that is the list failing.
func (r *ListRead) Sessions() ([]Session, error) {
	switch {
	case r.err != nil:
		return nil, r.err
	case !r.done:
		return nil, &Error{Kind: KindClient, Message: "the sessions list was not read to its end"}
	case len(r.sessions) == 0 && r.problem != "":
		return nil, decodeError(http.StatusOK, r.problem)
	}
	if r.sessions == nil {
		return []Session{}, nil
	}
	return r.sessions, nil
}

// Requests returns how many pages were added.
func (r *ListRead) Requests() int { return r.requests }

// Problem names the first entry that did not decode, such as
// "data.sessions[3].id is missing"; "" when every one did.
func (r *ListRead) Problem() string { return r.problem }

// Hint returns what this read showed about the API's pages, for the next
// read of the same list.
func (r *ListRead) Hint() PageHint { return r.hint }

// Settled reports whether the list that was read is the list as it was at
// one instant: read in one page, or, with paging objects, in pages whose
// total_count never changed and that together hold that many sessions.
// A read that is not settled may have missed a session that a change
// between two pages moved from a page not yet read to one already read.
func (r *ListRead) Settled() bool {
	if !r.done || r.err != nil {
		return false
	}
	if r.unpaged {
		return !r.spans
	}
	return !r.shifted && len(r.sessions) == r.total && r.problem == ""
}
