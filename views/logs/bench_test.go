package logs

import (
	"fmt"
	"io"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/opsconsole/opsconsole/keymap"
	"github.com/opsconsole/opsconsole/ops/logs"
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

// benchBatch is n lines from 50 hosts, a mix of text, JSON and logfmt lines as the
// engine delivers them, with Seqs from seq+1.
func benchBatch(n int, seq uint64) []logs.Line {
	b := &lb{seq: seq, at: t0}
	out := make([]logs.Line, n)
	for i := range out {
		host := fmt.Sprintf("web-%d", i%50)
		switch i % 10 {
		case 0, 1, 2, 3:
			out[i] = b.text(host, logs.LevelInfo, fmt.Sprintf("GET /api/v1/items/%d 200 %d.%dms", i, i%40, i%10))
		case 4, 5, 6:
			out[i] = b.json(host, logs.LevelInfo, "request served", "method", "POST", "path", fmt.Sprintf("/api/v1/carts/%d", i), "status", "201", "duration_ms", "12.5")
		case 7, 8:
			out[i] = b.logfmt(host, logs.LevelWarn, "slow query", "duration", "1.204s", "query", "SELECT * FROM orders WHERE id = $1")
		default:
			out[i] = b.json(host, logs.LevelError, "upstream timeout", "upstream", "10.0.1.12:5432", "err", "context deadline exceeded")
		}
	}
	return out
}

// benchModel is the pane at 160x48 with a full ring of 100,000 lines: the steady state
// of a long-running session, where every new line evicts one.
func benchModel(b *testing.B) Model {
	m := New(keymap.Default().Logs, benchStyles(b), DefaultCapacity).SetSize(160, 48)
	for i := range DefaultCapacity / 10_000 {
		m, _ = m.Update(LinesMsg{Lines: benchBatch(10_000, uint64(i*10_000))})
	}
	return m
}

func withFilter(b *testing.B, m Model, pattern string) Model {
	m, _ = m.StartFilter()
	for _, r := range pattern {
		m, _ = m.Update(keyMsg(string(r)))
	}
	m, cmd := m.Update(keyMsg("enter"))
	m, _ = settleScan(m, cmd)
	if m.flt.pattern != pattern || m.scanning() {
		b.Fatalf("filter %q not applied", pattern)
	}
	return m
}

// settle delivers the scan steps an Update asked for, as Bubble Tea would, and returns
// how many Updates that took.
func settleScan(m Model, cmd tea.Cmd) (Model, int) {
	n := 0
	for cmd != nil {
		msg := cmd()
		if _, ok := msg.(scanMsg); !ok {
			break
		}
		m, cmd = m.Update(msg)
		n++
	}
	return m, n
}

// BenchmarkAppend10k is one LinesMsg of 10,000 lines into a full ring: ring appends and
// evictions, the filter on the new lines only, the view's extension and trim. With a
// pattern the matching is spread over several Updates (scanBudgetPattern lines each);
// an op is all of them, and updates/op says how many.
func BenchmarkAppend10k(b *testing.B) {
	cases := []struct {
		name    string
		pattern string
		paused  bool
	}{
		{"nofilter", "", false},
		{"nofilter-paused", "", true},
		{"filter=literal", "timeout|orders", false},
		{"filter=regexp", `items/\d+5 `, false},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			m := benchModel(b)
			if c.pattern != "" {
				m = withFilter(b, m, c.pattern)
			}
			if c.paused {
				m, _ = m.Update(keyMsg("up"))
			}
			batch := benchBatch(10_000, 0)
			seq := m.st.lastSeq
			updates := 0
			b.ReportAllocs()
			for b.Loop() {
				for i := range batch {
					seq++
					batch[i].Seq = seq
				}
				var cmd tea.Cmd
				m, cmd = m.Update(LinesMsg{Lines: batch})
				var n int
				m, n = settleScan(m, cmd)
				updates += 1 + n
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10_000, "ns/line")
			b.ReportMetric(float64(updates)/float64(b.N), "updates/op")
		})
	}
}

// BenchmarkRefilter100k is putting a pattern in force over a full ring: every line
// matched, over as many Updates as the budget makes.
func BenchmarkRefilter100k(b *testing.B) {
	for _, pattern := range []string{"timeout|orders", `items/\d+5 `} {
		b.Run("filter="+pattern, func(b *testing.B) {
			m := benchModel(b)
			b.ReportAllocs()
			for b.Loop() {
				m, _ = m.StartFilter()
				for _, r := range pattern {
					m, _ = m.Update(keyMsg(string(r)))
				}
				var cmd tea.Cmd
				m, cmd = m.Update(keyMsg("enter"))
				m, _ = settleScan(m, cmd)
				m, cmd = m.Update(keyMsg("esc")) // clear it again
				m, _ = settleScan(m, cmd)
			}
		})
	}
}

// BenchmarkView160x48 is one frame at 160x48 over a full ring.
func BenchmarkView160x48(b *testing.B) {
	cases := []struct {
		name string
		prep func(m Model) Model
	}{
		{"following", nil},
		{"highlight", func(m Model) Model {
			m = withFilter(b, m, "request|timeout|GET")
			m, _ = m.Update(keyMsg("s"))
			for _, r := range "api" {
				m, _ = m.Update(keyMsg(string(r)))
			}
			m, _ = m.Update(keyMsg("enter"))
			return m
		}},
		{"wrap", func(m Model) Model {
			m, _ = m.Update(keyMsg("w"))
			return m
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			m := benchModel(b)
			if c.prep != nil {
				m = c.prep(m)
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = m.View()
			}
		})
	}
}
