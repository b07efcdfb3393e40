package tui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views"
)

// command is one palette command. The table is the palette's whole vocabulary: parsing,
// completion and the suggestion list all read it.
type command struct {
	name string
	args string // "" when the command takes none
	desc string
}

var commands = []command{
	{"hosts", "PATTERN", "focus the fleet, filtered to PATTERN"},
	{"exec", "[PATTERN]", "open exec on the hosts of PATTERN"},
	{"fleet", "", "focus the fleet"},
	{"logs", "", "focus logs"},
	{"rollouts", "", "focus rollouts"},
	{"incidents", "", "focus incidents"},
	{"query", "[PROMQL]", "focus the query pane, running PROMQL"},
	{"theme", "NAME", "switch the colour theme"},
	{"help", "", "show every key"},
	{"quit", "", "leave opsconsole"},
}

// minSuggestions is the least the list above the palette's input shows; it grows to half
// the body when there is room, so the pane stays in sight.
const minSuggestions = 3

// palette is the ":" command line: a text input whose completions are the commands, the
// built-in themes and the inventory's tags and groups as host patterns.
type palette struct {
	active bool
	input  textinput.Model
}

func newPalette(s *themes.Styles, hosts []config.Host) palette {
	in := textinput.New()
	in.Prompt = ":"
	in.Placeholder = "command (tab completes, ↑/↓ choose)"
	in.ShowSuggestions = true
	in.SetSuggestions(suggestions(hosts))
	// A steady cursor: a blinking one would send a message twice a second, each one a
	// journal line and a redraw, for nothing an operator needs.
	in.Cursor.SetMode(cursor.CursorStatic)
	p := palette{input: in}
	p.restyle(s)
	return p
}

// restyle applies a theme's styles to the input.
func (p *palette) restyle(s *themes.Styles) {
	p.input.Cursor.Style = s.Accent
	p.input.PromptStyle = s.Accent
	p.input.TextStyle = s.Text
	p.input.CompletionStyle = s.Faint
	p.input.PlaceholderStyle = s.Faint
}

// suggestions are the completions: each command (with a trailing space when it takes an
// argument, so tab leaves the cursor ready for it), each built-in theme, and "hosts"/"exec"
// with every tag:X and group:X of the inventory.
func suggestions(hosts []config.Host) []string {
	var out []string
	for _, c := range commands {
		if c.args != "" {
			out = append(out, c.name+" ")
		} else {
			out = append(out, c.name)
		}
	}
	for _, t := range themes.Builtins() {
		out = append(out, "theme "+t)
	}
	var patterns []string
	for _, h := range hosts {
		for _, t := range h.Tags {
			patterns = append(patterns, "tag:"+t)
		}
		for _, g := range h.Groups {
			patterns = append(patterns, "group:"+g)
		}
	}
	slices.Sort(patterns)
	patterns = slices.Compact(patterns)
	for _, verb := range []string{"hosts", "exec"} {
		for _, p := range patterns {
			out = append(out, verb+" "+p)
		}
	}
	return out
}

func (p palette) secret() bool { return p.input.EchoMode != textinput.EchoNormal }

func (m Model) openPalette() (Model, tea.Cmd) {
	m.palette.active = true
	m.palette.input.Reset()
	return m, m.palette.input.Focus()
}

func (m Model) closePalette() Model {
	m.palette.active = false
	m.palette.input.Blur()
	m.palette.input.Reset()
	return m
}

func (m Model) paletteKey(msg tea.KeyMsg) (Model, tea.Cmd) {
	switch msg.Type {
	case tea.KeyEsc:
		return m.closePalette(), nil
	case tea.KeyEnter:
		line := m.palette.input.Value()
		m = m.closePalette()
		return m.runCommand(line)
	case tea.KeyBackspace:
		// Backspace on an empty line leaves the palette, as in vim.
		if m.palette.input.Value() == "" {
			return m.closePalette(), nil
		}
	}
	var cmd tea.Cmd
	m.palette.input, cmd = m.palette.input.Update(msg)
	return m, cmd
}

// runCommand carries out one palette line. A mistake is a flash, never a silent no-op.
func (m Model) runCommand(line string) (Model, tea.Cmd) {
	body := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), ":"))
	fields := strings.Fields(body)
	if len(fields) == 0 {
		return m, nil
	}
	name, args := strings.ToLower(fields[0]), strings.Join(fields[1:], " ")
	switch name {
	case "hosts":
		m = m.focusPane(views.PaneFleet)
		if args == "" {
			return m, nil
		}
		return m.filterFleet(args)
	case "exec":
		return m.update(views.OpenExecMsg{Pattern: args})
	case "fleet":
		return m.focusPane(views.PaneFleet), nil
	case "logs":
		return m.focusPane(views.PaneLogs), nil
	case "rollouts":
		return m.focusPane(views.PaneRollouts), nil
	case "incidents":
		return m.focusPane(views.PaneIncidents), nil
	case "query":
		// The expression as typed: PromQL strings may hold runs of spaces that the
		// word split above would collapse.
		return m.update(views.RunQueryMsg{Expr: strings.TrimSpace(body[len(fields[0]):])})
	case "theme":
		if args == "" {
			return m.flashMsg("theme needs a name: "+strings.Join(themes.Builtins(), ", "), true), nil
		}
		return m, loadTheme(args)
	case "help":
		m.showHelp = true
		return m, nil
	case "quit", "q":
		return m.quit()
	}
	return m.flashMsg(fmt.Sprintf("unknown command %q (try: %s)", name, commandNames()), true), nil
}

func commandNames() string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

// paletteView draws the suggestion list and the input line, width columns wide and at
// most half the body's height (and never less than minSuggestions) plus two lines: a rule,
// the suggestions, the input.
func (m Model) paletteView(width, height int) string {
	maxSuggestions := max(minSuggestions, height/2)
	s := m.styles
	in := m.palette.input
	var rows []string
	if in.Value() == "" {
		for _, c := range commands {
			usage := c.name
			if c.args != "" {
				usage += " " + c.args
			}
			rows = append(rows, fmt.Sprintf("  %s  %s", s.HelpKey.Render(fmt.Sprintf("%-16s", usage)), s.HelpDesc.Render(c.desc)))
		}
	} else {
		matched := in.MatchedSuggestions()
		cur := in.CurrentSuggestionIndex()
		// Keep the chosen suggestion in the window as ↑/↓ move past its edge.
		start := max(0, min(cur-maxSuggestions+1, len(matched)-maxSuggestions))
		for i := start; i < len(matched) && i < start+maxSuggestions; i++ {
			if i == cur {
				rows = append(rows, s.TableSelected.Render("› "+matched[i]))
			} else {
				rows = append(rows, s.Text.Render("  "+matched[i]))
			}
		}
		if len(matched) == 0 {
			rows = append(rows, s.Faint.Render("  no completion; enter runs the line as typed"))
		}
	}
	if len(rows) > maxSuggestions {
		more := len(rows) - maxSuggestions + 1
		rows = append(rows[:maxSuggestions-1], s.Faint.Render(fmt.Sprintf("  … %d more", more)))
	}
	rule := s.Faint.Render(strings.Repeat("─", width))
	lines := append([]string{rule}, rows...)
	lines = append(lines, in.View())
	return lipgloss.NewStyle().MaxWidth(width).Render(strings.Join(lines, "\n"))
}

// paletteHelp is the help line while the palette is open. These are the text input's
// keys, which are not rebindable, so the bindings are fixed here.
var paletteHelp = []key.Binding{
	key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "run")),
	key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "complete")),
	key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "choose")),
	key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "close")),
}

// filterFleet sets the fleet's filter to pattern the way an operator would: open the
// filter, type the pattern, press enter (the filter input's fixed apply key). The pane
// has no call to set its filter, and typing keeps the pane's own rules for what a filter
// is in one place.
func (m Model) filterFleet(pattern string) (Model, tea.Cmd) {
	var c1, c2, c3 tea.Cmd
	m.fleet, c1 = m.fleet.StartFilter()
	// Clear what the filter held first: ctrl+u deletes to the start of the line.
	m.fleet, _ = m.fleet.Update(tea.KeyMsg{Type: tea.KeyEnd})
	m.fleet, _ = m.fleet.Update(tea.KeyMsg{Type: tea.KeyCtrlU})
	m.fleet, c2 = m.fleet.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(pattern)})
	m.fleet, c3 = m.fleet.Update(tea.KeyMsg{Type: tea.KeyEnter})
	return m, tea.Batch(c1, c2, c3)
}
