package themes_test

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/opsconsole/opsconsole/themes"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/themes/golden")

// renderer returns a renderer with a fixed profile and background, so output does not
// depend on the terminal running the tests and no global lipgloss state is touched.
func renderer(p termenv.Profile, dark bool) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(p)
	r.SetHasDarkBackground(dark)
	return r
}

func load(t *testing.T, name string) themes.Theme {
	t.Helper()
	th, err := themes.Load(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	return th
}

// sample draws a little of every kind of thing the console shows, the way views will.
func sample(s *themes.Styles) string {
	var b strings.Builder
	line := func(parts ...string) { b.WriteString(strings.Join(parts, " ") + "\n") }

	line(s.Header.Render("opsconsole  prod"), s.Badge.Render("REC"), s.Badge.Render("READ-ONLY"))
	line(s.Title.Render("Fleet"), s.Faint.Render("12 hosts, 2s ago"), s.Accent.Render("sorted by cpu"))
	line(s.TableHeader.Render("HOST      STATUS"))
	line(s.TableRow.Render("web-1    "), s.StatusOK.Render("✓ ok"))
	line(s.TableSelected.Render("web-2    "), s.StatusWarn.Render("▲ warn"))
	line(s.TableRow.Render("db-1     "), s.StatusCrit.Render("✗ crit"))
	line(s.TableRow.Render("db-2     "), s.StatusDown.Render("▼ down"))
	line(s.TableRow.Render("cache-1  "), s.StatusUnknown.Render("? unknown"), s.Sparkline.Render("▁▃▅▇"))
	for i, lvl := range []string{"debug", "info", "warn", "error", "fatal"} {
		line(s.HostColor(i).Render("web-"+string(rune('1'+i))), s.Level(lvl).Render(lvl), s.Text.Render("request"), s.Match.Render("timeout"))
	}
	b.WriteString(lipgloss.JoinHorizontal(lipgloss.Top,
		s.PaneBorderFocused.Render(s.PaneTitleFocused.Render("1 fleet")),
		s.PaneBorder.Render(s.PaneTitle.Render("3 logs"))) + "\n")
	line(s.Flash.Render("copied 3 lines"), s.FlashErr.Render("prom: connection refused"))
	b.WriteString(s.Modal.Render("Quit?") + "\n")
	b.WriteString(s.ModalDanger.Render("Restart app on "+s.Danger.Render("12 hosts")+"?") + "\n")
	line(s.HelpKey.Render("?"), s.HelpDesc.Render("help"), s.HelpSep.Render("•"), s.HelpKey.Render("q"), s.HelpDesc.Render("quit"))
	b.WriteString(s.Footer.Render("3 panes · 120 msg/s") + "\n")
	return b.String()
}

// visible turns escape sequences into readable text for golden files and failure output.
func visible(s string) string { return strings.ReplaceAll(s, "\x1b", `\e`) }

func TestGolden(t *testing.T) {
	for _, name := range themes.Builtins() {
		t.Run(name, func(t *testing.T) {
			got := visible(sample(themes.BuildFor(renderer(termenv.TrueColor, name != themes.Light), load(t, name))))
			path := filepath.Join("..", "testdata", "themes", "golden", name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./themes -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from %s (run go test ./themes -update if the change is meant):\n%s", name, path, got)
			}
		})
	}
}

// auto must look exactly like dark on a dark terminal and like light on a light one.
func TestAutoFollowsBackground(t *testing.T) {
	for _, dark := range []bool{true, false} {
		want := themes.Light
		if dark {
			want = themes.Dark
		}
		got := sample(themes.BuildFor(renderer(termenv.TrueColor, dark), load(t, themes.Auto)))
		exp := sample(themes.BuildFor(renderer(termenv.TrueColor, dark), load(t, want)))
		if got != exp {
			t.Errorf("auto on a dark=%v background differs from %s:\n%s\n%s", dark, want, visible(got), visible(exp))
		}
	}
}

func TestNoColorEmitsNoColour(t *testing.T) {
	th := load(t, themes.NoColor)

	// With the ASCII profile (what golden view tests use) nothing is escaped at all.
	if out := sample(themes.BuildFor(renderer(termenv.Ascii, true), th)); strings.Contains(out, "\x1b") {
		t.Errorf("no-color with the ASCII profile emitted escape codes:\n%s", visible(out))
	}

	// Even on a true-colour terminal it sets attributes only: no SGR 30-49 or 90-107.
	out := sample(themes.BuildFor(renderer(termenv.TrueColor, true), th))
	sgr := regexp.MustCompile(`\x1b\[([0-9;]*)m`)
	attrs := 0
	for _, m := range sgr.FindAllStringSubmatch(out, -1) {
		for _, p := range strings.Split(m[1], ";") {
			switch {
			case p == "" || p == "0":
			case len(p) == 2 && (p[0] == '3' || p[0] == '4' || p[0] == '9'),
				len(p) == 3 && p[0] == '1' && p[1] == '0':
				t.Fatalf("no-color emitted colour parameter %q in %q", p, visible(m[0]))
			default:
				attrs++
			}
		}
	}
	if attrs == 0 {
		t.Error("no-color emitted no attributes: selection, focus and badges would be invisible")
	}

	// A coloured theme does emit colour, so the check above can fail.
	if dark := sample(themes.BuildFor(renderer(termenv.TrueColor, true), load(t, themes.Dark))); !strings.Contains(dark, "\x1b[38;2;") {
		t.Error("dark theme emitted no true-colour foregrounds")
	}
}

// Without colour, focus and danger must still differ by shape.
func TestNoColorShapes(t *testing.T) {
	s := themes.BuildFor(renderer(termenv.Ascii, true), load(t, themes.NoColor))
	if a, b := s.PaneBorder.Render("x"), s.PaneBorderFocused.Render("x"); a == b {
		t.Errorf("focused and unfocused panes look the same without colour:\n%s\n%s", a, b)
	}
	if a, b := s.Modal.Render("x"), s.ModalDanger.Render("x"); a == b {
		t.Errorf("dangerous and ordinary modals look the same without colour:\n%s\n%s", a, b)
	}
}

// HelpStyles must stay convertible to bubbles' help.Styles; this fails to compile if
// either side changes its fields.
func TestHelpStylesConvert(t *testing.T) {
	s := themes.BuildFor(renderer(termenv.TrueColor, true), load(t, themes.Dark))
	m := help.New()
	m.Styles = help.Styles(s.Help)
	out := m.ShortHelpView([]key.Binding{key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit"))})
	if !strings.Contains(out, "quit") || !strings.Contains(out, "\x1b[") {
		t.Errorf("help rendered without theme styles: %q", out)
	}
}
