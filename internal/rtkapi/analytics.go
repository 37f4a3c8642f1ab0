package rtkapi

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"

	"github.com/cloudflare/cloudflare-go/v6/option"
	"github.com/cloudflare/cloudflare-go/v6/realtime_kit"
)

// UsageDay is one day of an app's session minutes, from
// data.session_stats.day_stats[] of GET …/analytics/daywise
// (realtime_kit.AnalyticsGetOrgAnalyticsResponseDataSessionStatsDayStat).
// Its values are as the API sent them: the caller judges a day in the
// future or negative minutes.
type UsageDay struct {
	Day     string  // day
	Minutes float64 // total_session_minutes
}

// Usage is what [Client.DaywiseUsage] read.
type Usage struct {
	// Days are the days that decoded, in the API's order.
	Days []UsageDay
	// Problems name the days that did not decode, which are left out:
	// "data.session_stats.day_stats[2].total_session_minutes is missing".
	Problems []string
}

// dayWire is the JSON of one day of session stats.
type dayWire struct {
	Day     *string  `json:"day"`
	Minutes *float64 `json:"total_session_minutes"`
}

// DaywiseUsage reads an app's session minutes per day from start to end
// (2006-01-02, both included; "" leaves the bound to the API). A day that
// does not decode is left out and named in Problems; a body without
// data.session_stats.day_stats fails the read, with an [*Error].
func (c *Client) DaywiseUsage(ctx context.Context, appID, start, end string) (Usage, error) {
	if appID == "" {
		return Usage{}, &Error{Kind: KindClient, Message: "empty app ID"}
	}
	var p realtime_kit.AnalyticsGetOrgAnalyticsParams
	p.AccountID.Value, p.AccountID.Present = c.accountID, true
	p.StartDate.Value, p.StartDate.Present = start, start != ""
	p.EndDate.Value, p.EndDate.Present = end, end != ""
	appID = url.PathEscape(appID)
	r := c.call(ctx, func(ctx context.Context, opts ...option.RequestOption) error {
		_, err := c.analytics.GetOrgAnalytics(ctx, appID, p, opts...)
		return err
	})
	if r.err != nil {
		return Usage{}, r.err
	}
	u, e := decodeUsage(r.status, r.body)
	if e != nil {
		return Usage{}, e
	}
	return u, nil
}

// decodeUsage decodes a daywise analytics body.
func decodeUsage(status int, body []byte) (Usage, *Error) {
	if e := checkJSON(status, body); e != nil {
		return Usage{}, e
	}
	var env struct {
		Success *bool `json:"success"`
		Data    *struct {
			SessionStats *struct {
				DayStats json.RawMessage `json:"day_stats"`
			} `json:"session_stats"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return Usage{}, decodeError(status, "data.session_stats is not an object")
	}
	if env.Success == nil || !*env.Success {
		return Usage{}, decodeError(status, "success is not true")
	}
	if env.Data == nil || env.Data.SessionStats == nil {
		return Usage{}, decodeError(status, "no data.session_stats")
	}
	var days []json.RawMessage
	if d := bytes.TrimSpace(env.Data.SessionStats.DayStats); len(d) == 0 || d[0] != '[' || json.Unmarshal(d, &days) != nil {
		return Usage{}, decodeError(status, "data.session_stats.day_stats is not a list")
	}
	u := Usage{Days: make([]UsageDay, 0, len(days))}
	for i, raw := range days {
		at := entryPath("data.session_stats.day_stats", i)
		var w dayWire
		if err := json.Unmarshal(raw, &w); err != nil {
			u.Problems = append(u.Problems, entryProblem(at, err))
			continue
		}
		switch {
		case w.Day == nil:
			u.Problems = append(u.Problems, at+".day is missing")
		case w.Minutes == nil:
			u.Problems = append(u.Problems, at+".total_session_minutes is missing")
		default:
			u.Days = append(u.Days, UsageDay{Day: *w.Day, Minutes: *w.Minutes})
		}
	}
	return u, nil
}
