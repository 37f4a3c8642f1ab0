package rtkapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cloudflare/cloudflare-go/v6/option"
)

// ListOptions select what [Client.Recordings] and [Client.Livestreams] read.
type ListOptions struct {
	// Since leaves out the items created before it (a recording's
	// invoked_time, a livestream's created_at); zero reads every one.
	Since time.Time
	// PerPage is the page size asked for; 0 or less means DefaultPerPage.
	PerPage int
	// BeforePage, when not nil, is called before each page is requested,
	// the first one included; an error ends the read with that error. The
	// poller waits for its request budget there.
	BeforePage func(context.Context) error
}

// pagingObject is the "paging" object of the recordings and livestreams
// lists: total_count entries in all, and the 0-based offsets of the first
// and last entry of the page.
type pagingObject struct {
	TotalCount  int64 `json:"total_count"`
	StartOffset int64 `json:"start_offset"`
	EndOffset   int64 `json:"end_offset"`
}

// listPage is one decoded page of a list: its entries that decoded and
// their ids, the ids of every entry that has one, how many entries it held,
// and the entries that did not decode.
type listPage[T any] struct {
	items    []T
	itemIDs  []string
	ids      []string
	entries  int
	problems []string
	paging   *pagingObject
}

// appList is how one app-wide list is read: send asks for one page, and
// entry turns the wire form W of one entry (at its path, such as
// "data[3]") into an item, its id, and a problem when it is unusable.
type appList[W, T any] struct {
	send  func(c *Client, ctx context.Context, appID string, o ListOptions, pageNo, perPage int, opts ...option.RequestOption) error
	entry func(at string, w *W) (item T, id, problem string)
}

// readAppList reads every page of an app's list l; see readList.
func readAppList[W, T any](ctx context.Context, c *Client, appID string, o ListOptions, l appList[W, T]) ([]T, []string, int, error) {
	if appID == "" {
		return nil, nil, 0, &Error{Kind: KindClient, Message: "empty app ID"}
	}
	appID = url.PathEscape(appID)
	return readList(ctx, o, func(ctx context.Context, pageNo, perPage int) (listPage[T], *Error) {
		r := c.call(ctx, func(ctx context.Context, opts ...option.RequestOption) error {
			return l.send(c, ctx, appID, o, pageNo, perPage, opts...)
		})
		if r.err != nil {
			return listPage[T]{}, r.err
		}
		return decodeAppPage(r.status, r.body, l)
	})
}

// decodeAppPage decodes one page of the list l.
func decodeAppPage[W, T any](status int, body []byte, l appList[W, T]) (listPage[T], *Error) {
	entries, paging, e := decodeListEnvelope(status, body)
	if e != nil {
		return listPage[T]{}, e
	}
	pg := listPage[T]{entries: len(entries), paging: paging, items: make([]T, 0, len(entries))}
	for i, raw := range entries {
		at := entryPath("data", i)
		var w W
		if err := json.Unmarshal(raw, &w); err != nil {
			pg.problems = append(pg.problems, entryProblem(at, err))
			continue
		}
		it, id, problem := l.entry(at, &w)
		if id != "" {
			pg.ids = append(pg.ids, id)
		}
		if problem != "" {
			pg.problems = append(pg.problems, problem)
			continue
		}
		pg.items = append(pg.items, it)
		pg.itemIDs = append(pg.itemIDs, id)
	}
	return pg, nil
}

// readList reads every page of a list: page_no from 1, PerPage a page, in
// the order the fetch asks for. The "paging" object, when the API sends
// one, says when the list is complete (a short page is not the end while
// total_count says more) and whether page_no counts from 0 (page 1 then
// starts at offset PerPage, and page 0 is read too); without one, a page
// shorter than PerPage ends the list. A full page that brings no id not
// seen before means that page_no is ignored: that is a failed read, not a
// thousand more requests. Items listed twice (the list shifted between two
// pages) are kept once. It returns the items, the problems of the entries
// left out, and the pages read.
func readList[T any](ctx context.Context, o ListOptions,
	fetch func(ctx context.Context, pageNo, perPage int) (listPage[T], *Error)) ([]T, []string, int, error) {
	perPage := o.PerPage
	if perPage <= 0 {
		perPage = DefaultPerPage
	}
	var (
		items    []T
		problems []string
		seen     = make(map[string]bool) // ids of every entry read
		kept     = make(map[string]bool) // ids of the items returned
		read     = make(map[int]bool)    // pages read
		pages    int
	)
	for queue := []int{1}; len(queue) > 0; {
		pageNo := queue[0]
		queue = queue[1:]
		if read[pageNo] {
			continue
		}
		read[pageNo] = true
		if pages == maxListPages {
			return nil, nil, pages, &Error{Kind: KindDecode, StatusCode: http.StatusOK,
				Message: "list did not end after " + strconv.Itoa(maxListPages) + " pages"}
		}
		if o.BeforePage != nil {
			if err := o.BeforePage(ctx); err != nil {
				return nil, nil, pages, err
			}
		}
		pg, e := fetch(ctx, pageNo, perPage)
		pages++
		if e != nil {
			return nil, nil, pages, e
		}
		problems = append(problems, pg.problems...)
		fresh := 0
		for _, id := range pg.ids {
			if !seen[id] {
				seen[id] = true
				fresh++
			}
		}
		for i, it := range pg.items {
			if id := pg.itemIDs[i]; id == "" || !kept[id] {
				kept[id] = true
				items = append(items, it)
			}
		}
		if pg.entries >= perPage && fresh == 0 {
			return nil, nil, pages, &Error{Kind: KindDecode, StatusCode: http.StatusOK,
				Message: "page " + strconv.Itoa(pageNo) + " of the list repeats earlier entries: the API seems to ignore page_no"}
		}
		more := pg.entries >= perPage
		if p := pg.paging; p != nil {
			more = pg.entries > 0 && p.EndOffset+1 < p.TotalCount
			if pageNo == 1 && p.StartOffset == int64(perPage) && p.TotalCount > 0 {
				queue = append(queue, 0) // page_no counts from 0: page 1 was the second
			}
		}
		if more {
			queue = append(queue, max(pageNo, 1)+1)
		}
	}
	return items, problems, pages, nil
}

// listEnvelope is the top level of a list's body.
type listEnvelope struct {
	Success *bool             `json:"success"`
	Data    []json.RawMessage `json:"data"`
	Paging  json.RawMessage   `json:"paging"`
}

// decodeListEnvelope checks a list body's top level and returns its
// entries, each as raw JSON, and its paging object (nil when absent). A
// missing or null "data" is an empty list.
func decodeListEnvelope(status int, body []byte) ([]json.RawMessage, *pagingObject, *Error) {
	var env listEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &te) && te.Field == "data":
			return nil, nil, decodeError(status, "data is not a list")
		case errors.As(err, &te) && te.Field == "success":
			return nil, nil, decodeError(status, "success is not true")
		case errors.As(err, &te):
			return nil, nil, decodeError(status, "not a JSON object")
		}
		if e := checkJSON(status, body); e != nil {
			return nil, nil, e
		}
		return nil, nil, decodeError(status, "not a JSON object")
	}
	if env.Success == nil || !*env.Success {
		return nil, nil, decodeError(status, "success is not true")
	}
	paging, problem := decodePaging(env.Paging)
	if problem != "" {
		return nil, nil, decodeError(status, problem)
	}
	return env.Data, paging, nil
}

// decodePaging reads a paging object: nil when absent or null, a problem
// when its numbers are not whole, or not in order.
func decodePaging(raw json.RawMessage) (*pagingObject, string) {
	if d := bytes.TrimSpace(raw); len(d) == 0 || bytes.Equal(d, []byte("null")) {
		return nil, ""
	}
	var w struct {
		TotalCount  *float64 `json:"total_count"`
		StartOffset *float64 `json:"start_offset"`
		EndOffset   *float64 `json:"end_offset"`
	}
	if err := json.Unmarshal(raw, &w); err != nil {
		return nil, "paging is not an object of numbers"
	}
	var p pagingObject
	for _, f := range []struct {
		name string
		v    *float64
		to   *int64
	}{{"total_count", w.TotalCount, &p.TotalCount}, {"start_offset", w.StartOffset, &p.StartOffset}, {"end_offset", w.EndOffset, &p.EndOffset}} {
		if f.v == nil || *f.v < 0 || *f.v != math.Trunc(*f.v) || *f.v > math.MaxInt32 {
			return nil, "paging." + f.name + " is not a whole number >= 0"
		}
		*f.to = int64(*f.v)
	}
	return &p, ""
}

// entryPath names entry i of the list at path, such as "data[3]".
func entryPath(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// entryProblem describes why the entry at path did not decode, naming the
// field but quoting no value.
func entryProblem(at string, err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		got, _, _ := strings.Cut(te.Value, " ") // "number 1e400": the kind, not the value
		want := jsonKind(te.Type.Kind().String())
		if got == want {
			return at + "." + te.Field + " is a " + got + " out of range"
		}
		return at + "." + te.Field + " is a JSON " + got + ", not a " + want
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return at + " is not valid JSON"
	}
	return at + " is not an object of the expected fields"
}

// checkJSON rejects an empty or malformed body, saying where the JSON
// broke but quoting none of it.
func checkJSON(status int, body []byte) *Error {
	if len(body) == 0 {
		return decodeError(status, "empty body")
	}
	if json.Valid(body) {
		return nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return decodeError(status, "invalid JSON: "+err.Error())
	}
	return decodeError(status, "invalid JSON")
}

// timeField reads the optional RFC 3339 timestamp of the entry at path's
// field name: the zero time when absent or null, or a problem when it does
// not parse.
func timeField(at, name string, s *string) (time.Time, string) {
	if s == nil || *s == "" {
		return time.Time{}, ""
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		return time.Time{}, at + "." + name + " is not an RFC 3339 time"
	}
	return t, ""
}
