package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// deliveryRows parses the table `deliveries` printed; an empty outbox or
// no dead letters is no rows.
func deliveryRows(t *testing.T, r result) []map[string]string {
	t.Helper()
	r.wantCode(t, exitOK)
	r.noSecrets(t)
	switch r.stdout {
	case "the outbox is empty: every event has been delivered\n", "no dead letters\n":
		return nil
	}
	return parseTable(t, r.stdout)
}

// column returns one column of rows.
func column(rows []map[string]string, name string) []string {
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		out = append(out, r[name])
	}
	return out
}

func TestDeliveriesDeadLetters(t *testing.T) {
	f := newFixture(t)
	wantTypes(t, nil, f.once())
	if rows := deliveryRows(t, f.run("deliveries")); rows != nil {
		t.Fatalf("outbox after the baseline = %v, want empty", rows)
	}
	if rows := deliveryRows(t, f.run("deliveries", "--failed")); rows != nil {
		t.Fatalf("dead letters after the baseline = %v, want none", rows)
	}

	// A 410 is not retried: the event is a dead letter at once.
	f.hook.status.Store(http.StatusGone)
	f.api.StartSession(testApp, "meeting-1", rtkfake.Session{LiveParticipants: 1})
	evs := f.once()
	wantTypes(t, []string{diff.TypeSessionStarted}, evs)
	wantDelivered(t, evs, f.hook.take())

	if rows := deliveryRows(t, f.run("deliveries")); rows != nil {
		t.Errorf("outbox holds %v, want the dead letter gone from it", rows)
	}
	dead := deliveryRows(t, f.run("deliveries", "--failed"))
	if len(dead) != 1 {
		t.Fatalf("dead letters = %v, want 1", dead)
	}
	row := dead[0]
	for k, want := range map[string]string{
		"NOTIFIER": "ops", "EVENT": evs[0].Data.ID, "TYPE": diff.TypeSessionStarted, "ATTEMPTS": "1",
	} {
		if row[k] != want {
			t.Errorf("dead letter %s = %q, want %q", k, row[k], want)
		}
	}
	if !strings.Contains(row["LAST ERROR"], "410") {
		t.Errorf("dead letter LAST ERROR = %q, want it to name the 410", row["LAST ERROR"])
	}
	if row["DEAD SINCE"] == "-" || row["DEAD SINCE"] == "" {
		t.Errorf("dead letter DEAD SINCE = %q, want a time", row["DEAD SINCE"])
	}
	id := row["ID"]

	// An ID that is no dead letter is a usage error, and moves nothing,
	// not even the good IDs beside it.
	r := f.run("deliveries", "retry", id, "999999")
	r.wantCode(t, exitUsage)
	if want := "rtkwatchd: requeue dead letters: 999999: no such delivery\n"; r.stderr != want {
		t.Errorf("retry of an unknown ID: stderr = %q, want %q", r.stderr, want)
	}
	if got := column(deliveryRows(t, f.run("deliveries", "--failed")), "ID"); !cmp.Equal([]string{id}, got) {
		t.Errorf("dead letters after a bad retry = %v, want [%s]", got, id)
	}

	r = f.run("deliveries", "retry", id)
	r.wantCode(t, exitOK)
	if want := "queued 1 dead letter(s) again: the daemon, or the next `rtkwatchd once`, delivers them\n"; r.stdout != want {
		t.Errorf("retry printed %q, want %q", r.stdout, want)
	}
	if rows := deliveryRows(t, f.run("deliveries", "--failed")); rows != nil {
		t.Errorf("dead letters after retry = %v, want none", rows)
	}
	queued := deliveryRows(t, f.run("deliveries"))
	want := []map[string]string{{
		"ID": id, "NOTIFIER": "ops", "EVENT": evs[0].Data.ID, "TYPE": diff.TypeSessionStarted,
		"CREATED": row["CREATED"], "ATTEMPTS": "0", "NEXT ATTEMPT": "now", "LAST ERROR": "-",
	}}
	if diff := cmp.Diff(want, queued); diff != "" {
		t.Errorf("outbox after retry (-want +got):\n%s", diff)
	}

	// The next once delivers it, with the same webhook-id.
	f.hook.status.Store(http.StatusOK)
	wantTypes(t, nil, f.once())
	wantDelivered(t, evs, f.hook.take())
	if rows := deliveryRows(t, f.run("deliveries")); rows != nil {
		t.Errorf("outbox after delivery = %v, want empty", rows)
	}

	// retry --all takes every dead letter.
	f.hook.status.Store(http.StatusGone)
	f.api.UpdateSession(testApp, "meeting-1", func(s *rtkfake.Session) { s.LiveParticipants = 25 })
	evs = f.once()
	wantTypes(t, []string{diff.TypeParticipantsThreshold, diff.TypeParticipantsThreshold}, evs)
	f.hook.take()
	dead = deliveryRows(t, f.run("deliveries", "--failed"))
	if diff := cmp.Diff([]string{evs[0].Data.ID, evs[1].Data.ID}, column(dead, "EVENT")); diff != "" {
		t.Fatalf("dead letters (-want +got):\n%s", diff)
	}
	r = f.run("deliveries", "--all", "retry") // flags may stand anywhere
	r.wantCode(t, exitOK)
	if want := "queued 2 dead letter(s) again: the daemon, or the next `rtkwatchd once`, delivers them\n"; r.stdout != want {
		t.Errorf("retry --all printed %q, want %q", r.stdout, want)
	}
	if diff := cmp.Diff(column(dead, "ID"), column(deliveryRows(t, f.run("deliveries")), "ID")); diff != "" {
		t.Errorf("outbox after retry --all, by ID (-want +got):\n%s", diff)
	}
	r = f.run("deliveries", "retry", "--all")
	r.wantCode(t, exitOK)
	if !strings.HasPrefix(r.stdout, "queued 0 dead letter(s) again") {
		t.Errorf("retry --all without dead letters printed %q", r.stdout)
	}
}

func TestDeliveriesBadArguments(t *testing.T) {
	f := newFixture(t)
	wantTypes(t, nil, f.once())
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"not a number", []string{"retry", "abc"}, `retry: "abc" is not a delivery ID (see ` + "`rtkwatchd deliveries --failed`)"},
		{"zero", []string{"retry", "0"}, `retry: "0" is not a delivery ID`},
		{"fraction", []string{"retry", "1.5"}, `retry: "1.5" is not a delivery ID`},
		{"negative", []string{"retry", "-1"}, "flag provided but not defined: -1"},
		{"too large", []string{"retry", "18446744073709551616"}, `retry: "18446744073709551616" is not a delivery ID`},
		{"one bad among good", []string{"retry", "1", "x2"}, `retry: "x2" is not a delivery ID`},
		{"no ids", []string{"retry"}, "retry needs dead letter IDs, or --all"},
		{"ids and --all", []string{"retry", "1", "--all"}, "retry takes IDs or --all, not both"},
		{"--all without retry", []string{"--all"}, "--all goes with retry"},
		{"unknown argument", []string{"list"}, `unknown deliveries argument "list" (want retry)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.run("deliveries", tt.args...)
			r.wantCode(t, exitUsage)
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}
}
