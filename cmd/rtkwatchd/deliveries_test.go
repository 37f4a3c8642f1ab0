package main

import (
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/rtkwatchd/rtkwatchd/internal/diff"
	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
	"github.com/rtkwatchd/rtkwatchd/internal/store"
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

// TestDeliveriesPages: `deliveries` lists 100 deliveries, or --limit, after
// the --after cursor, and says how to ask for the next page; from the
// store itself and through the daemon alike.
func TestDeliveriesPages(t *testing.T) {
	t.Parallel()
	for _, viaDaemon := range []bool{false, true} {
		t.Run(fmt.Sprintf("via daemon=%v", viaDaemon), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			seedOutbox(t, f.params.StorePath, "ops", 1200) // IDs 1…1200, more than a page read at once
			if viaDaemon {
				standInForDaemon(t, f)
			}
			tests := []struct {
				args       []string
				first, n   int
				wantMore   string
				wantAbsent bool
			}{
				{nil, 1, 100, "more after ID 100: rtkwatchd deliveries --config " + shellQuote(f.config) + " --after 100", false},
				{[]string{"--after", "100", "--limit", "149"}, 101, 149, "more after ID 249: rtkwatchd deliveries --config " + shellQuote(f.config) + " --limit 149 --after 249", false},
				{[]string{"--limit", "1100", "--after", "50"}, 51, 1100, "more after ID 1150: rtkwatchd deliveries --config " + shellQuote(f.config) + " --limit 1100 --after 1150", false},
				{[]string{"--after", "1199", "--limit", "1"}, 1200, 1, "", false},
				{[]string{"--after", "200", "--limit", "1000"}, 201, 1000, "", false},
				{[]string{"--limit", "1200"}, 1, 1200, "", false},
				{[]string{"--after", "1200"}, 0, 0, "", true},
			}
			for _, tt := range tests {
				r := f.run("deliveries", tt.args...)
				r.wantCode(t, exitOK)
				out, more := r.stdout, ""
				if i := strings.LastIndex(strings.TrimRight(out, "\n"), "\n"); i >= 0 && strings.HasPrefix(out[i+1:], "more after") {
					out, more = out[:i+1], strings.TrimSpace(out[i+1:])
				}
				if more != tt.wantMore {
					t.Errorf("deliveries %v: next-page line %q, want %q", tt.args, more, tt.wantMore)
				}
				if tt.wantAbsent {
					if out != "nothing more\n" {
						t.Errorf("deliveries %v printed %q, want \"nothing more\"", tt.args, out)
					}
					continue
				}
				ids := column(parseTable(t, out), "ID")
				if len(ids) != tt.n || ids[0] != fmt.Sprint(tt.first) || ids[len(ids)-1] != fmt.Sprint(tt.first+tt.n-1) {
					t.Errorf("deliveries %v: %d rows from %s to %s, want %d from %d", tt.args, len(ids), ids[0], ids[len(ids)-1], tt.n, tt.first)
				}
			}
			for _, args := range [][]string{{"--limit", "0"}, {"--limit", "-3"}, {"retry", "--all", "--limit", "5"}, {"retry", "1", "--after", "5"}} {
				r := f.run("deliveries", args...)
				r.wantCode(t, exitUsage)
			}
		})
	}
}

// seedOutbox queues n deliveries for notifier in the store at path.
func seedOutbox(t *testing.T, path, notifier string, n int) {
	t.Helper()
	st, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var evs []store.NewEvent
	for i := range n {
		evs = append(evs, store.NewEvent{ID: fmt.Sprintf("evt_%s_%04d", notifier, i), Type: diff.TypeSessionStarted, CreatedAt: time.Now(),
			Body: []byte(`{}`), Notifiers: []string{notifier}})
	}
	if err := st.Commit([]store.Update{{Key: store.SnapshotKey{Watch: "town-hall", MeetingID: "meeting-1"}, Snapshot: []byte(`{}`), Events: evs}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestDeliveriesNextPageNamesConfig: the next-page hint names --config
// when the command was given it, quoted for a shell, and not when the
// config came from RTKWATCHD_CONFIG.
func TestDeliveriesNextPageNamesConfig(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	seedOutbox(t, f.params.StorePath, "ops", 3)
	env := maps.Clone(f.env)
	env["RTKWATCHD_CONFIG"] = f.config
	r := runCLI(t, env, "deliveries", "--limit", "2")
	r.wantCode(t, exitOK)
	if want := "more after ID 2: rtkwatchd deliveries --limit 2 --after 2\n"; !strings.HasSuffix(r.stdout, want) {
		t.Errorf("from RTKWATCHD_CONFIG: stdout ends %q, want %q", r.stdout, want)
	}
	r = f.run("deliveries", "--limit", "2")
	r.wantCode(t, exitOK)
	if want := "more after ID 2: rtkwatchd deliveries --config " + f.config + " --limit 2 --after 2\n"; !strings.HasSuffix(r.stdout, want) {
		t.Errorf("with --config: stdout ends %q, want %q", r.stdout, want)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/etc/rtkwatchd/config.yaml": "/etc/rtkwatchd/config.yaml",
		"run.yaml":                   "run.yaml",
		"my config.yaml":             "'my config.yaml'",
		"it's.yaml":                  `'it'\''s.yaml'`,
		"$HOME/c.yaml":               "'$HOME/c.yaml'",
		"":                           "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}
