package themes

import (
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// Styles are the ready styles views draw with, built once from a Theme by Build and
// passed down to every pane by pointer: the set is some 30 KB, and models are values
// copied on every message, so each holds the one shared, never-mutated set. Views style text only through these (DESIGN.md §10.12).
//
// Every status style goes with a symbol or a word in the view (✓ ok, ▲ warn, ✗ crit,
// ▼ down, ? unknown): colour only reinforces what the text already says.
type Styles struct {
	// Theme is the theme the styles were built from, for the rare view that needs a
	// raw colour (a gradient, a chart series); prefer the styles below.
	Theme Theme

	Text   lipgloss.Style
	Faint  lipgloss.Style
	Accent lipgloss.Style
	Title  lipgloss.Style

	// Header is the bar across the top; Footer the status bar at the bottom.
	Header lipgloss.Style
	Footer lipgloss.Style

	StatusOK      lipgloss.Style
	StatusWarn    lipgloss.Style
	StatusCrit    lipgloss.Style
	StatusDown    lipgloss.Style
	StatusUnknown lipgloss.Style

	// PaneBorder frames a pane without focus; PaneBorderFocused the one with focus.
	// Without colour the focused border is thick, so focus still shows.
	PaneBorder        lipgloss.Style
	PaneBorderFocused lipgloss.Style
	PaneTitle         lipgloss.Style
	PaneTitleFocused  lipgloss.Style

	TableHeader   lipgloss.Style
	TableRow      lipgloss.Style
	TableSelected lipgloss.Style

	// Flash is the transient message line; FlashErr the same line for an error.
	Flash    lipgloss.Style
	FlashErr lipgloss.Style

	// Modal frames a dialog; ModalDanger frames the confirmation of a change to hosts,
	// with a double border so it differs from an ordinary dialog by shape, not just hue.
	Modal       lipgloss.Style
	ModalDanger lipgloss.Style
	// Danger marks the words of a dangerous action (the command, the blast radius).
	Danger lipgloss.Style

	// Badge marks a mode in the header: REC, READ-ONLY.
	Badge lipgloss.Style

	HelpKey  lipgloss.Style
	HelpDesc lipgloss.Style
	HelpSep  lipgloss.Style
	// Help is the bubbles help model's styles, ready to assign:
	// helpModel.Styles = help.Styles(styles.Help).
	Help HelpStyles

	Sparkline lipgloss.Style
	// Match highlights search matches; without colour it is bold underline, which stays
	// visible on a reversed selected row.
	Match lipgloss.Style

	LevelDebug lipgloss.Style
	LevelInfo  lipgloss.Style
	LevelWarn  lipgloss.Style
	LevelError lipgloss.Style
	LevelFatal lipgloss.Style

	hosts [HostColors]lipgloss.Style
}

// HelpStyles has the fields of bubbles' help.Styles in the same order, so a view converts
// it with help.Styles(s.Help). It is declared here rather than imported because themes
// imports only lipgloss; a test keeps the two types convertible.
type HelpStyles struct {
	Ellipsis       lipgloss.Style
	ShortKey       lipgloss.Style
	ShortDesc      lipgloss.Style
	ShortSeparator lipgloss.Style
	FullKey        lipgloss.Style
	FullDesc       lipgloss.Style
	FullSeparator  lipgloss.Style
}

// Build makes the styles of t for lipgloss' default renderer (the terminal the program
// runs in).
func Build(t Theme) *Styles {
	return BuildFor(lipgloss.DefaultRenderer(), t)
}

// BuildFor makes the styles of t for renderer r. Tests use it with a renderer of a fixed
// colour profile and background, so they neither depend on nor change global state.
func BuildFor(r *lipgloss.Renderer, t Theme) *Styles {
	base := r.NewStyle()
	fg := func(c lipgloss.TerminalColor) lipgloss.Style {
		if isNone(c) {
			return base
		}
		return base.Foreground(c)
	}
	// onBg is text on a coloured bar; without a background colour it is reversed, the
	// one attribute that still shows a bar.
	onBg := func(fgc, bgc lipgloss.TerminalColor) lipgloss.Style {
		if isNone(bgc) {
			return fg(fgc).Reverse(true)
		}
		return fg(fgc).Background(bgc)
	}
	// plain adds attributes to st only when c carries no colour, so coloured themes do
	// not get properties set to false (which Style.Inherit would copy).
	plain := func(st lipgloss.Style, c lipgloss.TerminalColor, attrs ...func(lipgloss.Style, bool) lipgloss.Style) lipgloss.Style {
		if !isNone(c) {
			return st
		}
		for _, a := range attrs {
			st = a(st, true)
		}
		return st
	}
	border := func(b lipgloss.Border, c lipgloss.TerminalColor) lipgloss.Style {
		s := base.Border(b)
		if !isNone(c) {
			s = s.BorderForeground(c)
		}
		return s
	}

	s := &Styles{Theme: t}
	s.Text = fg(t.Text)
	s.Faint = plain(fg(t.Faint), t.Faint, lipgloss.Style.Faint)
	s.Accent = plain(fg(t.Accent), t.Accent, lipgloss.Style.Bold)
	s.Title = fg(t.Title).Bold(true)

	s.Header = onBg(t.Text, t.HeaderBg).Padding(0, 1)
	s.Footer = onBg(t.Text, t.StatusBarBg).Padding(0, 1)

	s.StatusOK = fg(t.OK)
	s.StatusWarn = plain(fg(t.Warn), t.Warn, lipgloss.Style.Bold)
	s.StatusCrit = fg(t.Crit).Bold(true)
	s.StatusDown = plain(fg(t.Down).Bold(true), t.Down, lipgloss.Style.Reverse)
	s.StatusUnknown = plain(fg(t.Unknown), t.Unknown, lipgloss.Style.Faint)

	s.PaneBorder = border(lipgloss.RoundedBorder(), t.Border)
	if isNone(t.FocusBorder) {
		s.PaneBorderFocused = border(lipgloss.ThickBorder(), t.FocusBorder)
	} else {
		s.PaneBorderFocused = border(lipgloss.RoundedBorder(), t.FocusBorder)
	}
	s.PaneTitle = fg(t.Text)
	s.PaneTitleFocused = plain(fg(t.FocusBorder).Bold(true), t.FocusBorder, lipgloss.Style.Reverse)

	s.TableHeader = fg(t.Accent).Bold(true)
	s.TableRow = fg(t.Text)
	s.TableSelected = onBg(t.SelectedFg, t.SelectedBg)

	s.Flash = fg(t.Info)
	s.FlashErr = fg(t.Crit).Bold(true)

	s.Modal = border(lipgloss.RoundedBorder(), t.ModalBorder).Padding(1, 2)
	s.ModalDanger = border(lipgloss.DoubleBorder(), t.Danger).Padding(1, 2)
	s.Danger = fg(t.Danger).Bold(true)

	s.Badge = onBg(t.BadgeFg, t.BadgeBg).Bold(true).Padding(0, 1)

	s.HelpKey = s.Accent
	s.HelpDesc = fg(t.Faint)
	s.HelpSep = plain(fg(t.Border), t.Border, lipgloss.Style.Faint)
	s.Help = HelpStyles{
		Ellipsis:       s.HelpSep,
		ShortKey:       s.HelpKey,
		ShortDesc:      s.HelpDesc,
		ShortSeparator: s.HelpSep,
		FullKey:        s.HelpKey,
		FullDesc:       s.HelpDesc,
		FullSeparator:  s.HelpSep,
	}

	s.Sparkline = fg(t.Accent)
	if isNone(t.MatchBg) {
		s.Match = fg(t.MatchFg).Bold(true).Underline(true)
	} else {
		s.Match = fg(t.MatchFg).Background(t.MatchBg)
	}

	s.LevelDebug = plain(fg(t.Debug), t.Debug, lipgloss.Style.Faint)
	s.LevelInfo = fg(t.Info)
	s.LevelWarn = s.StatusWarn
	s.LevelError = fg(t.Crit).Bold(true)
	s.LevelFatal = fg(t.Crit).Bold(true).Reverse(true)

	for i, c := range t.Hosts {
		s.hosts[i] = fg(c)
	}
	return s
}

// HostColor returns the style of the i-th host in the logs pane; it cycles through the
// palette, so any index (even a negative hash) is valid.
func (s *Styles) HostColor(i int) lipgloss.Style {
	i %= HostColors
	if i < 0 {
		i += HostColors
	}
	return s.hosts[i]
}

// Level returns the style of a log level as log sources spell it (debug, info, warn,
// warning, error, err, fatal, panic, crit, ...); an unknown level is plain text.
func (s *Styles) Level(level string) lipgloss.Style {
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "trace", "debug", "dbg":
		return s.LevelDebug
	case "info", "information", "notice":
		return s.LevelInfo
	case "warn", "warning":
		return s.LevelWarn
	case "error", "err", "eror":
		return s.LevelError
	case "fatal", "panic", "crit", "critical", "alert", "emerg", "emergency":
		return s.LevelFatal
	}
	return s.Text
}

// Status returns the style of a health status word (ok, warn, crit, down, unknown and
// their usual synonyms); anything else is unknown.
func (s *Styles) Status(status string) lipgloss.Style {
	switch strings.ToLower(strings.TrimSpace(status)) {
	case "ok", "up", "healthy", "pass", "passing":
		return s.StatusOK
	case "warn", "warning", "degraded":
		return s.StatusWarn
	case "crit", "critical", "fail", "failed", "failing", "unhealthy", "error":
		return s.StatusCrit
	case "down", "unreachable":
		return s.StatusDown
	}
	return s.StatusUnknown
}
