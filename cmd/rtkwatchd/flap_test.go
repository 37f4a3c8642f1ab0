package main

import (
	"testing"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/config"
	"github.com/rtkwatchd/rtkwatchd/internal/diff"
)

func TestDescribeRulesFlapping(t *testing.T) {
	tests := []struct {
		w    config.Watch
		want string
	}{
		{config.Watch{FailingAfter: 3, RecoverAfter: 1}, "failing after 3"},
		{config.Watch{FailingAfter: 3, FailingRatio: 0.5, RecoverAfter: 3, RemindEvery: time.Hour},
			"failing after 3 or 5 of 10; recovered after 3; reminders every 1h"},
		{config.Watch{FailingAfter: 2, FailingRatio: 0.35, RecoverAfter: 2, RemindEvery: 90 * time.Minute},
			"failing after 2 or 4 of 10; recovered after 2; reminders every 1h30m"},
		{config.Watch{FailingAfter: 1, FailingRatio: 0.07, RecoverAfter: 1}, "failing after 1 or 1 of 10"},
	}
	for _, tt := range tests {
		if got := describeRules(tt.w); got != tt.want {
			t.Errorf("describeRules(%+v) = %q, want %q", tt.w, got, tt.want)
		}
	}
}

func TestHealthRecovering(t *testing.T) {
	tests := []struct {
		s    diff.Snapshot
		want string
	}{
		{diff.Snapshot{Baselined: true, Failing: true, ConsecutiveFailures: 2, LastError: "server: 503"}, "FAILING (2): server: 503"},
		{diff.Snapshot{Baselined: true, Failing: true, GoodStreak: 2, LastError: "server: 503"}, "FAILING, recovering (2 good): server: 503"},
	}
	for _, tt := range tests {
		if got := health(tt.s); got != tt.want {
			t.Errorf("health(%+v) = %q, want %q", tt.s, got, tt.want)
		}
	}
}
