package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"github.com/opsconsole/opsconsole/ops/gate"
	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/views"
)

// gateModal is the confirm gate: the plan of an Action, its blast radius, and the one
// question. It is the only place the console runs an Action (DESIGN.md §4).
type gateModal struct {
	active bool
	req    views.ConfirmActionMsg
	// readOnly refuses whatever is asked; the modal only explains.
	readOnly bool
	// word is what must be typed to confirm ("" when a keypress is enough), and wrong
	// whether the last enter had something else typed.
	word  string
	wrong bool
	input textinput.Model
	plan  viewport.Model
	// needReason holds the modal on a reason input first when the Action requires one
	// (require_reason); noReason says the last enter had an empty reason.
	needReason bool
	noReason   bool
	reason     textinput.Model
}

// Lines of the modal other than the plan: title, blast radius, a blank line, a blank
// line, the question, and one line for a hint or an error.
const gateFixedLines = 6

func (m Model) openGate(req views.ConfirmActionMsg) (Model, tea.Cmd) {
	if m.gate.active {
		// One question at a time: a second request while the operator reads the first
		// is refused, so an answer can never land on a plan it was not given for.
		return m, cancelled(req, "another confirmation is open")
	}
	g := gateModal{active: true, req: req, readOnly: m.opt.ReadOnly}
	var cmd tea.Cmd
	if !g.readOnly {
		g.word = gate.ConfirmWord(req.Action, m.opt.TypedConfirmThreshold)
	}
	if g.word != "" {
		g.input = textinput.New()
		g.input.Prompt = ""
		g.input.CharLimit = len(g.word) + 8
		g.input.Width = g.input.CharLimit
		g.input.Cursor.SetMode(cursor.CursorStatic)
		// Focus returns nil for a static cursor; the command is passed on all the same,
		// so a blinking cursor would need no change here.
		cmd = g.input.Focus()
	}
	if !g.readOnly && req.Action.RequireReason && strings.TrimSpace(req.Action.Reason) == "" {
		g.needReason = true
		g.reason = textinput.New()
		g.reason.Prompt = ""
		g.reason.CharLimit = 200
		g.reason.Width = 40
		g.reason.Cursor.SetMode(cursor.CursorStatic)
		cmd = g.reason.Focus()
	}
	bw, bh := m.bodySize()
	g.layout(bw, bh, m.styles)
	m.gate = g
	return m, cmd
}

// layout fits the modal into a body of bw x bh: the plan is wrapped to the modal's width
// and scrolls when it is taller than the room left.
func (g *gateModal) layout(bw, bh int, s *themes.Styles) {
	if !g.active {
		return
	}
	frame := s.ModalDanger
	inner := max(min(bw-2, 84)-frame.GetHorizontalFrameSize(), 10)
	var plan []string
	for _, l := range strings.Split(strings.TrimRight(g.req.Action.Plan(), "\n"), "\n") {
		plan = append(plan, wrapWords(l, inner)...)
	}
	room := max(bh-frame.GetVerticalFrameSize()-gateFixedLines, 1)
	offset := g.plan.YOffset
	g.plan = viewport.New(inner, min(len(plan), room))
	g.plan.SetContent(strings.Join(plan, "\n"))
	g.plan.SetYOffset(offset)
	g.input.TextStyle = s.Danger
}

func (g gateModal) secret() bool {
	return g.word != "" && g.input.EchoMode != textinput.EchoNormal
}

func (m Model) gateKey(msg tea.KeyMsg) (Model, tea.Cmd) {
	g := &m.gate
	if g.readOnly {
		return m.closeGate("read-only mode")
	}
	// The plan scrolls with the movement keys; while a word is typed, letters belong to
	// the input, so only the non-letter movement keys scroll.
	if nav := m.keys.Exec.Nav; msg.Type != tea.KeyRunes || (g.word == "" && !g.needReason) {
		switch {
		case key.Matches(msg, nav.Up):
			g.plan.ScrollUp(1)
			return m, nil
		case key.Matches(msg, nav.Down):
			g.plan.ScrollDown(1)
			return m, nil
		case key.Matches(msg, nav.PageUp):
			g.plan.PageUp()
			return m, nil
		case key.Matches(msg, nav.PageDown):
			g.plan.PageDown()
			return m, nil
		}
	}
	if g.needReason {
		switch {
		case msg.Type == tea.KeyEsc:
			return m.closeGate("cancelled")
		case msg.Type == tea.KeyEnter:
			r := strings.TrimSpace(g.reason.Value())
			if r == "" {
				g.noReason = true
				return m, nil
			}
			g.req.Action.Reason = r
			g.needReason, g.noReason = false, false
			return m, nil
		}
		g.noReason = false
		var cmd tea.Cmd
		g.reason, cmd = g.reason.Update(msg)
		return m, cmd
	}
	if g.word == "" {
		switch {
		case key.Matches(msg, m.keys.Confirm.Yes), msg.Type == tea.KeyEnter:
			return m.confirmGate()
		case key.Matches(msg, m.keys.Confirm.No):
			return m.closeGate("cancelled")
		}
		return m, nil
	}
	switch {
	case key.Matches(msg, m.keys.Global.Back), msg.Type == tea.KeyEsc:
		return m.closeGate("cancelled")
	case msg.Type == tea.KeyEnter:
		if strings.TrimSpace(g.input.Value()) == g.word {
			return m.confirmGate()
		}
		g.wrong = true
		g.input.Reset()
		return m, nil
	}
	g.wrong = false
	var cmd tea.Cmd
	g.input, cmd = g.input.Update(msg)
	return m, cmd
}

// confirmGate runs the Action: Run builds the command that does the work, capturing
// values only, so calling it here starts nothing until Bubble Tea runs the command.
func (m Model) confirmGate() (Model, tea.Cmd) {
	req := m.gate.req
	m.gate = gateModal{}
	if req.Run == nil {
		return m, nil
	}
	return m, req.Run(req.Action.Reason)
}

func (m Model) closeGate(reason string) (Model, tea.Cmd) {
	req := m.gate.req
	m.gate = gateModal{}
	return m, cancelled(req, reason)
}

// cancelled tells the asking pane its Action will not run. It travels as a message, so
// it is journaled and reaches the pane through Update like any other.
func cancelled(req views.ConfirmActionMsg, reason string) tea.Cmd {
	msg := views.ActionCancelledMsg{Pane: req.Pane, RequestID: req.RequestID, Reason: reason}
	return func() tea.Msg { return msg }
}

// view draws the modal. Danger shows by shape as well as colour: the double border of
// ModalDanger and the words CONFIRM or READ-ONLY.
// question is the keypress answer line, drawn by the root from the bindings in force.
func (g gateModal) view(s *themes.Styles, question string) string {
	a := g.req.Action
	n := a.BlastRadius()
	hosts := plural(n, "host")
	var lines []string
	if g.readOnly {
		lines = append(lines,
			s.Danger.Render(fmt.Sprintf("READ-ONLY: %s %s will not run", a.Kind, a.Name)),
			s.Text.Render(fmt.Sprintf("Blast radius: %s", hosts)))
	} else {
		lines = append(lines,
			s.Danger.Render(fmt.Sprintf("CONFIRM %s: %s", a.Kind, a.Name)),
			s.Danger.Render(fmt.Sprintf("Blast radius: %s", hosts)))
	}
	lines = append(lines, "", g.plan.View(), "")
	switch {
	case g.readOnly:
		lines = append(lines, s.Text.Render("The console is read-only: nothing that changes hosts runs from it."))
	case g.needReason:
		lines = append(lines, s.Text.Render("Reason (required, goes into the audit log): ")+g.reason.View())
	case g.word != "":
		lines = append(lines, s.Text.Render(fmt.Sprintf("Type %s to confirm: ", g.word))+g.input.View())
	default:
		lines = append(lines, question)
	}
	switch {
	case g.readOnly:
		lines = append(lines, s.Faint.Render("Press any key to close."))
	case g.needReason && g.noReason:
		lines = append(lines, s.FlashErr.Render("✗ this runbook requires a reason"))
	case g.needReason:
		lines = append(lines, s.Faint.Render("enter continues · esc cancels"))
	case g.wrong:
		lines = append(lines, s.FlashErr.Render(fmt.Sprintf("✗ type %s to confirm", g.word)))
	case g.plan.TotalLineCount() > g.plan.Height:
		lines = append(lines, s.Faint.Render(fmt.Sprintf("↑/↓ scroll the plan (%d%%)", int(g.plan.ScrollPercent()*100))))
	case g.word != "":
		lines = append(lines, s.Faint.Render("esc cancels"))
	}
	return s.ModalDanger.Render(strings.Join(lines, "\n"))
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// wrapWords wraps a plan line at spaces, never inside a word, so a host name is never
// split across lines (web-1 must not read as "web-" and "1"). Continuation lines keep the
// line's indent plus two; a word longer than the width is cut as a last resort.
func wrapWords(line string, width int) []string {
	if lipgloss.Width(line) <= width {
		return []string{line}
	}
	trimmed := strings.TrimLeft(line, " ")
	indent := strings.Repeat(" ", len(line)-len(trimmed))
	cont := indent + "  "
	if len(cont) >= width/2 {
		indent, cont = "", ""
	}
	var out []string
	cur := indent
	for _, w := range strings.Fields(trimmed) {
		lead := cur == indent || cur == cont
		if !lead && lipgloss.Width(cur)+1+lipgloss.Width(w) > width {
			out = append(out, cur)
			cur, lead = cont, true
		}
		if !lead {
			cur += " "
		}
		for lipgloss.Width(cur)+lipgloss.Width(w) > width {
			r := []rune(w)
			n := max(width-lipgloss.Width(cur), 1)
			out = append(out, cur+string(r[:min(n, len(r))]))
			w, cur = string(r[min(n, len(r)):]), cont
		}
		cur += w
	}
	return append(out, cur)
}
