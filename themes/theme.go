// Package themes turns a semantic Theme (roles such as Text, FocusBorder, OK, Crit) into
// the ready lipgloss styles every view draws with, so no view holds a colour literal.
//
// Built-in themes (dark, light, high-contrast, no-color, auto) are TOML files embedded
// from builtin/; the same format is what users write for their own themes, usually a few
// lines that inherit a built-in and override some roles. User themes are validated before
// use: unknown roles and bad colours are errors that name file:line:col.
//
// Colour never carries meaning alone. Views pair every status colour with a symbol or a
// word (✓ ok, ▲ warn, ✗ crit, ▼ down, ? unknown), and the styles built here add bold,
// reverse, underline or a different border shape wherever a role has no colour, which is
// how the no-color theme stays usable.
//
// This package imports only lipgloss (and BurntSushi/toml for theme files), as the
// one-way import rule in DESIGN.md §10 asks.
package themes

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// HostColors is the size of a theme's host palette: the logs pane colours each host's
// prefix with HostColor(i), cycling when there are more hosts than colours.
const HostColors = 12

// Theme is a set of semantic colour roles. A role holds a lipgloss.Color ("#rrggbb" or
// an ANSI number "0"–"255"), a lipgloss.AdaptiveColor (picks by terminal background), or
// lipgloss.NoColor{} (the style built from it falls back to text attributes).
//
// A Theme is plain data: Build turns it into Styles once, and views take the Styles.
type Theme struct {
	// Name is what the theme was loaded as ("dark", or a user theme's file name).
	Name string
	// Source says where the theme came from: "built-in", or the path of the user file.
	Source string
	// Description is a one-line summary for the theme picker.
	Description string

	Text        lipgloss.TerminalColor // ordinary text
	Faint       lipgloss.TerminalColor // secondary text: timestamps, hints, units
	Accent      lipgloss.TerminalColor // keys in help, table headers, sparklines
	Border      lipgloss.TerminalColor // pane borders without focus
	FocusBorder lipgloss.TerminalColor // the border and title of the focused pane
	Title       lipgloss.TerminalColor // headings
	SelectedFg  lipgloss.TerminalColor // the selected row's text
	SelectedBg  lipgloss.TerminalColor // the selected row's background
	OK          lipgloss.TerminalColor // healthy
	Warn        lipgloss.TerminalColor // degraded, needs a look
	Crit        lipgloss.TerminalColor // failing; also error log lines and error flashes
	Down        lipgloss.TerminalColor // unreachable
	Unknown     lipgloss.TerminalColor // not yet known or stale
	Info        lipgloss.TerminalColor // info log lines and ordinary flashes
	Debug       lipgloss.TerminalColor // debug log lines
	BadgeFg     lipgloss.TerminalColor // REC / READ-ONLY badge text
	BadgeBg     lipgloss.TerminalColor // REC / READ-ONLY badge background
	HeaderBg    lipgloss.TerminalColor // the header bar
	StatusBarBg lipgloss.TerminalColor // the status bar at the bottom
	ModalBorder lipgloss.TerminalColor // dialogs
	Danger      lipgloss.TerminalColor // dangerous actions: the confirm modal of a change
	MatchFg     lipgloss.TerminalColor // search matches in logs and output
	MatchBg     lipgloss.TerminalColor

	// Hosts colours host prefixes in the merged log pane; the built-in palettes are
	// distinct from one another and readable on the theme's background.
	Hosts [HostColors]lipgloss.TerminalColor
}

// role ties a theme file key to its field, so decoding, completeness checks and error
// messages all come from one list.
type role struct {
	key   string
	field func(*Theme) *lipgloss.TerminalColor
}

var roles = []role{
	{"text", func(t *Theme) *lipgloss.TerminalColor { return &t.Text }},
	{"faint", func(t *Theme) *lipgloss.TerminalColor { return &t.Faint }},
	{"accent", func(t *Theme) *lipgloss.TerminalColor { return &t.Accent }},
	{"border", func(t *Theme) *lipgloss.TerminalColor { return &t.Border }},
	{"focus_border", func(t *Theme) *lipgloss.TerminalColor { return &t.FocusBorder }},
	{"title", func(t *Theme) *lipgloss.TerminalColor { return &t.Title }},
	{"selected_fg", func(t *Theme) *lipgloss.TerminalColor { return &t.SelectedFg }},
	{"selected_bg", func(t *Theme) *lipgloss.TerminalColor { return &t.SelectedBg }},
	{"ok", func(t *Theme) *lipgloss.TerminalColor { return &t.OK }},
	{"warn", func(t *Theme) *lipgloss.TerminalColor { return &t.Warn }},
	{"crit", func(t *Theme) *lipgloss.TerminalColor { return &t.Crit }},
	{"down", func(t *Theme) *lipgloss.TerminalColor { return &t.Down }},
	{"unknown", func(t *Theme) *lipgloss.TerminalColor { return &t.Unknown }},
	{"info", func(t *Theme) *lipgloss.TerminalColor { return &t.Info }},
	{"debug", func(t *Theme) *lipgloss.TerminalColor { return &t.Debug }},
	{"badge_fg", func(t *Theme) *lipgloss.TerminalColor { return &t.BadgeFg }},
	{"badge_bg", func(t *Theme) *lipgloss.TerminalColor { return &t.BadgeBg }},
	{"header_bg", func(t *Theme) *lipgloss.TerminalColor { return &t.HeaderBg }},
	{"status_bar_bg", func(t *Theme) *lipgloss.TerminalColor { return &t.StatusBarBg }},
	{"modal_border", func(t *Theme) *lipgloss.TerminalColor { return &t.ModalBorder }},
	{"danger", func(t *Theme) *lipgloss.TerminalColor { return &t.Danger }},
	{"match_fg", func(t *Theme) *lipgloss.TerminalColor { return &t.MatchFg }},
	{"match_bg", func(t *Theme) *lipgloss.TerminalColor { return &t.MatchBg }},
}

// Keys a theme file may hold besides the roles.
const (
	keyInherit     = "inherit"
	keyDescription = "description"
	keyHosts       = "hosts"
)

// fileKeys lists every key valid at the top of a theme file, for "did you mean" hints.
func fileKeys() []string {
	keys := []string{keyInherit, keyDescription, keyHosts}
	for _, r := range roles {
		keys = append(keys, r.key)
	}
	return keys
}

func findRole(key string) (role, bool) {
	for _, r := range roles {
		if r.key == key {
			return r, true
		}
	}
	return role{}, false
}

// missing lists the roles a theme leaves unset; a usable theme has none.
func (t *Theme) missing() []string {
	var out []string
	for _, r := range roles {
		if *r.field(t) == nil {
			out = append(out, r.key)
		}
	}
	var hosts []string
	for i, c := range t.Hosts {
		if c == nil {
			hosts = append(hosts, fmt.Sprintf("%s[%d]", keyHosts, i))
		}
	}
	if len(hosts) == HostColors {
		// hosts is set as one array; name it once rather than twelve times.
		hosts = []string{keyHosts}
	}
	return append(out, hosts...)
}

// isNone reports whether a role carries no colour, so Build must show it with an
// attribute instead.
func isNone(c lipgloss.TerminalColor) bool {
	switch c := c.(type) {
	case nil, lipgloss.NoColor:
		return true
	case lipgloss.Color:
		return c == ""
	case lipgloss.AdaptiveColor:
		return c.Light == "" && c.Dark == ""
	}
	return false
}

const colourSyntax = `want "#rrggbb", "#rgb", an ANSI number 0-255, "none", or { light = ..., dark = ... }`

// parseColour reads one colour value as decoded from TOML.
func parseColour(v any) (lipgloss.TerminalColor, error) {
	switch v := v.(type) {
	case string:
		if strings.EqualFold(v, "none") {
			return lipgloss.NoColor{}, nil
		}
		s, err := parseSimple(v)
		if err != nil {
			return nil, err
		}
		return lipgloss.Color(s), nil
	case int64:
		s, err := parseANSI(v)
		if err != nil {
			return nil, err
		}
		return lipgloss.Color(s), nil
	case map[string]any:
		return parseAdaptive(v)
	}
	return nil, fmt.Errorf("a colour cannot be a TOML %s; %s", tomlKind(v), colourSyntax)
}

// parseAdaptive reads { light = ..., dark = ... }. Both halves are required: a half
// left out would make the role vanish on one kind of terminal without anyone noticing.
func parseAdaptive(m map[string]any) (lipgloss.TerminalColor, error) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if k != "light" && k != "dark" {
			return nil, fmt.Errorf("unknown key %q in adaptive colour (want light and dark)", k)
		}
	}
	var ac lipgloss.AdaptiveColor
	for _, k := range []string{"light", "dark"} {
		raw, ok := m[k]
		if !ok {
			return nil, fmt.Errorf("adaptive colour needs both light and dark; %s is missing", k)
		}
		var s string
		var err error
		switch raw := raw.(type) {
		case string:
			s, err = parseSimple(raw)
		case int64:
			s, err = parseANSI(raw)
		default:
			err = fmt.Errorf("%s must be a colour string or number, not a TOML %s", k, tomlKind(raw))
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		if k == "light" {
			ac.Light = s
		} else {
			ac.Dark = s
		}
	}
	return ac, nil
}

// parseSimple accepts "#rgb", "#rrggbb" or an ANSI number in a string, and returns the
// canonical form ("#rrggbb" lower case, or the bare number) so equal colours compare
// equal whatever way they were written.
func parseSimple(s string) (string, error) {
	if strings.HasPrefix(s, "#") {
		hex := strings.ToLower(s[1:])
		if len(hex) != 3 && len(hex) != 6 {
			return "", fmt.Errorf("bad colour %q: %s", s, colourSyntax)
		}
		for _, c := range hex {
			if !strings.ContainsRune("0123456789abcdef", c) {
				return "", fmt.Errorf("bad colour %q: %s", s, colourSyntax)
			}
		}
		if len(hex) == 3 {
			hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
		}
		return "#" + hex, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return "", fmt.Errorf("bad colour %q: %s", s, colourSyntax)
	}
	return parseANSI(n)
}

func parseANSI(n int64) (string, error) {
	if n < 0 || n > 255 {
		return "", fmt.Errorf("bad colour %d: ANSI colours are 0-255", n)
	}
	return strconv.FormatInt(n, 10), nil
}

// tomlKind names a decoded TOML value the way a theme author would recognise it.
func tomlKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int64:
		return "integer"
	case float64:
		return "float"
	case bool:
		return "boolean"
	case []any, []map[string]any:
		return "array"
	case map[string]any:
		return "table"
	}
	return "date or time"
}
