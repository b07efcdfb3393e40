package heal

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func autoRule(name string, perHour, percent int, cooldown time.Duration, group ...string) Rule {
	r := rule(name, "clean-logs", Trigger{Conds: cond("disk_used > 90")}, group...)
	r.Auto, r.MaxPerHostPerHour, r.MaxGroupPercent, r.Cooldown = true, perHour, percent, cooldown
	return r
}

func allow(t *testing.T, l Limiter, r Rule, host string, at time.Time, want bool, says string) {
	t.Helper()
	ok, why := l.Allow(r, host, at)
	if ok != want || !strings.Contains(why, says) {
		t.Fatalf("Allow(%s, %s, +%s) = %v %q, want %v and %q", r.Name, host, at.Sub(t0), ok, why, want, says)
	}
}

func TestLimiterPerHostPerHour(t *testing.T) {
	r := autoRule("full", 2, 100, 0, "web-1", "web-2")
	var l Limiter
	allow(t, l, r, "web-1", t0, true, "")
	l = l.Started(r, "web-1", t0)
	allow(t, l, r, "web-1", t0.Add(time.Minute), false, "a run (full) is in flight on web-1")
	l = l.Finished(r, "web-1", t0.Add(2*time.Minute))
	allow(t, l, r, "web-1", t0.Add(3*time.Minute), true, "")
	l = l.Started(r, "web-1", t0.Add(3*time.Minute)).Finished(r, "web-1", t0.Add(4*time.Minute))
	allow(t, l, r, "web-1", t0.Add(30*time.Minute), false,
		"2 automatic runs on web-1 in the last hour (max_per_host_per_hour 2); next at 11:00:00")
	// Another host is not limited by web-1's runs.
	allow(t, l, r, "web-2", t0.Add(30*time.Minute), true, "")
	// One hour after the first run, one slot is free again.
	allow(t, l, r, "web-1", t0.Add(time.Hour), true, "")

	// Every rule's runs count against the host.
	other := autoRule("hot", 1, 100, 0, "web-1", "web-2")
	allow(t, l, other, "web-1", t0.Add(30*time.Minute), false, "2 automatic runs on web-1")

	// The limiter is a value: Started on a copy leaves the original alone.
	before := len(l.Runs)
	_ = l.Started(r, "web-2", t0)
	if len(l.Runs) != before {
		t.Fatal("Started changed its receiver")
	}
}

func TestLimiterCooldown(t *testing.T) {
	r := autoRule("full", 10, 100, 30*time.Minute, "web-1")
	l := Limiter{}.Started(r, "web-1", t0).Finished(r, "web-1", t0.Add(5*time.Minute))
	allow(t, l, r, "web-1", t0.Add(20*time.Minute), false, "cooling down after the last run on web-1 until 10:35:00 (cooldown 30m0s)")
	allow(t, l, r, "web-1", t0.Add(35*time.Minute), true, "")
	// Cooldown is per rule: another rule may run.
	other := autoRule("hot", 10, 100, 0, "web-1")
	allow(t, l, other, "web-1", t0.Add(20*time.Minute), true, "")
}

func TestLimiterGroupPercent(t *testing.T) {
	group := []string{"web-1", "web-2", "web-3", "web-4", "web-5", "web-6", "web-7", "web-8"}
	r := autoRule("full", 1, 25, 0, group...)
	if r.GroupCap() != 2 {
		t.Fatalf("cap %d", r.GroupCap())
	}
	l := Limiter{}.Started(r, "web-1", t0)
	allow(t, l, r, "web-2", t0, true, "")
	l = l.Started(r, "web-2", t0)
	allow(t, l, r, "web-3", t0, false, "2 of the rule's 8 hosts already in flight (max_group_percent 25% allows 2 at once)")
	// Runs on hosts outside the group take none of its share.
	outside := autoRule("x", 1, 100, 0, "db-1")
	l2 := Limiter{}.Started(outside, "db-1", t0).Started(r, "web-1", t0)
	allow(t, l2, r, "web-3", t0, true, "")
	// When a run ends its share is free again.
	l = l.Finished(r, "web-1", t0.Add(time.Minute))
	allow(t, l, r, "web-3", t0.Add(time.Minute), true, "")
	// A run that never recorded its end stops holding the share after StaleAfter.
	l = Limiter{}.Started(r, "web-1", t0).Started(r, "web-2", t0)
	allow(t, l, r, "web-3", t0.Add(StaleAfter), true, "")

	small := autoRule("small", 1, 25, 0, "a", "b", "c")
	allow(t, Limiter{}, small, "a", t0, false, "max_group_percent 25% of 3 hosts is less than one host")
	allow(t, Limiter{}, small, "z", t0, false, "z is not one of the rule's hosts")
	manual := small
	manual.Auto = false
	allow(t, Limiter{}, manual, "a", t0, false, "not automatic")
}

func TestLimiterPruneAndMerge(t *testing.T) {
	r := autoRule("full", 1, 100, 0, "web-1", "web-2")
	l := Limiter{}.Started(r, "web-1", t0).Finished(r, "web-1", t0.Add(time.Minute)).
		Started(r, "web-2", t0.Add(50*time.Minute))
	p := l.Prune(t0.Add(90*time.Minute), 0)
	if len(p.Runs) != 1 || p.Runs[0].Host != "web-2" {
		t.Fatalf("prune %+v", p.Runs)
	}
	if p := l.Prune(t0.Add(90*time.Minute), 2*time.Hour); len(p.Runs) != 2 {
		t.Fatalf("a long cooldown keeps old runs: %+v", p.Runs)
	}
	// Merge folds in another writer's records; the same run counts once, with its end.
	other := Limiter{}.Started(r, "web-2", t0.Add(50*time.Minute)).Finished(r, "web-2", t0.Add(55*time.Minute))
	m := l.Merge(other)
	if len(m.Runs) != 2 || !m.Runs[1].End.Equal(t0.Add(55*time.Minute)) {
		t.Fatalf("merge %+v", m.Runs)
	}
	if Retention([]Rule{r, autoRule("c", 1, 1, 3*time.Hour)}) != 3*time.Hour {
		t.Fatal("retention")
	}
}

func TestStateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "opsconsole", StateFile)
	l, err := LoadState(path)
	if err != nil || len(l.Runs) != 0 {
		t.Fatalf("missing file: %+v %v", l, err)
	}
	r := autoRule("full", 1, 100, 0, "web-1", "web-2")
	want := Limiter{}.Started(r, "web-1", t0).Finished(r, "web-1", t0.Add(time.Minute)).Started(r, "web-2", t0.Add(time.Minute))
	if err := SaveState(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := LoadState(path)
	if err != nil || len(got.Runs) != 2 || !got.Runs[0].End.Equal(t0.Add(time.Minute)) || !got.Runs[1].End.IsZero() {
		t.Fatalf("round trip %+v %v", got, err)
	}
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), `"version": 1`) || strings.Count(string(b), `"end"`) != 1 {
		t.Fatalf("file:\n%s", b)
	}
	if st, _ := os.Stat(filepath.Dir(path)); st.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}

	// Concurrent updaters take turns: no run is lost.
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, err := UpdateState(path, t0.Add(2*time.Minute), 0, func(l Limiter) Limiter {
				return l.Started(r, "web-1", t0.Add(time.Duration(i)*time.Second))
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, err = LoadState(path)
	if err != nil || len(got.Runs) != 22 {
		t.Fatalf("after 20 concurrent updates: %d runs, %v", len(got.Runs), err)
	}

	os.WriteFile(path, []byte("{not json"), 0o600)
	if _, err := LoadState(path); err == nil || !strings.Contains(err.Error(), "move it aside") {
		t.Fatalf("corrupt file: %v", err)
	}
}
