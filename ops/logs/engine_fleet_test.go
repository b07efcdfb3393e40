package logs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/internal/testfleet"
	"github.com/opsconsole/opsconsole/sessions"
)

// fleetEnv is a loopback fleet whose hosts each log to dir/<host>.log (on loopback every
// host is this machine, so the test writes the files the hosts follow).
type fleetEnv struct {
	fleet *testfleet.Fleet
	dir   string
	pool  *sessions.Pool
	src   Source
}

func newFleetEnv(t *testing.T, hosts int) *fleetEnv {
	t.Helper()
	f := testfleet.Start(t, testfleet.Options{Hosts: hosts})
	env := &fleetEnv{fleet: f, dir: t.TempDir()}
	env.pool = sessions.NewPool(sessions.NewDialer(f.Hosts, config.Defaults{}))
	t.Cleanup(func() { env.pool.Close() })
	env.src = Source{Name: "app", Path: filepath.Join(env.dir, "{{.Name}}.log")}
	for _, h := range f.Hosts {
		os.WriteFile(env.file(h.Name), nil, 0o644)
	}
	return env
}

func (env *fleetEnv) file(host string) string { return filepath.Join(env.dir, host+".log") }

func (env *fleetEnv) targets() []Target { return Targets([]Source{env.src}, env.fleet.Hosts) }

// writer appends "<host> seq=N" lines to a host's file, like an application.
type writer struct {
	env  *fleetEnv
	host string
	mu   sync.Mutex
	n    int
}

func (w *writer) write(t *testing.T, count int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f, err := os.OpenFile(w.env.file(w.host), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	var b strings.Builder
	for range count {
		w.n++
		fmt.Fprintf(&b, "2026-11-22T04:05:06.%03dZ INFO %s seq=%d\n", w.n%1000, w.host, w.n)
	}
	f.WriteString(b.String())
}

func (w *writer) written() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// checkExactlyOnce verifies that every host's lines 1..want[host] arrived once each.
func checkExactlyOnce(t *testing.T, lines []Line, want map[string]int) {
	t.Helper()
	seen := map[string]map[int]int{}
	for _, l := range lines {
		if l.Marker != NotMarker {
			continue
		}
		i := strings.LastIndex(l.Raw, "seq=")
		n, err := strconv.Atoi(l.Raw[i+4:])
		if i < 0 || err != nil || !strings.Contains(l.Raw, " "+l.Host+" ") {
			t.Fatalf("unexpected line from %s: %q", l.Host, l.Raw)
		}
		if seen[l.Host] == nil {
			seen[l.Host] = map[int]int{}
		}
		seen[l.Host][n]++
	}
	for host, n := range want {
		for i := 1; i <= n; i++ {
			if c := seen[host][i]; c != 1 {
				t.Fatalf("%s seq=%d arrived %d times", host, i, c)
			}
		}
		if len(seen[host]) != n {
			t.Fatalf("%s: %d distinct lines, want %d", host, len(seen[host]), n)
		}
	}
}

func allArrived(want map[string]int) func([]Line) bool {
	total := 0
	for _, n := range want {
		total += n
	}
	return func(ls []Line) bool { return len(content(ls)) >= total }
}

func TestFleetLinesFromAllHostsArriveOnce(t *testing.T) {
	env := newFleetEnv(t, 20)
	e := Start(context.Background(), env.pool, env.targets(), Options{Follow: true, Backlog: BacklogAll})
	c := collect(e)
	defer func() { e.Stop(); <-c.done }()
	writers := map[string]*writer{}
	for _, h := range env.fleet.Hosts {
		writers[h.Name] = &writer{env: env, host: h.Name}
	}
	// Some lines before the streams are up, more while they run.
	for round := range 10 {
		for _, w := range writers {
			w.write(t, 20+round)
		}
		time.Sleep(20 * time.Millisecond)
	}
	want := map[string]int{}
	for h, w := range writers {
		want[h] = w.written()
	}
	c.wait(t, 30*time.Second, "all lines", allArrived(want))
	checkExactlyOnce(t, c.snapshot(), want)
	for _, st := range e.States() {
		if st.Status != StreamStreaming || st.Err != nil {
			t.Errorf("%s: %v %v", st.Host, st.Status, st.Err)
		}
	}
	// Parsed on the way.
	l := c.snapshot()[len(c.snapshot())-1]
	if l.Level != LevelInfo || l.Time.IsZero() {
		t.Errorf("line not parsed: %+v", l)
	}
}

func TestFleetRotationIsFollowed(t *testing.T) {
	env := newFleetEnv(t, 3)
	e := Start(context.Background(), env.pool, env.targets(), Options{Follow: true, Backlog: BacklogAll})
	c := collect(e)
	defer func() { e.Stop(); <-c.done }()
	want := map[string]int{}
	var ws []*writer
	for _, h := range env.fleet.Hosts {
		w := &writer{env: env, host: h.Name}
		ws = append(ws, w)
		w.write(t, 50)
		want[h.Name] = 50
	}
	c.wait(t, 20*time.Second, "before rotation", allArrived(want))
	for round := 1; round <= 2; round++ {
		for _, w := range ws {
			// logrotate's default: rename, then the application opens a new file.
			os.Rename(env.file(w.host), env.file(w.host)+"."+strconv.Itoa(round))
			w.write(t, 30)
			want[w.host] = w.written()
		}
		c.wait(t, 20*time.Second, fmt.Sprintf("after rotation %d", round), allArrived(want))
	}
	checkExactlyOnce(t, c.snapshot(), want)
	if n := countMarkers(c.snapshot(), MarkerRotated); n < 6 {
		t.Errorf("%d rotation markers, want one per host per rotation (6)\n%s", n, c.dump())
	}
}

func TestFleetSSHDKilledAndRestartedResumesAtOffset(t *testing.T) {
	env := newFleetEnv(t, 20)
	e := Start(context.Background(), env.pool, env.targets(),
		Options{Follow: true, Backlog: BacklogAll, BackoffMin: 100 * time.Millisecond, BackoffMax: 500 * time.Millisecond})
	c := collect(e)
	defer func() { e.Stop(); <-c.done }()

	var ws []*writer
	for _, h := range env.fleet.Hosts {
		ws = append(ws, &writer{env: env, host: h.Name})
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
					w.write(t, 3)
				}
			}
		})
	}
	streaming := func() int {
		n := 0
		for _, st := range e.States() {
			if st.Status == StreamStreaming {
				n++
			}
		}
		return n
	}
	testfleet.WaitFor(context.Background(), 20*time.Second, func() bool { return streaming() == 20 })
	time.Sleep(300 * time.Millisecond)
	// Daemon 0 serves hosts 1-16: they all lose their connections and their tails.
	if err := env.fleet.KillDaemonOf(0); err != nil {
		t.Fatal(err)
	}
	if !testfleet.WaitFor(context.Background(), 10*time.Second, func() bool { return streaming() == 4 }) {
		t.Fatalf("streams did not notice the kill: %+v", e.States())
	}
	time.Sleep(time.Second) // lines keep being written while the hosts are down
	if err := env.fleet.RestartDaemonOf(0); err != nil {
		t.Fatal(err)
	}
	if !testfleet.WaitFor(context.Background(), 20*time.Second, func() bool { return streaming() == 20 }) {
		t.Fatalf("streams did not reconnect: %+v", e.States())
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	want := map[string]int{}
	for _, w := range ws {
		want[w.host] = w.written()
	}
	c.wait(t, 30*time.Second, "all lines after the restart", allArrived(want))
	time.Sleep(200 * time.Millisecond) // a duplicate would arrive now
	checkExactlyOnce(t, c.snapshot(), want)
	lines := c.snapshot()
	if n := countMarkers(lines, MarkerReconnected); n < 16 {
		t.Errorf("%d reconnect markers, want one per restarted host (16)", n)
	}
	if n := countMarkers(lines, MarkerGap); n != 0 {
		t.Errorf("%d gap markers for unchanged files", n)
	}
	for _, st := range e.States()[:16] {
		if st.Reconnects < 1 {
			t.Errorf("%s: %d reconnects", st.Host, st.Reconnects)
		}
	}
}

func TestFleetRotationWhileDownShowsGap(t *testing.T) {
	env := newFleetEnv(t, 1)
	e := Start(context.Background(), env.pool, env.targets(),
		Options{Follow: true, Backlog: BacklogAll, BackoffMin: 100 * time.Millisecond, BackoffMax: 300 * time.Millisecond})
	c := collect(e)
	defer func() { e.Stop(); <-c.done }()
	w := &writer{env: env, host: env.fleet.Hosts[0].Name}
	w.write(t, 10)
	c.wait(t, 10*time.Second, "first lines", func(ls []Line) bool { return len(content(ls)) == 10 })
	env.fleet.KillDaemonOf(0)
	testfleet.WaitFor(context.Background(), 10*time.Second, func() bool { return e.States()[0].Status != StreamStreaming })
	os.Rename(env.file(w.host), env.file(w.host)+".1")
	w.write(t, 5) // lines 11-15 in a new file
	env.fleet.RestartDaemonOf(0)
	c.wait(t, 20*time.Second, "new file after reconnect", func(ls []Line) bool { return len(content(ls)) == 15 })
	if countMarkers(c.snapshot(), MarkerGap) != 1 {
		t.Fatalf("want one gap marker:\n%s", c.dump())
	}
	checkExactlyOnce(t, c.snapshot(), map[string]int{w.host: 15})
}

func TestFleetFrozenHostDoesNotDelayOthers(t *testing.T) {
	env := newFleetEnv(t, 20)
	e := Start(context.Background(), env.pool, env.targets(), Options{Follow: true, Backlog: BacklogAll})
	c := collect(e)
	defer func() { e.Stop(); <-c.done }()
	testfleet.WaitFor(context.Background(), 20*time.Second, func() bool {
		for _, st := range e.States() {
			if st.Status != StreamStreaming {
				return false
			}
		}
		return true
	})
	// Daemon 1 serves hosts 17-20: their connections stay up but nothing answers.
	if err := env.fleet.FreezeDaemonOf(16); err != nil {
		t.Fatal(err)
	}
	thawed := false
	defer func() {
		if !thawed {
			env.fleet.ThawDaemonOf(16)
		}
	}()
	ws := map[string]*writer{}
	want := map[string]int{}
	for _, h := range env.fleet.Hosts {
		ws[h.Name] = &writer{env: env, host: h.Name}
		ws[h.Name].write(t, 25)
		want[h.Name] = 25
	}
	start := time.Now()
	c.wait(t, 5*time.Second, "lines of the live hosts", func(ls []Line) bool {
		n := 0
		for _, l := range ls {
			if l.Marker == NotMarker {
				n++
			}
		}
		return n >= 16*25
	})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("live hosts' lines took %v while 4 hosts hung", d)
	}
	for _, l := range content(c.snapshot()) {
		for _, h := range env.fleet.Hosts[16:] {
			if strings.Contains(l, h.Name) {
				t.Fatalf("a frozen host delivered %q", l)
			}
		}
	}
	env.fleet.ThawDaemonOf(16)
	thawed = true
	c.wait(t, 20*time.Second, "frozen hosts' lines after the thaw", allArrived(want))
	checkExactlyOnce(t, c.snapshot(), want)
}

func TestFleetMarkersFlagLines(t *testing.T) {
	env := newFleetEnv(t, 2)
	oom, _ := NewMarkerRule("oom", "Out of memory|oom-killer")
	panicRule, _ := NewMarkerRule("panic", `^panic: `)
	env.src.Markers = []MarkerRule{oom, panicRule}
	var mu sync.Mutex
	var flagged []Line
	e := Start(context.Background(), env.pool, env.targets(), Options{Follow: true, Backlog: BacklogAll,
		OnFlag: func(l Line) { mu.Lock(); flagged = append(flagged, l); mu.Unlock() }})
	c := collect(e)
	defer func() { e.Stop(); <-c.done }()
	h := env.fleet.Hosts[1].Name
	os.WriteFile(env.file(h), []byte("ok\nNov 22 04:00:00 "+h+" kernel: Out of memory: Killed process 9\npanic: runtime error\nfine\n"), 0o644)
	c.wait(t, 10*time.Second, "lines", func(ls []Line) bool { return len(content(ls)) == 4 })
	mu.Lock()
	defer mu.Unlock()
	if len(flagged) != 2 || flagged[0].Flag != "oom" || flagged[1].Flag != "panic" || flagged[0].Host != h || flagged[0].Seq == 0 {
		t.Fatalf("flagged %+v", flagged)
	}
}
