package placeholder

import (
	"strings"
	"testing"

	"github.com/charmbracelet/lipgloss"

	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views"
)

func TestPlaceholderSaysWhatItWillHold(t *testing.T) {
	th, err := themes.Load(themes.NoColor, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := themes.Build(th)
	for _, m := range []Model{Logs(s), Rollouts(s), Incidents(s)} {
		if m.View() != "" {
			t.Errorf("%s: a pane with no size should draw nothing", m.Title())
		}
		for _, size := range [][2]int{{80, 20}, {30, 6}, {160, 44}} {
			m.SetSize(size[0], size[1])
			v := m.View()
			if !strings.Contains(v, "Not built yet") && size[1] > 6 {
				t.Errorf("%s at %v: does not say it is not built:\n%s", m.Title(), size, v)
			}
			lines := strings.Split(v, "\n")
			if len(lines) > size[1] {
				t.Errorf("%s at %v: %d lines", m.Title(), size, len(lines))
			}
			for _, l := range lines {
				if w := lipgloss.Width(l); w > size[0] {
					t.Errorf("%s at %v: line of width %d: %q", m.Title(), size, w, l)
				}
			}
		}
		if m.InputFocused() || m.ShortHelp() != nil {
			t.Errorf("%s: a placeholder has no input and no keys", m.Title())
		}
		if _, cmd := m.Update(views.ClockMsg{}); cmd != nil {
			t.Errorf("%s: Update returned a command", m.Title())
		}
	}
	if got := Logs(s).Title(); got != "Logs" {
		t.Errorf("title %q", got)
	}
}
