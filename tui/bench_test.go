package tui

import (
	"fmt"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/keymap"
	opsfleet "github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/health"
	opslogs "github.com/opsconsole/opsconsole/ops/logs"
	"github.com/opsconsole/opsconsole/sessions"
	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views"
	"github.com/opsconsole/opsconsole/views/exec"
	"github.com/opsconsole/opsconsole/views/fleet"
	logsview "github.com/opsconsole/opsconsole/views/logs"
)

// The benchmarks below are what the console pays per message under load, Update and the
// View that follows it, the way Bubble Tea runs them: a batch of streamed log lines, one
// host's poll report, a key. bench/keys measures the same end to end through a terminal.

const benchHosts = 100

func benchModel(b *testing.B) Model {
	b.Helper()
	th, err := themes.Load(themes.Dark, nil)
	if err != nil {
		b.Fatal(err)
	}
	hosts := make([]config.Host, benchHosts)
	for i := range hosts {
		hosts[i] = config.Host{Name: fmt.Sprintf("web-%03d", i), Address: "127.0.0.1", Port: 22,
			User: "ops", Transport: config.TransportSSH, Groups: []string{"prod"}}
	}
	m := New(Options{Hosts: hosts, ExecDeps: exec.Deps{Hosts: hosts}, Keys: keymap.Default(),
		Styles: themes.Build(th), Version: "bench"})
	reports := make([]opsfleet.Report, benchHosts)
	for i := range reports {
		reports[i] = benchReport(i)
	}
	for _, msg := range []tea.Msg{tea.WindowSizeMsg{Width: 160, Height: 48},
		views.ClockMsg{Now: testNow}, fleet.HostsPolledMsg{Reports: reports}} {
		next, _ := m.Update(msg)
		m = next.(Model)
	}
	return m
}

func benchReport(i int) opsfleet.Report {
	return opsfleet.Report{Host: fmt.Sprintf("web-%03d", i), Transport: "ssh", Status: health.OK,
		Outcome: sessions.OutcomeOK, Time: testNow,
		Metrics: &health.Metrics{Time: testNow, CPUPercent: float64(i % 100), Cores: 4, MemTotal: 8 << 30,
			MemUsed: 3 << 30, MemPercent: 37.5, Load1: 0.4, Load5: 0.3, Load15: 0.2, Uptime: 72 * time.Hour,
			Disks: []health.Disk{{Mount: "/", Total: 100 << 30, Used: 40 << 30, Percent: 40}}}}
}

// benchLines is one engine batch: n lines spread over the hosts, numbered from seq.
func benchLines(seq uint64, n int) logsview.LinesMsg {
	lines := make([]opslogs.Line, n)
	for i := range lines {
		s := seq + uint64(i)
		lines[i] = opslogs.Line{Seq: s, Host: fmt.Sprintf("web-%03d", int(s)%benchHosts), Source: "app",
			Received: testNow, Level: opslogs.LevelInfo,
			Message: fmt.Sprintf("GET /api/v1/items/%d 200 12ms", s),
			Raw:     fmt.Sprintf("ts=2026-11-22T09:41:07Z level=info msg=\"GET /api/v1/items/%d 200 12ms\"", s)}
	}
	return logsview.LinesMsg{Lines: lines}
}

func step(m Model, msg tea.Msg) Model {
	next, _ := m.Update(msg)
	m = next.(Model)
	_ = m.View()
	return m
}

// BenchmarkStreamBatch: one batch of streamed lines with the logs pane in focus. The
// engine hands over what arrived since the last batch, so at 100 hosts × 1,000 lines/s a
// batch holds from a few dozen lines (the console keeping up) to thousands (catching up).
func BenchmarkStreamBatch(b *testing.B) {
	for _, n := range []int{40, 4000} {
		b.Run(fmt.Sprintf("lines=%d", n), func(b *testing.B) {
			m := step(benchModel(b), views.FocusPaneMsg{Pane: views.PaneLogs})
			msgs := make([]logsview.LinesMsg, 16)
			for i := range msgs {
				msgs[i] = benchLines(uint64(i*n+1), n)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				msg := msgs[i%len(msgs)]
				if i >= len(msgs) {
					// The pane keeps a line once: each batch goes round with newer numbers.
					for j := range msg.Lines {
						msg.Lines[j].Seq += uint64(len(msgs) * n)
					}
				}
				m = step(m, msg)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/line")
		})
	}
}

// BenchmarkFleetReport: one host's poll report with the logs pane in focus (the fleet
// pane takes it in the background).
func BenchmarkFleetReport(b *testing.B) {
	m := step(benchModel(b), views.FocusPaneMsg{Pane: views.PaneLogs})
	msgs := make([]fleet.HostsPolledMsg, benchHosts)
	for i := range msgs {
		msgs[i] = fleet.HostsPolledMsg{Reports: []opsfleet.Report{benchReport(i)}}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m = step(m, msgs[i%len(msgs)])
	}
}

// BenchmarkKey: a scroll key in the logs pane, which holds 10,000 lines.
func BenchmarkKey(b *testing.B) {
	m := step(benchModel(b), views.FocusPaneMsg{Pane: views.PaneLogs})
	for i := range 250 {
		m = step(m, benchLines(uint64(i*40+1), 40))
	}
	keys := []tea.KeyMsg{{Type: tea.KeyRunes, Runes: []rune{'k'}}, {Type: tea.KeyRunes, Runes: []rune{'j'}}}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m = step(m, keys[i%2])
	}
}

// BenchmarkView: drawing the frame alone, the logs pane in focus.
func BenchmarkView(b *testing.B) {
	m := step(benchModel(b), views.FocusPaneMsg{Pane: views.PaneLogs})
	for i := range 250 {
		m = step(m, benchLines(uint64(i*40+1), 40))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = m.View()
	}
}
