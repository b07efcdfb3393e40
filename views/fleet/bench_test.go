package fleet

import (
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/keymap"
	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/themes"
)

// benchStyles are the dark theme in true colour, what a real terminal pays for (the
// tests' ASCII profile would skip the escape sequences and flatter the numbers).
func benchStyles(b *testing.B) *themes.Styles {
	th, err := themes.Load(themes.Dark, nil)
	if err != nil {
		b.Fatal(err)
	}
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor)
	r.SetHasDarkBackground(true)
	return themes.BuildFor(r, th)
}

var benchTags = []string{"web", "db", "cache", "mq", "edge", "batch", "build", "analytics"}

func benchInventory(n int) []config.Host {
	hosts := make([]config.Host, n)
	for i := range hosts {
		hosts[i] = config.Host{
			Name: fmt.Sprintf("host-%d", i), Address: fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256),
			Transport: "ssh", Tags: []string{benchTags[i%len(benchTags)], "prod"},
		}
	}
	return hosts
}

// benchReport is host i's report in round r: mostly ok, some warn, crit and down, with
// statuses that change from round to round so the order really has to be rebuilt.
func benchReport(i, r int, at time.Time) fleet.Report {
	name := fmt.Sprintf("host-%d", i)
	cpu := float64((i*7 + r*13) % 100)
	mt := metricsAt(at, sample{
		cpu: cpu, mem: float64((i*3 + r) % 100), load: cpu / 25,
		disks: []health.Disk{{Mount: "/", Percent: float64(i % 100)}, {Mount: "/var", Percent: float64((i + r) % 100)}},
		ports: []int{22, 80, 443, 8080, 9100, 9187, 5432},
	})
	switch (i + r) % 23 {
	case 0:
		return downReport(name, at, errors.New("dial tcp: i/o timeout"))
	case 1, 2:
		return report(name, at, health.Warn, mt, "cpu high")
	case 3:
		return report(name, at, health.Crit, mt, "disk /var 97% ≥ 95%")
	}
	return report(name, at, health.OK, mt)
}

func benchModel(b *testing.B, n int) Model {
	m := New(benchInventory(n), keymap.Default().Fleet, benchStyles(b)).SetSize(160, 48)
	for r := range 20 {
		at := t0.Add(time.Duration(r-20) * time.Second)
		reps := make([]fleet.Report, n)
		for i := range reps {
			reps[i] = benchReport(i, r, at)
		}
		m, _ = m.Update(HostsPolledMsg{Reports: reps})
	}
	m, _ = m.Update(clock(t0))
	return m
}

// BenchmarkView1000 is one full frame of the table at 160x48 with 1,000 hosts.
func BenchmarkView1000(b *testing.B) {
	m := benchModel(b, 1000)
	m, _ = press(b, m, "j", "j", "j")
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}

// BenchmarkView1000Grouped is the same frame grouped by tag.
func BenchmarkView1000Grouped(b *testing.B) {
	m := benchModel(b, 1000)
	m, _ = press(b, m, "b", "j", "j")
	b.ReportAllocs()
	for b.Loop() {
		_ = m.View()
	}
}

// BenchmarkUpdateBurst10000 is one HostsPolledMsg of 10,000 reports, ten per host for
// 1,000 hosts, whose statuses change so the order is rebuilt.
func BenchmarkUpdateBurst10000(b *testing.B) {
	for _, sortBy := range []sortKey{sortStatus, sortCPU} {
		b.Run("sort="+sortBy.String(), func(b *testing.B) {
			m := benchModel(b, 1000)
			for m.sortBy != sortBy {
				m, _ = press(b, m, "s")
			}
			reps := make([]fleet.Report, 10000)
			round := 100
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				// Fresh rounds with later times each iteration, or the pane would
				// drop them as older than what it holds.
				for k := range reps {
					r := round + k/1000
					reps[k] = benchReport(k%1000, r, t0.Add(time.Duration(r)*time.Second))
				}
				round += 10
				b.StartTimer()
				m, _ = m.Update(HostsPolledMsg{Reports: reps})
			}
		})
	}
}

// BenchmarkUpdateOneReport is the other extreme: a message holding a single report, as a
// quiet fleet sends them.
func BenchmarkUpdateOneReport(b *testing.B) {
	for _, sortBy := range []sortKey{sortStatus, sortCPU} {
		b.Run("sort="+sortBy.String(), func(b *testing.B) {
			m := benchModel(b, 1000)
			for m.sortBy != sortBy {
				m, _ = press(b, m, "s")
			}
			reps := make([]fleet.Report, 4096)
			for k := range reps {
				reps[k] = benchReport(k%1000, 100+k, t0.Add(time.Duration(100+k)*time.Second))
			}
			k := 0
			b.ReportAllocs()
			for b.Loop() {
				rep := reps[k%len(reps)]
				rep.Time = t0.Add(time.Duration(1000+k) * time.Second)
				k++
				m, _ = m.Update(HostsPolledMsg{Reports: []fleet.Report{rep}})
			}
		})
	}
}
