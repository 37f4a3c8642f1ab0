package rtkapi

import "context"

// readList reads the whole list that q selects, page after page with no
// pause between them, and returns its sessions and the number of requests
// made. Tests only: it skips every request budget; the poller sends each
// page of a [ListRead] through its budget instead.
func (c *Client) readList(ctx context.Context, appID string, q ListQuery) ([]Session, int, error) {
	r := NewListRead(q, PageHint{})
	for {
		next, ok := r.Next()
		if !ok {
			break
		}
		page, err := c.SessionsPage(ctx, appID, next)
		if err != nil {
			return nil, r.Requests() + 1, err
		}
		if err := r.Add(page); err != nil {
			return nil, r.Requests(), err
		}
	}
	s, err := r.Sessions()
	return s, r.Requests(), err
}
