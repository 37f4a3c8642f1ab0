package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The minimal poller is the yardstick of TestLoad: the least a Go program
// must do to poll the same fake as the daemon. Each second it asks every
// meeting's active session (or reads the sessions list page by page) over
// keep-alive connections, decodes each answer with encoding/json, and puts
// each session it read, encoded again, into bbolt, 500 puts a transaction.
// It has no rules, no events, no metrics and no logs.
//
// TestLoad runs it as a child process, this test binary again with
// minimalEnv set, so that its CPU time and memory are its own.

// minimalEnv holds the minimal poller's job, as JSON; without it
// TestLoadMinimalPoller is skipped.
const minimalEnv = "RTKWATCHD_LOAD_MINIMAL"

// minimalJob is what the minimal poller polls, and for how long.
type minimalJob struct {
	BaseURL  string        `json:"base_url"` // the fake's, ends in /client/v4/
	App      string        `json:"app"`
	Meetings []string      `json:"meetings"` // polled one by one; empty: read the list
	Workers  int           `json:"workers"`  // requests in flight at most
	PerPage  int           `json:"per_page"` // of the sessions list
	Store    string        `json:"store"`    // bbolt file
	For      time.Duration `json:"for"`      // it stops by itself after this
}

// minimalSession is the part of a session the minimal poller keeps.
type minimalSession struct {
	ID               string  `json:"id"`
	AssociatedID     string  `json:"associated_id"`
	Status           string  `json:"status"`
	LiveParticipants int     `json:"live_participants"`
	MinutesConsumed  float64 `json:"minutes_consumed"`
	StartedAt        string  `json:"started_at"`
	UpdatedAt        string  `json:"updated_at"`
}

// minimalPut is one bbolt put.
type minimalPut struct {
	key string
	val []byte
}

// TestLoadMinimalPoller is the minimal poller's process; TestLoad starts it.
func TestLoadMinimalPoller(t *testing.T) {
	spec := os.Getenv(minimalEnv)
	if spec == "" {
		t.Skip("the minimal poller of TestLoad; it runs only as TestLoad's child")
	}
	var job minimalJob
	if err := json.Unmarshal([]byte(spec), &job); err != nil {
		t.Fatalf("decode %s: %v", minimalEnv, err)
	}
	if err := runMinimalPoller(t.Context(), job); err != nil {
		t.Fatal(err)
	}
}

// runMinimalPoller polls job once a second until job.For has passed.
func runMinimalPoller(ctx context.Context, job minimalJob) error {
	ctx, cancel := context.WithTimeout(ctx, job.For)
	defer cancel()
	db, err := bolt.Open(job.Store, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer db.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: job.Workers}, Timeout: 5 * time.Second}
	puts := make(chan minimalPut, 1024)
	stored := make(chan error, 1)
	go func() { stored <- putBatches(db, puts) }()

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for ctx.Err() == nil {
		if len(job.Meetings) > 0 {
			pollMeetingsMinimal(ctx, hc, job, puts)
		} else {
			readListMinimal(ctx, hc, job, puts)
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	close(puts)
	return <-stored
}

// pollMeetingsMinimal asks every meeting's active session, job.Workers at
// a time.
func pollMeetingsMinimal(ctx context.Context, hc *http.Client, job minimalJob, puts chan<- minimalPut) {
	ids := make(chan string)
	var wg sync.WaitGroup
	for range job.Workers {
		wg.Go(func() {
			for id := range ids {
				url := job.BaseURL + "accounts/" + procAccountID + "/realtime/kit/" + job.App + "/meetings/" + id + "/active-session"
				var body struct {
					Data *minimalSession `json:"data"`
				}
				status, err := getJSON(ctx, hc, url, &body)
				if err != nil || (status != http.StatusOK && status != http.StatusNotFound) {
					continue // a failure: nothing to store
				}
				val, _ := json.Marshal(body.Data) // null for a meeting without a session
				puts <- minimalPut{key: id, val: val}
			}
		})
	}
	for _, id := range job.Meetings {
		select {
		case ids <- id:
		case <-ctx.Done():
		}
	}
	close(ids)
	wg.Wait()
}

// readListMinimal reads every page of the app's live sessions.
func readListMinimal(ctx context.Context, hc *http.Client, job minimalJob, puts chan<- minimalPut) {
	for page := 1; ctx.Err() == nil; page++ {
		url := job.BaseURL + "accounts/" + procAccountID + "/realtime/kit/" + job.App +
			"/sessions?status=LIVE&sort_by=createdAt&sort_order=ASC&per_page=" + strconv.Itoa(job.PerPage) + "&page_no=" + strconv.Itoa(page)
		var body struct {
			Data struct {
				Sessions []minimalSession `json:"sessions"`
			} `json:"data"`
		}
		if status, err := getJSON(ctx, hc, url, &body); err != nil || status != http.StatusOK {
			return
		}
		for i := range body.Data.Sessions {
			s := &body.Data.Sessions[i]
			val, _ := json.Marshal(s)
			puts <- minimalPut{key: s.AssociatedID, val: val}
		}
		if len(body.Data.Sessions) < job.PerPage {
			return
		}
	}
}

// getJSON sends one GET with the fake's token and decodes the body into v,
// then drains it, so that the connection is reused.
func getJSON(ctx context.Context, hc *http.Client, url string, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+procToken)
	res, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	err = json.NewDecoder(res.Body).Decode(v)
	_, _ = io.Copy(io.Discard, res.Body)
	return res.StatusCode, err
}

// putBatches writes puts to bbolt, 500 to a transaction, and the rest when
// puts is closed or quiet for a moment.
func putBatches(db *bolt.DB, puts <-chan minimalPut) error {
	bucket := []byte("sessions")
	batch := make([]minimalPut, 0, 500)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists(bucket)
			if err != nil {
				return err
			}
			for _, p := range batch {
				if err := b.Put([]byte(p.key), p.val); err != nil {
					return err
				}
			}
			return nil
		})
		batch = batch[:0]
		return err
	}
	quiet := time.NewTimer(time.Hour)
	defer quiet.Stop()
	for {
		select {
		case p, ok := <-puts:
			if !ok {
				return flush()
			}
			batch = append(batch, p)
			if len(batch) == cap(batch) {
				if err := flush(); err != nil {
					return fmt.Errorf("put sessions: %w", err)
				}
			}
			quiet.Reset(100 * time.Millisecond)
		case <-quiet.C:
			if err := flush(); err != nil {
				return fmt.Errorf("put sessions: %w", err)
			}
		}
	}
}
