package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/rtkwatchd/rtkwatchd/internal/rtkfake"
)

// The shapes TestLoad measures, and its bounds.
const (
	loadMeetings   = 2000 // meetings of the fake, about half of them live
	loadWatches    = 250  // watches of the meeting-by-meeting shape …
	loadPerWatch   = 8    // … of loadMeetings/loadWatches meetings each
	loadInFlight   = 16   // requests in flight of the minimal poller, as the daemon's default
	loadPerPage    = 100  // sessions-list page size of both
	loadChurn      = 200  // changes of a live session's counts per second
	loadWarmUp     = 5 * time.Second
	loadWindow     = 20 * time.Second
	loadAllLive    = 3000 // live sessions of the all_live shape
	loadRSSByOne   = 48 << 20
	loadRSSList    = 32 << 20
	loadCPUByOne   = 1.3  // × the minimal poller's CPU per request
	loadCPUPerMeet = 0.35 // × the minimal poller's CPU per request
)

// TestLoad measures the daemon against a minimal Go poller on the same
// fake API, side by side, and checks the targets of the README's
// "Performance": CPU per request, CPU per meeting observed, peak memory,
// requests per second and new connections per second. Every process runs
// for a bounded time against a fake on loopback. CPU time on a shared
// machine moves by a third from one minute to the next, so the shapes run
// in rounds (RTKWATCHD_LOAD_ROUNDS, 3 unless set), the minimal poller and
// the daemon one after the other in each, and each target is judged on
// the median over the rounds of the ratio measured within a round. With
// three rounds it takes about nine minutes, so it runs only on request.
// With RTKWATCHD_LOAD_PROFILE set to a directory, it also writes the
// daemon's CPU and heap profiles there; with RTKWATCHD_LOAD_BIN set to an
// rtkwatchd binary, it measures that binary instead of building one, to
// compare two builds. Each round also runs the daemon meeting by meeting
// and the minimal poller at the same time (loadTogether) and logs their
// ratio beside the judged one (RTKWATCHD_LOAD_TOGETHER=0 leaves it out).
func TestLoad(t *testing.T) {
	if os.Getenv("RTKWATCHD_LOAD") != "1" {
		t.Skip("load test; run it with: RTKWATCHD_LOAD=1 go test -run TestLoad -v ./cmd/rtkwatchd/")
	}
	bin := os.Getenv("RTKWATCHD_LOAD_BIN") // another build of rtkwatchd, to compare
	if bin == "" {
		bin = daemonBinary(t)
	}
	rounds := 3
	if v := os.Getenv("RTKWATCHD_LOAD_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("RTKWATCHD_LOAD_ROUNDS=%q: want a whole number from 1", v)
		}
		rounds = n
	}
	ids := make([]string, loadMeetings)
	for i := range ids {
		ids[i] = fmt.Sprintf("load-%04d", i)
	}
	var rows []loadFigures
	run := func(name string, f func(t *testing.T) loadFigures) loadFigures {
		var got loadFigures
		t.Run(name, func(t *testing.T) { got = f(t) })
		if got.name != "" { // measured: neither left out by -run nor stopped short
			rows = append(rows, got)
		}
		return got
	}
	together := os.Getenv("RTKWATCHD_LOAD_TOGETHER") != "0"
	var byOneCPU, byOneRSS, listCPU, listRSS, atOnce []float64 // one per round that measured both sides
	for r := 1; r <= rounds; r++ {
		round := fmt.Sprintf("round%d/", r)
		if together {
			t.Run(round+"together_by_meeting", func(t *testing.T) {
				m, d := loadTogether(t, bin, ids)
				rows = append(rows, m, d)
				if ref := m.perRequest(); ref > 0 && d.requests > 0 {
					atOnce = append(atOnce, d.perRequest()/ref)
				}
			})
		}
		minByOne := run(round+"minimal_by_meeting", func(t *testing.T) loadFigures {
			return runMinimal(t, "minimal poller, by meeting", ids, true)
		})
		byOne := run(round+"daemon_by_meeting", func(t *testing.T) loadFigures { return loadByMeeting(t, bin, ids) })
		run(round+"minimal_list", func(t *testing.T) loadFigures { return runMinimal(t, "minimal poller, list", ids, false) })
		list := run(round+"daemon_list", func(t *testing.T) loadFigures { return loadList(t, bin, ids) })
		if ref := minByOne.perRequest(); ref > 0 && byOne.requests > 0 {
			byOneCPU, byOneRSS = append(byOneCPU, byOne.perRequest()/ref), append(byOneRSS, byOne.rssMiB())
			if list.observed > 0 {
				listCPU, listRSS = append(listCPU, list.perMeeting()/ref), append(listRSS, list.rssMiB())
			}
		}
	}
	t.Run("all_live_3000", func(t *testing.T) { testLoadAllLive(t, bin) })

	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tCPU/request µs\tCPU/meeting µs\tpeak RSS MiB\tfile pages at end MiB\trequests/s\tnew conns/s\tmeetings/s\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.0f\t%.2f\t%.0f\t\n", r.name, r.perRequest(), r.perMeeting(),
			r.rssMiB(), r.fileMiB(), r.perSecond(r.requests), r.perSecond(r.conns), r.perSecond(r.observed))
	}
	tw.Flush()
	t.Logf("side by side, in the order run (%d meetings, %d live-session changes a second, %s windows):\n%s", loadMeetings, loadChurn, loadWindow, b.String())
	if len(atOnce) > 0 {
		// Not judged: at once, the ratio moves far less from round to
		// round, but it also came out about a tenth lower than one after
		// the other in the same runs, and until that shift is explained
		// (the two pollers load each other, and the fakes, unlike: the
		// minimal poller's requests come in bursts, the daemon's spread
		// over the second) the targets keep the way they were set.
		t.Logf("by meeting, the two at once (not judged), each round: %s× the minimal poller's CPU per request; median %.2f×",
			figures(atOnce, 2), median(atOnce))
	}
	if len(byOneCPU) == 0 {
		t.Log("targets not checked: a run was left out, or measured nothing")
		return
	}
	judgeLoad(t, "by meeting", "the minimal poller's CPU per request", byOneCPU, loadCPUByOne, byOneRSS, loadRSSByOne>>20)
	if len(listCPU) > 0 {
		judgeLoad(t, "list", "the minimal poller's CPU per request, per meeting observed", listCPU, loadCPUPerMeet, listRSS, loadRSSList>>20)
	}
}

// judgeLoad logs the ratios of CPU (to what) and the peak RSS of each
// round of one shape, and fails the test when their medians pass
// maxRatio or maxMiB.
func judgeLoad(t *testing.T, shape, what string, ratios []float64, maxRatio float64, rss []float64, maxMiB int) {
	t.Helper()
	t.Logf("%s, each round: %s× %s, %s MiB", shape, figures(ratios, 2), what, figures(rss, 1))
	t.Logf("%s, median: %.2f× (≤ %.2f), %.1f MiB (≤ %d)", shape, median(ratios), maxRatio, median(rss), maxMiB)
	if got := median(ratios); got > maxRatio {
		t.Errorf("%s: %.2f× %s (median of %d rounds), over %.2f×", shape, got, what, len(ratios), maxRatio)
	}
	if got := median(rss); got > float64(maxMiB) {
		t.Errorf("%s: peak RSS %.1f MiB (median of %d rounds), over %d MiB", shape, got, len(rss), maxMiB)
	}
}

// median is the middle of vs (the mean of the two middle ones for an even
// count); vs is not modified.
func median(vs []float64) float64 {
	s := slices.Sorted(slices.Values(vs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// figures prints vs with prec decimals, comma-separated.
func figures(vs []float64, prec int) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strconv.FormatFloat(v, 'f', prec, 64)
	}
	return strings.Join(out, ", ")
}

// newLoadFake starts a fake holding ids, about half of them live, whose
// live sessions' counts change loadChurn times a second until the test
// ends. It returns the live ones.
func newLoadFake(t *testing.T, ids []string) (*rtkfake.Server, []string) {
	t.Helper()
	fake := rtkfake.New(rtkfake.Options{Token: procToken, AccountID: procAccountID})
	t.Cleanup(fake.Close)
	var live []string
	for i, id := range ids {
		// Every meeting exists, live or not, as on a real account: the
		// daemon's check at start then reads the meetings list instead of
		// asking after each idle meeting, and warns about none.
		fake.CreateMeeting(procApp, id)
		if i%2 == 0 || i%97 == 1 { // 1,000 + a few: the list's last page is short
			live = append(live, id)
			fake.StartSession(procApp, id, rtkfake.Session{LiveParticipants: 1 + i%40, MinutesConsumed: 1})
		}
	}
	startChurn(t, fake, live)
	return fake, live
}

// runMinimal runs the minimal poller as a child over a fresh fake holding
// ids, meeting by meeting or through the sessions list, and measures it
// over loadWindow after loadWarmUp.
func runMinimal(t *testing.T, name string, ids []string, byMeeting bool) loadFigures {
	m := startMinimal(t, name, ids, byMeeting)
	before, after := measureWindow(t, loadWarmUp, loadWindow, func() loadSample { return m.sample(t) })
	return m.finish(t, before, after)
}

// minimalRun is the minimal poller running as a child, over its own fake.
type minimalRun struct {
	name      string
	ids, live []string
	byMeeting bool
	fake      *rtkfake.Server
	d         *daemonProc
}

// startMinimal starts the minimal poller as runMinimal does, and waits for
// its first requests. It stops by itself loadWarmUp + loadWindow + 10 s
// after it started.
func startMinimal(t *testing.T, name string, ids []string, byMeeting bool) *minimalRun {
	t.Helper()
	fake, live := newLoadFake(t, ids)
	job := minimalJob{
		BaseURL: fake.URL(), App: procApp, Workers: loadInFlight, PerPage: loadPerPage,
		Store: filepath.Join(t.TempDir(), "minimal.db"), For: loadWarmUp + loadWindow + 10*time.Second,
	}
	if byMeeting {
		job.Meetings = ids
	}
	spec, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	// The child is this test binary, running TestLoadMinimalPoller only.
	args := []string{"-test.run=^TestLoadMinimalPoller$"}
	if dir := os.Getenv(loadProfileEnv); dir != "" {
		mode := "list"
		if byMeeting {
			mode = "by_meeting"
		}
		if strings.HasSuffix(name, "at once") {
			mode = "together_" + mode
		}
		args = append(args, "-test.cpuprofile="+filepath.Join(dir, "minimal_"+mode+".cpu.pprof"))
	}
	m := &minimalRun{name: name, ids: ids, live: live, byMeeting: byMeeting, fake: fake,
		d: startDaemon(t, os.Args[0], childEnv(minimalEnv+"="+string(spec)), args...)}
	pollUntil(t, 30*time.Second, "the minimal poller's first requests", func() bool { return fake.Requests() > 0 })
	return m
}

// sample samples the minimal poller now.
func (m *minimalRun) sample(t *testing.T) loadSample { return sampleProc(t, m.d.pid(), m.fake) }

// finish waits for the minimal poller to stop and returns its figures
// between before and after.
func (m *minimalRun) finish(t *testing.T, before, after loadSample) loadFigures {
	t.Helper()
	if code := m.d.waitExit(30 * time.Second); code != 0 {
		t.Errorf("minimal poller: exit code %d", code)
	}
	f := measure(m.name, before, after)
	f.observed = f.requests
	if !m.byMeeting {
		// Whole cycles of pages, each of which observes every meeting; the
		// minimal poller reads until a short page.
		f.observed = f.requests / (len(m.live)/loadPerPage + 1) * len(m.ids)
	}
	return f
}

// loadByMeeting runs the daemon on loadWatches watches of loadPerWatch
// meetings each, `@every 1s`, polled meeting by meeting.
func loadByMeeting(t *testing.T, bin string, ids []string) loadFigures {
	l := startByMeeting(t, bin, "by_meeting", ids)
	before, after := measureWindow(t, loadWarmUp, loadWindow, func() loadSample { return l.sample(t) })
	return finishByMeeting(t, l, "rtkwatchd, 250 watches × 8", before, after)
}

// startByMeeting starts the daemon as loadByMeeting does, and waits until
// every meeting has been polled three times; name names its profiles.
func startByMeeting(t *testing.T, bin, name string, ids []string) *loadDaemon {
	t.Helper()
	fake, _ := newLoadFake(t, ids)
	watches := make([]procWatch, 0, loadWatches)
	for i := 0; i < len(ids); i += loadPerWatch {
		watches = append(watches, procWatch{Name: fmt.Sprintf("w%03d", i/loadPerWatch), Meetings: ids[i : i+loadPerWatch], Participants: []int{50}})
	}
	l := startLoadDaemon(t, bin, name, fake, watches)
	pollUntil(t, 60*time.Second, "the first cycles", func() bool { return fake.Requests() >= 3*len(ids) })
	return l
}

// finishByMeeting stops the daemon of startByMeeting and returns its
// figures between before and after, checking that it kept up.
func finishByMeeting(t *testing.T, l *loadDaemon, name string, before, after loadSample) loadFigures {
	t.Helper()
	t.Logf("memory: %s", l.memory(t))
	l.stop(t)
	m := measure(name, before, after)
	m.observed = m.cycles // one poll per meeting observed
	if rate, want := m.perSecond(m.observed), 0.9*float64(loadWatches*loadPerWatch); rate < want || m.skips > 0 {
		t.Errorf("does not keep up with @every 1s: %.0f meetings observed a second (want ≥ %.0f), %d cycles skipped", rate, want, m.skips)
	}
	return m
}

// loadTogether runs the daemon meeting by meeting and the minimal poller
// at the same time, each over its own fake, and measures both over one
// window: what the machine's other load does to one it does to the other,
// so their ratio moves less from round to round than that of two runs one
// after the other (each still pays for sharing the machine with the other).
func loadTogether(t *testing.T, bin string, ids []string) (minimal, daemon loadFigures) {
	l := startByMeeting(t, bin, "together_by_meeting", ids)
	m := startMinimal(t, "minimal poller, by meeting, at once", ids, true)
	waitOut(t, loadWarmUp, "the end of the warm-up")
	bm, bd := m.sample(t), l.sample(t)
	waitOut(t, loadWindow, "the end of the measuring window")
	am, ad := m.sample(t), l.sample(t)
	daemon = finishByMeeting(t, l, "rtkwatchd, 250 watches × 8, at once", bd, ad)
	return m.finish(t, bm, am), daemon
}

// loadList runs the daemon on one watch of every meeting in ids, which it
// reads through the sessions list, `@every 1s`.
func loadList(t *testing.T, bin string, ids []string) loadFigures {
	fake, live := newLoadFake(t, ids)
	pages := (len(live) + loadPerPage - 1) / loadPerPage // total_count says when the list ends
	l := startLoadDaemon(t, bin, "list", fake, []procWatch{{Name: "load", Meetings: ids, Participants: []int{50}}})
	pollUntil(t, 30*time.Second, "three cycles", func() bool { return l.polls(t) >= 3 })
	before, after := measureWindow(t, loadWarmUp, loadWindow, func() loadSample { return l.sampleBetweenCycles(t) })
	t.Logf("memory: %s", l.memory(t))
	l.stop(t)
	m := measure("rtkwatchd, 1 watch × 2,000 (list)", before, after)
	m.observed = m.cycles * len(ids)
	perCycle := float64(m.requests) / float64(max(m.cycles, 1))
	t.Logf("%d meetings (%d live, %d pages a cycle): %d cycles in %s, %d skipped, %.1f requests a cycle",
		len(ids), len(live), pages, m.cycles, m.wall.Round(time.Millisecond), m.skips, perCycle)
	if rate := m.perSecond(m.cycles); rate < 0.9 || rate > 1.5 || m.skips > 0 {
		t.Errorf("does not keep up with @every 1s: %.2f cycles a second, %d skipped", rate, m.skips)
	}
	if perCycle > float64(pages)+0.5 {
		t.Errorf("%.1f list requests a cycle, want %d", perCycle, pages)
	}
	return m
}

// testLoadAllLive watches every live session of an app holding 3,000.
func testLoadAllLive(t *testing.T, bin string) {
	ids := make([]string, loadAllLive)
	for i := range ids {
		ids[i] = fmt.Sprintf("all-%04d", i)
	}
	fake := rtkfake.New(rtkfake.Options{Token: procToken, AccountID: procAccountID})
	t.Cleanup(fake.Close)
	for i, id := range ids {
		fake.StartSession(procApp, id, rtkfake.Session{LiveParticipants: 1 + i%40, MinutesConsumed: 1})
	}
	startChurn(t, fake, ids)
	l := startLoadDaemon(t, bin, "all_live", fake, []procWatch{{Name: "all", AllLive: true, Participants: []int{50}}})
	pollUntil(t, 30*time.Second, "three cycles", func() bool { return l.polls(t) >= 3 })
	before, after := measureWindow(t, 0, loadWindow/2, func() loadSample { return l.sampleBetweenCycles(t) })
	l.stop(t)
	m := measure("all_live", before, after)
	perCycle := float64(m.requests) / float64(max(m.cycles, 1))
	t.Logf("all_live over %d live sessions, %s: %d cycles, %d skipped, %.1f list requests a cycle; %.1f µs CPU per session observed; peak RSS %.1f MiB",
		len(ids), m.wall.Round(time.Millisecond), m.cycles, m.skips, perCycle, micros(m.cpu, m.cycles*len(ids)), m.rssMiB())
	if want := float64((len(ids) + loadPerPage - 1) / loadPerPage); perCycle > want+0.5 || perCycle < want-0.5 {
		t.Errorf("%.1f list requests a cycle, want %.0f", perCycle, want)
	}
	if rate := m.perSecond(m.cycles); rate < 0.9 || m.skips > 0 {
		t.Errorf("does not keep up with @every 1s: %.2f cycles a second, %d skipped", rate, m.skips)
	}
}

// measureWindow lets warmUp pass, samples, lets length pass and samples
// again.
func measureWindow(t *testing.T, warmUp, length time.Duration, sample func() loadSample) (before, after loadSample) {
	t.Helper()
	waitOut(t, warmUp, "the end of the warm-up")
	before = sample()
	waitOut(t, length, "the end of the measuring window")
	return before, sample()
}

// waitOut lets d pass: a load test measures over wall-clock time.
func waitOut(t *testing.T, d time.Duration, what string) {
	t.Helper()
	end := time.Now().Add(d)
	pollUntil(t, 2*d+time.Second, what, func() bool { return !time.Now().Before(end) })
}

// startChurn changes the counts of live sessions, loadChurn changes a
// second, until the test ends. Counts stay below 50, the threshold of the
// watches: the load test measures polling, not deliveries.
func startChurn(t *testing.T, fake *rtkfake.Server, live []string) {
	t.Helper()
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			for range loadChurn / 10 {
				id := live[rand.IntN(len(live))]
				fake.UpdateSession(procApp, id, func(s *rtkfake.Session) {
					s.LiveParticipants = 1 + rand.IntN(45)
					s.MinutesConsumed += 0.5
				})
			}
		}
	}()
	t.Cleanup(func() {
		close(done)
		<-stopped
	})
}
