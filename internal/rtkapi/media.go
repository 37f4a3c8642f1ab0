package rtkapi

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
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
	// Hint, when not nil, is what earlier reads of the same list showed of
	// the API's pages (see [PageHint]); the read starts from it and leaves
	// in it what it learned.
	Hint *PageHint
}

// listPage is one decoded page of an app's list: its entries that decoded
// and their ids, the ids of every entry that has one, how many entries it
// held, the entries that did not decode, and its paging object.
type listPage[T any] struct {
	items    []T
	itemIDs  []string
	ids      []string
	entries  int
	problems []string
	paging   *Paging
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
		r := c.call(ctx, viaSDK(func(ctx context.Context, opts ...option.RequestOption) error {
			return l.send(c, ctx, appID, o, pageNo, perPage, opts...)
		}))
		if r.err != nil {
			return listPage[T]{}, r.err
		}
		return decodeAppPage(r.status, r.body, l)
	})
}

// readList reads every page of a list with fetch, as a [ListRead] reads the
// sessions list and by its rules: the paging object, when the answers have
// one, says how many pages there are, whether page_no counts from 0 and
// whether a page begins where it should; a page that brings no id not read
// before fails the read rather than leading to a thousand more. Items
// listed twice (the list shifted between two pages) are kept once, in the
// order first read, and so is each problem of the entries left out. It
// returns the items, those problems, and the pages read.
func readList[T any](ctx context.Context, o ListOptions,
	fetch func(ctx context.Context, pageNo, perPage int) (listPage[T], *Error)) ([]T, []string, int, error) {
	var hint PageHint
	if o.Hint != nil {
		hint = *o.Hint
	}
	lr := NewListRead(ListQuery{PerPage: o.PerPage}, hint)
	var (
		items    []T
		problems []string
		kept     = make(map[string]bool) // ids of the items
		told     = make(map[string]bool) // the problems
	)
	for {
		q, ok := lr.Next()
		if !ok {
			break
		}
		if o.BeforePage != nil {
			if err := o.BeforePage(ctx); err != nil {
				return nil, nil, lr.Requests(), err
			}
		}
		pg, e := fetch(ctx, q.PageNo, q.PerPage)
		if e != nil {
			return nil, nil, lr.Requests() + 1, e
		}
		for _, pr := range pg.problems {
			if !told[pr] {
				told[pr] = true
				problems = append(problems, pr)
			}
		}
		for i, it := range pg.items {
			if id := pg.itemIDs[i]; id == "" || !kept[id] {
				kept[id] = true
				items = append(items, it)
			}
		}
		seen := make([]Session, len(pg.ids)) // what ListRead counts: the ids
		for i, id := range pg.ids {
			seen[i].ID = id
		}
		if err := lr.Add(Page{Sessions: seen, Entries: pg.entries, Paging: pg.paging}); err != nil {
			return nil, nil, lr.Requests(), err
		}
	}
	if _, err := lr.Sessions(); err != nil {
		return nil, nil, lr.Requests(), err
	}
	if o.Hint != nil {
		*o.Hint = lr.Hint()
	}
	return items, problems, lr.Requests(), nil
}

// listBody is the answer of an app's list.
type listBody struct {
	Success *bool             `json:"success"`
	Data    []json.RawMessage `json:"data"`
	Paging  *wirePaging       `json:"paging"`
}

// decodeAppPage decodes one page of the list l. A missing or null "data"
// is an empty page; an entry that is not an object, or whose fields do not
// have the types the SDK documents, is left out and named.
func decodeAppPage[W, T any](status int, body []byte, l appList[W, T]) (listPage[T], *Error) {
	var r listBody
	if e := unmarshal(status, body, &r); e != nil {
		return listPage[T]{}, e
	}
	if r.Success == nil || !*r.Success {
		return listPage[T]{}, decodeError(status, "success is not true")
	}
	pg := listPage[T]{entries: len(r.Data), items: make([]T, 0, len(r.Data))}
	if r.Paging != nil {
		p, problem := r.Paging.paging()
		if problem != "" {
			return listPage[T]{}, decodeError(status, "paging."+problem)
		}
		pg.paging = &p
	}
	for i, raw := range r.Data {
		at := entryPath("data", i)
		var w W
		if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &w) != nil {
			pg.problems = append(pg.problems, at+" is "+clip(string(raw))+", not an object")
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

// entryPath names entry i of the list at path, such as "data[3]".
func entryPath(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// textField is a string field of an entry, by name.
type textField struct {
	name string
	t    *text
}

// checkTexts names, at the entry's path, the first of fields that is not a
// string.
func checkTexts(at string, fields []textField) string {
	for _, f := range fields {
		if problem := f.t.check(f.name, false); problem != "" {
			return at + "." + problem
		}
	}
	return ""
}

// timeField reads the optional RFC 3339 timestamp of the entry at path's
// field name: the zero time when absent or null, or a problem when it is
// not a string or does not parse.
func timeField(at, name string, t *text) (time.Time, string) {
	if problem := t.check(name, false); problem != "" {
		return time.Time{}, at + "." + problem
	}
	if t.v == "" {
		return time.Time{}, ""
	}
	v, err := time.Parse(time.RFC3339Nano, t.v)
	if err != nil {
		return time.Time{}, at + "." + name + " is " + strconv.Quote(clip(t.v)) + ", not an RFC 3339 time"
	}
	return v, ""
}
