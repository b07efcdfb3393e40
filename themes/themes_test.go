package themes

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"
	colorful "github.com/lucasb-eyer/go-colorful"
)

var (
	userDir   = filepath.Join("..", "testdata", "themes", "user")
	shadowDir = filepath.Join("..", "testdata", "themes", "shadow")
	badDir    = filepath.Join("..", "testdata", "themes", "bad")
)

func TestBuiltinsLoadCompleteAndBuild(t *testing.T) {
	for _, name := range Builtins() {
		th, err := Load(name, nil)
		if err != nil {
			t.Fatalf("Load(%q): %v", name, err)
		}
		if th.Name != name || th.Source != "built-in" || th.Description == "" {
			t.Errorf("%s: Name=%q Source=%q Description=%q", name, th.Name, th.Source, th.Description)
		}
		if m := th.missing(); len(m) > 0 {
			t.Errorf("%s leaves roles unset: %v", name, m)
		}
		s := Build(th)
		if s.Theme != th {
			t.Errorf("%s: Styles.Theme is not the theme built from", name)
		}
		if src, ok := BuiltinSource(name); !ok || len(src) == 0 {
			t.Errorf("BuiltinSource(%q) = %d bytes, %v", name, len(src), ok)
		}
	}
	if _, ok := BuiltinSource("nope"); ok {
		t.Error("BuiltinSource of an unknown name succeeded")
	}
}

// The auto theme is written out by hand as the example of adaptive colours; this keeps
// it equal to light paired with dark.
func TestAutoPairsLightWithDark(t *testing.T) {
	auto, light, dark := mustLoad(t, Auto), mustLoad(t, Light), mustLoad(t, Dark)
	pair := func(where string, a, l, d lipgloss.TerminalColor) {
		t.Helper()
		want := lipgloss.AdaptiveColor{Light: string(l.(lipgloss.Color)), Dark: string(d.(lipgloss.Color))}
		if a != want {
			t.Errorf("auto %s = %#v, want %#v", where, a, want)
		}
	}
	for _, r := range roles {
		pair(r.key, *r.field(&auto), *r.field(&light), *r.field(&dark))
	}
	for i := range auto.Hosts {
		pair("hosts", auto.Hosts[i], light.Hosts[i], dark.Hosts[i])
	}
}

func TestNoColorHasNoColours(t *testing.T) {
	th := mustLoad(t, NoColor)
	for _, r := range roles {
		if c := *r.field(&th); !isNone(c) {
			t.Errorf("no-color %s = %#v", r.key, c)
		}
	}
	for i, c := range th.Hosts {
		if !isNone(c) {
			t.Errorf("no-color hosts[%d] = %#v", i, c)
		}
	}
}

// Host colours must be told apart at a glance and read on the background each theme is
// made for. Text roles must meet WCAG AA (4.5:1), and high-contrast AAA (7:1).
func TestPalettesDistinctAndReadable(t *testing.T) {
	cases := []struct {
		theme       string
		backgrounds []string // the backgrounds the theme is for, from darkest/lightest to typical
		minContrast float64
	}{
		{Dark, []string{"#000000", "#1c1c1c", "#24283b"}, 4.5},
		{Light, []string{"#ffffff", "#f6f8fa"}, 4.5},
		{HighContrast, []string{"#000000"}, 7},
	}
	for _, tc := range cases {
		th := mustLoad(t, tc.theme)
		textRoles := map[string]lipgloss.TerminalColor{
			"text": th.Text, "faint": th.Faint, "accent": th.Accent, "title": th.Title,
			"ok": th.OK, "warn": th.Warn, "crit": th.Crit, "down": th.Down,
			"unknown": th.Unknown, "info": th.Info, "debug": th.Debug, "danger": th.Danger,
		}
		for _, bg := range tc.backgrounds {
			for name, c := range textRoles {
				if r := contrast(hex(t, c), mustHex(t, bg)); r < tc.minContrast {
					t.Errorf("%s: %s %v on %s has contrast %.2f, want >= %.1f", tc.theme, name, c, bg, r, tc.minContrast)
				}
			}
			for i, c := range th.Hosts {
				if r := contrast(hex(t, c), mustHex(t, bg)); r < tc.minContrast {
					t.Errorf("%s: hosts[%d] %v on %s has contrast %.2f, want >= %.1f", tc.theme, i, c, bg, r, tc.minContrast)
				}
			}
		}
		pairs := map[string][2]lipgloss.TerminalColor{
			"selected": {th.SelectedFg, th.SelectedBg},
			"badge":    {th.BadgeFg, th.BadgeBg},
			"match":    {th.MatchFg, th.MatchBg},
			"header":   {th.Text, th.HeaderBg},
			"footer":   {th.Text, th.StatusBarBg},
		}
		for name, p := range pairs {
			if r := contrast(hex(t, p[0]), hex(t, p[1])); r < tc.minContrast {
				t.Errorf("%s: %s text on its background has contrast %.2f, want >= %.1f", tc.theme, name, r, tc.minContrast)
			}
		}
		for i := range th.Hosts {
			for j := i + 1; j < len(th.Hosts); j++ {
				// CIEDE2000 distance ×100: about 2 is a just-noticeable difference;
				// 10 keeps neighbouring hosts' lines clearly apart.
				if d := hex(t, th.Hosts[i]).DistanceCIEDE2000(hex(t, th.Hosts[j])) * 100; d < 10 {
					t.Errorf("%s: hosts[%d] %v and hosts[%d] %v are too alike (ΔE %.1f)", tc.theme, i, th.Hosts[i], j, th.Hosts[j], d)
				}
			}
		}
	}
}

func TestLoadUserTheme(t *testing.T) {
	dark := mustLoad(t, Dark)
	th, err := Load("ocean", []string{userDir})
	if err != nil {
		t.Fatal(err)
	}
	if th.Name != "ocean" || th.Source != filepath.Join(userDir, "ocean.toml") || th.Description != "dark, warmer" {
		t.Errorf("Name=%q Source=%q Description=%q", th.Name, th.Source, th.Description)
	}
	if th.Accent != lipgloss.Color("#ff9e64") {
		t.Errorf("accent = %#v", th.Accent)
	}
	if th.FocusBorder != lipgloss.Color("208") {
		t.Errorf("focus_border = %#v", th.FocusBorder)
	}
	if want := (lipgloss.AdaptiveColor{Light: "#116329", Dark: "#b9f27c"}); th.OK != want {
		t.Errorf("ok = %#v, want %#v", th.OK, want)
	}
	// Everything not overridden comes from the parent.
	th.Accent, th.FocusBorder, th.OK = dark.Accent, dark.FocusBorder, dark.OK
	th.Name, th.Source, th.Description = dark.Name, dark.Source, dark.Description
	if th != dark {
		t.Errorf("ocean differs from dark beyond its overrides:\n%#v\n%#v", th, dark)
	}

	// Two levels: reef inherits ocean inherits dark; "#f0f" is expanded.
	reef, err := Load("reef", []string{userDir})
	if err != nil {
		t.Fatal(err)
	}
	if reef.Accent != lipgloss.Color("#ff00ff") || reef.FocusBorder != lipgloss.Color("208") || reef.Text != dark.Text {
		t.Errorf("reef: accent=%#v focus=%#v text=%#v", reef.Accent, reef.FocusBorder, reef.Text)
	}

	// A path loads directly.
	byPath, err := Load(filepath.Join(userDir, "ocean.toml"), nil)
	if err != nil || byPath.Name != "ocean" || byPath.Accent != lipgloss.Color("#ff9e64") {
		t.Errorf("Load by path: %v, %#v", err, byPath)
	}
}

// A user file named like a built-in shadows it, and its inherit = "dark" reaches the
// built-in rather than itself.
func TestUserThemeShadowsBuiltin(t *testing.T) {
	th, err := Load(Dark, []string{shadowDir})
	if err != nil {
		t.Fatal(err)
	}
	if th.Crit != lipgloss.Color("#ff0000") || th.Source != filepath.Join(shadowDir, "dark.toml") {
		t.Errorf("crit=%#v source=%q", th.Crit, th.Source)
	}
	if th.Text != mustLoad(t, Dark).Text {
		t.Errorf("text = %#v, want the built-in dark's", th.Text)
	}
}

func TestLoadErrors(t *testing.T) {
	file := func(name string) string { return filepath.Join(badDir, name) }
	cases := []struct {
		name string
		want []string // substrings of the error, in order
	}{
		{"unknown-key", []string{file("unknown-key.toml") + `:3:1: unknown role "acent" (did you mean "accent"?)`}},
		{"bad-colour", []string{file("bad-colour.toml") + `:2:3: warn: bad colour "#ffee"`}},
		{"ansi-range", []string{file("ansi-range.toml") + `:2:1: ok: bad colour 256: ANSI colours are 0-255`}},
		{"many", []string{
			file("many.toml") + `:2:1: text: bad colour "teal"`,
			file("many.toml") + `:3:1: hosts: want exactly 12 colours, got 2`,
			file("many.toml") + `:6:1: selected_bg: unknown key "drak" in adaptive colour`,
		}},
		{"incomplete", []string{file("incomplete.toml") + `:1:1: theme leaves roles unset: faint, accent`, `inherit = "dark"`}},
		{"syntax", []string{file("syntax.toml") + `:2:`, "strings cannot contain newlines"}},
		{"cycle-a", []string{file("cycle-a.toml") + `:1:1: inherit "cycle-b": ` + file("cycle-b.toml") + `:1:1: inherit "cycle-a": inherit cycle`}},
		{"bad-inherit", []string{file("bad-inherit.toml") + `:2:1: inherit "drak": unknown theme "drak"`, `did you mean "dark"?`}},
		{"nope", []string{`unknown theme "nope"`, "looked for nope.toml in " + badDir}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.name, []string{badDir})
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			rest := msg
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("error\n  %s\nlacks (in order)\n  %s", msg, w)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestErrorsArePositioned(t *testing.T) {
	_, err := Load("unknown-key", []string{badDir})
	var pe *Error
	if !errors.As(err, &pe) || pe.Line != 3 || pe.Col != 1 || pe.File != filepath.Join(badDir, "unknown-key.toml") {
		t.Fatalf("want *Error at unknown-key.toml:3:1, got %#v", err)
	}
	// Several problems come back joined, each still an *Error.
	_, err = Load("many", []string{badDir})
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok || len(joined.Unwrap()) != 3 {
		t.Fatalf("want 3 joined errors, got %v", err)
	}
	for _, e := range joined.Unwrap() {
		if !errors.As(e, &pe) {
			t.Errorf("%v is not an *Error", e)
		}
	}
}

func TestKeyPosition(t *testing.T) {
	src := []byte("# c\ninherit = \"dark\"\n  acent = \"#fff\"\nhosts = [\n  \"#fff\",\n]\n[ok]\nlight = \"#000\"\n dark = 3\nsel = { light = 1, dark = 2 }\n\"quo ted\" = 1\n")
	cases := []struct {
		key       []string
		line, col int
	}{
		{[]string{"inherit"}, 2, 1},
		{[]string{"acent"}, 3, 3},
		{[]string{"hosts"}, 4, 1},
		{[]string{"ok"}, 7, 2},
		{[]string{"ok", "light"}, 8, 1},
		{[]string{"ok", "dark"}, 9, 2},
		{[]string{"ok", "sel", "dark"}, 10, 20},
		{[]string{"ok", "quo ted"}, 11, 1},
	}
	for _, tc := range cases {
		if p := keyPosition(src, tc.key); p.line != tc.line || p.col != tc.col {
			t.Errorf("%v at %d:%d, want %d:%d", tc.key, p.line, p.col, tc.line, tc.col)
		}
	}
}

func TestParseColour(t *testing.T) {
	good := map[any]lipgloss.TerminalColor{
		"#ABC":    lipgloss.Color("#aabbcc"),
		"#A1b2C3": lipgloss.Color("#a1b2c3"),
		"0":       lipgloss.Color("0"),
		"255":     lipgloss.Color("255"),
		int64(42): lipgloss.Color("42"),
		"none":    lipgloss.NoColor{},
		"NONE":    lipgloss.NoColor{},
	}
	for in, want := range good {
		got, err := parseColour(in)
		if err != nil || got != want {
			t.Errorf("parseColour(%#v) = %#v, %v; want %#v", in, got, err, want)
		}
	}
	got, err := parseColour(map[string]any{"light": "#fff", "dark": int64(7)})
	if want := (lipgloss.AdaptiveColor{Light: "#ffffff", Dark: "7"}); err != nil || got != want {
		t.Errorf("adaptive = %#v, %v", got, err)
	}
	bad := []any{"", "red", "#ab", "#abcd", "#ggg", "256", "-1", int64(300), 1.5, true,
		map[string]any{"light": "#fff"}, map[string]any{"light": "#fff", "dark": "none"},
		map[string]any{"light": "#fff", "dark": "#000", "dim": "#111"}}
	for _, in := range bad {
		if c, err := parseColour(in); err == nil {
			t.Errorf("parseColour(%#v) = %#v, want an error", in, c)
		}
	}
}

func TestSelect(t *testing.T) {
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	noColor := env(map[string]string{"NO_COLOR": "1"})
	emptyNoColor := env(map[string]string{"NO_COLOR": ""})
	cases := []struct {
		flag, configured string
		env              func(string) string
		want             string
	}{
		{"", "", emptyNoColor, Auto},
		{"", Light, emptyNoColor, Light},
		{"", Light, noColor, NoColor},
		{Dark, Light, noColor, Dark}, // the flag is the user's latest word
		{"ocean", "", noColor, "ocean"},
		{"", "", noColor, NoColor},
	}
	for _, tc := range cases {
		th, err := Select(tc.flag, tc.configured, tc.env, []string{userDir})
		if err != nil || th.Name != tc.want {
			t.Errorf("Select(%q, %q, NO_COLOR=%q) = %q, %v; want %q", tc.flag, tc.configured, tc.env("NO_COLOR"), th.Name, err, tc.want)
		}
	}
	if _, err := Select("nope", "", emptyNoColor, nil); err == nil || !strings.HasPrefix(err.Error(), "--theme: ") {
		t.Errorf("unknown flag theme: %v", err)
	}
	if _, err := Select("", "nope", emptyNoColor, nil); err == nil || !strings.HasPrefix(err.Error(), "config theme: ") {
		t.Errorf("unknown config theme: %v", err)
	}
}

func TestStylesLookups(t *testing.T) {
	s := Build(mustLoad(t, Dark))
	if got := s.HostColor(13).GetForeground(); got != s.Theme.Hosts[1] {
		t.Errorf("HostColor(13) = %v, want hosts[1]", got)
	}
	if got := s.HostColor(-1).GetForeground(); got != s.Theme.Hosts[HostColors-1] {
		t.Errorf("HostColor(-1) = %v, want the last host colour", got)
	}
	levels := map[string]lipgloss.TerminalColor{
		"DEBUG": s.Theme.Debug, "info": s.Theme.Info, "Warning": s.Theme.Warn,
		"err": s.Theme.Crit, "fatal": s.Theme.Crit, "whatever": s.Theme.Text,
	}
	for level, want := range levels {
		if got := s.Level(level).GetForeground(); got != want {
			t.Errorf("Level(%q) foreground = %v, want %v", level, got, want)
		}
	}
	if !s.Level("panic").GetReverse() {
		t.Error("fatal levels should stand out with reverse video")
	}
	statuses := map[string]lipgloss.TerminalColor{
		"ok": s.Theme.OK, "degraded": s.Theme.Warn, "FAILED": s.Theme.Crit,
		"unreachable": s.Theme.Down, "": s.Theme.Unknown, "stale": s.Theme.Unknown,
	}
	for status, want := range statuses {
		if got := s.Status(status).GetForeground(); got != want {
			t.Errorf("Status(%q) foreground = %v, want %v", status, got, want)
		}
	}
}

func mustLoad(t *testing.T, name string) Theme {
	t.Helper()
	th, err := Load(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

func hex(t *testing.T, c lipgloss.TerminalColor) colorful.Color {
	t.Helper()
	s, ok := c.(lipgloss.Color)
	if !ok {
		t.Fatalf("%#v is not a fixed colour", c)
	}
	return mustHex(t, string(s))
}

func mustHex(t *testing.T, s string) colorful.Color {
	t.Helper()
	c, err := colorful.Hex(s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return c
}

// contrast is the WCAG 2 contrast ratio of two colours.
func contrast(a, b colorful.Color) float64 {
	lum := func(c colorful.Color) float64 {
		ch := func(v float64) float64 {
			if v <= 0.03928 {
				return v / 12.92
			}
			return math.Pow((v+0.055)/1.055, 2.4)
		}
		return 0.2126*ch(c.R) + 0.7152*ch(c.G) + 0.0722*ch(c.B)
	}
	x, y := lum(a), lum(b)
	if x < y {
		x, y = y, x
	}
	return (x + 0.05) / (y + 0.05)
}
