package rtkapi

import (
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

// dayWire is the JSON of one day of session stats, each field as the SDK
// types it.
type dayWire struct {
	Day     text   `json:"day"`
	Minutes number `json:"total_session_minutes"`
}

// analyticsBody is the answer of GET …/analytics/daywise, down to the
// days; a day that is not an object stays raw, and is named.
type analyticsBody struct {
	Success *bool `json:"success"`
	Data    *struct {
		SessionStats *struct {
			DayStats *[]json.RawMessage `json:"day_stats"`
		} `json:"session_stats"`
	} `json:"data"`
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
	r := c.call(ctx, viaSDK(func(ctx context.Context, opts ...option.RequestOption) error {
		_, err := c.analytics.GetOrgAnalytics(ctx, appID, p, opts...)
		return err
	}))
	if r.err != nil {
		return Usage{}, r.err
	}
	u, e := decodeUsage(r.status, r.body)
	if e != nil {
		return Usage{}, e
	}
	return u, nil
}

// decodeUsage decodes a daywise analytics body. Minutes above
// MaxMinutesConsumed, which no app consumes in a day, are a problem of the
// day; negative ones are passed on, for the rules to judge.
func decodeUsage(status int, body []byte) (Usage, *Error) {
	var r analyticsBody
	if e := unmarshal(status, body, &r); e != nil {
		return Usage{}, e
	}
	if r.Success == nil || !*r.Success {
		return Usage{}, decodeError(status, "success is not true")
	}
	if r.Data == nil || r.Data.SessionStats == nil || r.Data.SessionStats.DayStats == nil {
		return Usage{}, decodeError(status, "no data.session_stats.day_stats")
	}
	days := *r.Data.SessionStats.DayStats
	u := Usage{Days: make([]UsageDay, 0, len(days))}
	for i, raw := range days {
		at := entryPath("data.session_stats.day_stats", i)
		var w dayWire
		if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &w) != nil {
			u.Problems = append(u.Problems, at+" is "+clip(string(raw))+", not an object")
			continue
		}
		if problem := w.Day.check("day", true); problem != "" {
			u.Problems = append(u.Problems, at+"."+problem)
			continue
		}
		m := w.Minutes
		switch {
		case m.bad != "" || !m.set:
			_, problem := m.within("total_session_minutes", true, MaxMinutesConsumed, false)
			u.Problems = append(u.Problems, at+"."+problem)
			continue
		case m.v > MaxMinutesConsumed:
			u.Problems = append(u.Problems, at+".total_session_minutes is "+m.describe()+", above "+formatNumber(MaxMinutesConsumed))
			continue
		}
		u.Days = append(u.Days, UsageDay{Day: w.Day.v, Minutes: m.v})
	}
	return u, nil
}
