package incidents

import (
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/opsconsole/opsconsole/ops/audit"
	"github.com/opsconsole/opsconsole/ops/heal"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/ops/runbook"
	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views/termsafe"
)

// The renderers below are pure functions of their arguments (DESIGN.md §10.13): no
// model, no clock, no terminal. Text that came from hosts (errors, probe details, output
// first lines in the audit log) goes through clean before it is drawn.

const (
	indent    = "      "
	cutMarker = "…"
)

// cut shortens a (styled) line to width cells, ending it with … when it was longer.
func cut(s string, width int) string {
	if width <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= width {
		return s
	}
	return ansi.Truncate(s, width, cutMarker)
}

// spread puts left and right on one line of width cells, cutting left when both do not
// fit and dropping right when even that is too little.
func spread(left, right string, width int) string {
	lw, rw := lipgloss.Width(left), lipgloss.Width(right)
	if right == "" {
		return cut(left, width)
	}
	if lw+1+rw > width {
		if rw+2 > width/2 {
			return cut(left, width)
		}
		left = cut(left, width-rw-1)
		lw = lipgloss.Width(left)
	}
	return left + strings.Repeat(" ", max(1, width-lw-rw)) + right
}

// severityLabel is the severity as symbol and word, padded to one width, so the list
// reads without colour.
func severityLabel(s health.Status) string {
	l := s.Symbol() + " " + s.String()
	return l + strings.Repeat(" ", max(0, 6-lipgloss.Width(l)))
}

func severityStyle(s health.Status, st *themes.Styles) lipgloss.Style {
	switch s {
	case health.Down:
		return st.StatusDown
	case health.Crit:
		return st.StatusCrit
	case health.Warn:
		return st.StatusWarn
	}
	return st.StatusUnknown
}

// kindLabel names what the incident is about: "unhealthy", "probe app-health".
func kindLabel(in heal.Incident) string {
	switch in.Kind {
	case heal.KindProbe, heal.KindFlapping, heal.KindMarker, heal.KindAlert:
		return string(in.Kind) + " " + termsafe.Line(in.Subject)
	case heal.KindInterrupted:
		if in.Run != nil {
			return "interrupted " + termsafe.Line(in.Run.Intent.Kind+" "+in.Run.Intent.Name)
		}
	}
	return string(in.Kind)
}

// sinceText is when an incident began and how long ago: "since 09:58:00 · 2m".
func sinceText(since, now time.Time) string {
	if since.IsZero() {
		return ""
	}
	s := "since " + since.Format("15:04:05")
	if !now.IsZero() && !now.Before(since) {
		s += " · " + fmtAgo(now.Sub(since))
	}
	return s
}

func fmtAgo(d time.Duration) string {
	switch {
	case d < time.Minute:
		return itoa(int(d/time.Second)) + "s"
	case d < time.Hour:
		return itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return itoa(int(d/time.Hour)) + "h"
	}
	return itoa(int(d/(24*time.Hour))) + "d"
}

// renderSummary is the pane's top line: the count of incidents by severity, and at the
// right what the automatic self-heal is doing.
func renderSummary(incs []heal.Incident, dismissed int, reported bool, auto string, st *themes.Styles, width int) string {
	var left string
	switch {
	case len(incs) == 0 && !reported:
		left = st.Faint.Render("waiting for the first health reports…")
	case len(incs) == 0:
		left = st.StatusOK.Render("✓ no incidents")
	default:
		counts := map[health.Status]int{}
		for _, in := range incs {
			counts[in.Severity]++
		}
		parts := []string{st.Title.Render(plural(len(incs), "1 incident", itoa(len(incs))+" incidents") + ":")}
		for _, s := range []health.Status{health.Down, health.Crit, health.Warn, health.Unknown} {
			if n := counts[s]; n > 0 {
				parts = append(parts, severityStyle(s, st).Render(s.Symbol()+" "+itoa(n)+" "+s.String()))
			}
		}
		left = strings.Join(parts, "  ")
	}
	if dismissed > 0 {
		left += st.Faint.Render("  · " + itoa(dismissed) + " dismissed")
	}
	return spread(left, auto, width)
}

// renderHeader is an incident's first line: cursor, severity, host, kind and since when.
func renderHeader(in heal.Incident, selected bool, hostW int, now time.Time, st *themes.Styles, width int) string {
	mark, hostStyle := "  ", st.Text
	if selected {
		mark, hostStyle = "> ", st.TableSelected
	}
	host := termsafe.Line(in.Host)
	host += strings.Repeat(" ", max(0, hostW-lipgloss.Width(host)))
	left := st.Accent.Render(mark) + severityStyle(in.Severity, st).Render(severityLabel(in.Severity)) + " " +
		hostStyle.Render(host) + "  " + st.Text.Render(kindLabel(in))
	return spread(left, st.Faint.Render(sinceText(in.Since, now)), width)
}

// renderDetail is what was seen, under the header: one line cut to the width, or
// whole, wrapped, when the incident is expanded.
func renderDetail(in heal.Incident, expanded bool, st *themes.Styles, width int) []string {
	if !expanded {
		return []string{cut(indent+st.Text.Render(termsafe.Line(in.Detail)), width)}
	}
	var out []string
	for _, l := range wrap(termsafe.Line(in.Detail), width-len(indent)) {
		out = append(out, cut(indent+st.Text.Render(l), width))
	}
	return out
}

// renderSuggestion is one suggested runbook: "↳ clean-logs · disk_used 96% > 90" and, for
// an automatic rule, its state (counting down, held by a limit, off): at the right when
// it fits, else on a line of its own below, since the state matters more than the why.
func renderSuggestion(s heal.Suggestion, selected bool, auto string, autoWarn bool, st *themes.Styles, width int) []string {
	mark := "  "
	name := st.Accent.Render(termsafe.Line(s.Runbook))
	if selected {
		mark = "> "
		name = st.TableSelected.Render(termsafe.Line(s.Runbook))
	}
	left := st.Accent.Render(mark) + "    ↳ " + name + st.Faint.Render(" · "+termsafe.Line(s.Why))
	if auto == "" {
		return []string{cut(left, width)}
	}
	style := st.Faint
	if autoWarn {
		style = st.StatusWarn
	}
	if lipgloss.Width(left)+2+lipgloss.Width(auto) <= width {
		return []string{spread(left, style.Render(auto), width)}
	}
	out := []string{cut(left, width)}
	for _, l := range wrap(auto, width-len(indent)-2) {
		out = append(out, cut(indent+"  "+style.Render(l), width))
	}
	return out
}

// wrap breaks plain text into lines of at most width cells, at spaces where it can.
func wrap(s string, width int) []string {
	if width <= 0 {
		return nil
	}
	return strings.Split(ansi.Wrap(s, width, ""), "\n")
}

// renderRun is a run's state under its incident: per host while it runs, the outcome
// and where its audit records are once it ended.
func renderRun(r run, st *themes.Styles, width int) []string {
	if !r.finished {
		out := make([]string, 0, len(r.hosts))
		for _, h := range r.hosts {
			text := "… " + r.plan.Runbook + " on " + termsafe.Line(h.Host) + ": " + string(h.State)
			if h.Step > 0 || h.Phase != "" {
				text += " · step " + itoa(h.Step) + "/" + itoa(len(r.plan.Steps)) + " " + h.Phase
			}
			if h.Command != "" && h.State == runbook.StateRunning {
				text += ": " + termsafe.Line(h.Command)
			}
			if h.Note != "" {
				text += " (" + termsafe.Line(h.Note) + ")"
			}
			out = append(out, cut(indent+st.Accent.Render(text), width))
		}
		return out
	}
	text, bad := outcomeText(r)
	style := st.StatusOK
	if bad {
		style = st.StatusCrit
	}
	out := []string{cut(indent+style.Render(text), width)}
	if r.actionID != "" {
		out = append(out, cut(indent+st.Faint.Render("audit: opsconsole audit --id "+string(r.actionID)), width))
	}
	return out
}

// outcomeText says how a run ended in one line, and whether that is bad news.
func outcomeText(r run) (string, bool) {
	o := r.outcome
	what := r.plan.Runbook + " on " + r.host
	switch {
	case o.ID == "" && o.Err != nil:
		return "✗ " + what + " did not run: " + termsafe.Line(o.Err.Error()), true
	case o.Cancelled:
		return "⊘ " + what + " cancelled" + took(o), true
	case o.OK():
		return "✓ " + what + ": ok" + took(o), false
	}
	var parts []string
	for _, h := range o.Hosts {
		if h.State.Good() {
			continue
		}
		p := termsafe.Line(h.Host) + " " + string(h.State)
		if h.Note != "" {
			p += " (" + termsafe.Line(h.Note) + ")"
		}
		parts = append(parts, p)
	}
	if o.Err != nil {
		parts = append(parts, termsafe.Line(o.Err.Error()))
	}
	return "✗ " + what + ": " + strings.Join(parts, "; ") + took(o), true
}

func took(o runbook.Outcome) string {
	if o.Started.IsZero() || o.Ended.Before(o.Started) {
		return ""
	}
	return " in " + o.Ended.Sub(o.Started).Round(time.Millisecond).String()
}

// renderInterrupted says what an interrupted run did and did not finish: each host's
// last recorded result, and the hosts that never reported.
func renderInterrupted(r *audit.Run, expanded bool, st *themes.Styles, width int) []string {
	if r == nil {
		return nil
	}
	if !expanded {
		var done []string
		for _, p := range r.Started {
			done = append(done, termsafe.Line(p.Host)+" "+lastState(p))
		}
		line := ""
		if len(done) > 0 {
			line = "reported: " + strings.Join(done, ", ")
		}
		if len(r.NotStarted) > 0 {
			if line != "" {
				line += " · "
			}
			line += "no result: " + termsafe.Line(strings.Join(r.NotStarted, ", "))
		}
		return []string{cut(indent+st.Text.Render(line), width)}
	}
	who := r.Intent.Who.User
	if r.Intent.Who.SudoUser != "" {
		who = r.Intent.Who.SudoUser + " (as " + who + ")"
	}
	out := []string{cut(indent+st.Faint.Render("started "+r.Time.Format("2006-01-02 15:04:05")+" by "+termsafe.Line(who)+
		" · audit: opsconsole audit --id "+string(r.ID)), width)}
	for _, p := range r.Started {
		style := st.StatusOK
		if p.Failed() {
			style = st.StatusCrit
		}
		line := termsafe.Line(p.Host) + ": " + lastState(p)
		if p.Last.FirstLine != "" {
			line += " · " + termsafe.Line(p.Last.FirstLine)
		}
		out = append(out, cut(indent+"  "+style.Render(line), width))
	}
	for _, h := range r.NotStarted {
		out = append(out, cut(indent+"  "+st.StatusUnknown.Render(termsafe.Line(h)+": no result (did not start, or never reported)"), width))
	}
	return out
}

// lastState is a host's last recorded result in short: "ok after step 1 check".
func lastState(p audit.HostProgress) string {
	l := p.Last
	s := l.Outcome
	if l.Outcome == "failed" {
		s += " (exit " + itoa(l.ExitCode) + ")"
	}
	if l.Step > 0 || l.Phase != "" {
		s += " at step " + itoa(l.Step)
		if l.Phase != "" {
			s += " " + l.Phase
		}
	}
	return s
}

// renderPlan draws a suggestion's exact plan, indented under it.
func renderPlan(lines []string, st *themes.Styles, width int) []string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		out = append(out, cut(indent+"  "+st.Faint.Render(termsafe.Line(l)), width))
	}
	return out
}

// hostWidth is the widest host name among incidents, capped so the kind stays in view.
func hostWidth(incs []heal.Incident, width int) int {
	w := 0
	for _, in := range incs {
		w = max(w, lipgloss.Width(termsafe.Line(in.Host)))
	}
	return min(w, max(width/4, 8))
}

func itoa(n int) string { return strconv.Itoa(n) }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
