package tui

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/opsconsole/opsconsole/views"
)

// only returns the one message cmd produces, failing otherwise.
func only(t *testing.T, cmd tea.Cmd) tea.Msg {
	t.Helper()
	msgs := drain(cmd)
	if len(msgs) != 1 {
		t.Fatalf("want one message, got %v", msgs)
	}
	return msgs[0]
}

func TestGateConfirmWithY(t *testing.T) {
	var ran int
	m, _ := send(t, newTest(t, 80, 24), confirmReq(3, &ran))
	v := m.View()
	for _, want := range []string{"CONFIRM exec: systemctl restart app", "Blast radius: 3 hosts", "hosts: web-a, web-b, web-c", "╔"} {
		if !strings.Contains(v, want) {
			t.Fatalf("modal lacks %q:\n%s", want, v)
		}
	}
	// Keys belong to the modal: a pane switch or quit key does nothing while it asks.
	m, cmd := keysThen(t, m, "3", "q", "/")
	if cmd != nil || m.Focused() != views.PaneFleet || !m.gate.active || ran != 0 {
		t.Fatalf("keys leaked past the modal: cmd=%v focus=%v active=%v ran=%d", cmd != nil, m.Focused(), m.gate.active, ran)
	}
	m, cmd = keysThen(t, m, "y")
	if ran != 1 {
		t.Fatalf("Run called %d times", ran)
	}
	if _, ok := only(t, cmd).(sentinelMsg); !ok {
		t.Fatal("the command Run returned was not passed on")
	}
	if m.gate.active || strings.Contains(m.View(), "CONFIRM") {
		t.Fatal("modal still open after confirming")
	}
}

func TestGateConfirmWithEnter(t *testing.T) {
	var ran int
	m, _ := send(t, newTest(t, 80, 24), confirmReq(1, &ran))
	if !strings.Contains(m.View(), "Blast radius: 1 host") {
		t.Fatalf("singular host:\n%s", m.View())
	}
	_, cmd := keysThen(t, m, "enter")
	if ran != 1 || cmd == nil {
		t.Fatalf("enter did not confirm: ran=%d", ran)
	}
}

func TestGateCancel(t *testing.T) {
	for _, k := range []string{"esc", "n"} {
		var ran int
		m, _ := send(t, newTest(t, 80, 24), confirmReq(3, &ran))
		m, cmd := keysThen(t, m, k)
		if ran != 0 {
			t.Fatalf("%s ran the action", k)
		}
		got, ok := only(t, cmd).(views.ActionCancelledMsg)
		want := views.ActionCancelledMsg{Pane: views.PaneExec, RequestID: 7, Reason: "cancelled"}
		if !ok || got != want {
			t.Fatalf("%s: got %#v, want %#v", k, got, want)
		}
		if m.gate.active {
			t.Fatalf("%s left the modal open", k)
		}
		// Delivered through Update, it reaches the asking pane without error.
		if _, cmd := send(t, m, got); cmd != nil {
			t.Errorf("delivering the cancel returned a command")
		}
	}
}

func TestGateTypedConfirmation(t *testing.T) {
	var ran int
	m, _ := send(t, newTest(t, 80, 24), confirmReq(12, &ran))
	if !strings.Contains(m.View(), "Type 12 to confirm") {
		t.Fatalf("no typed confirmation above the threshold:\n%s", m.View())
	}
	// y is a letter here, not a yes.
	m, _ = keysThen(t, m, "y", "enter")
	if ran != 0 || !m.gate.active {
		t.Fatal("y confirmed a typed-confirmation action")
	}
	m, _ = keysThen(t, m, "13", "enter")
	if ran != 0 || !m.gate.active {
		t.Fatal("the wrong word confirmed")
	}
	if !strings.Contains(m.View(), "✗ type 12 to confirm") {
		t.Fatalf("wrong word not explained:\n%s", m.View())
	}
	m, cmd := keysThen(t, m, "12", "enter")
	if ran != 1 {
		t.Fatalf("the right word did not confirm (ran=%d)", ran)
	}
	if _, ok := only(t, cmd).(sentinelMsg); !ok {
		t.Fatal("Run's command not passed on")
	}
	if m.gate.active {
		t.Fatal("modal still open")
	}
}

func TestGateThresholdOption(t *testing.T) {
	var ran int
	m := newTest(t, 80, 24, func(o *Options) { o.TypedConfirmThreshold = 2 })
	m, _ = send(t, m, confirmReq(3, &ran))
	if !strings.Contains(m.View(), "Type 3 to confirm") {
		t.Fatalf("threshold 2 should ask to type for 3 hosts:\n%s", m.View())
	}
}

func TestGateReadOnlyRefuses(t *testing.T) {
	var ran int
	m, _ := send(t, newTest(t, 80, 24, readOnly), confirmReq(3, &ran))
	v := m.View()
	if !strings.Contains(v, "READ-ONLY: exec systemctl restart app will not run") {
		t.Fatalf("read-only modal does not explain:\n%s", v)
	}
	m, cmd := keysThen(t, m, "y")
	if ran != 0 {
		t.Fatal("read-only mode ran the action")
	}
	got, ok := only(t, cmd).(views.ActionCancelledMsg)
	if !ok || got.Reason != "read-only mode" || got.Pane != views.PaneExec || got.RequestID != 7 {
		t.Fatalf("got %#v", got)
	}
	if m.gate.active {
		t.Fatal("modal still open")
	}
}

func TestGateOneAtATime(t *testing.T) {
	var ran1, ran2 int
	m, _ := send(t, newTest(t, 80, 24), confirmReq(3, &ran1))
	second := confirmReq(2, &ran2)
	second.RequestID = 8
	m, cmd := send(t, m, second)
	got, ok := only(t, cmd).(views.ActionCancelledMsg)
	if !ok || got.RequestID != 8 {
		t.Fatalf("second request: %#v", got)
	}
	// y answers the first question, the one on screen.
	_, _ = keysThen(t, m, "y")
	if ran1 != 1 || ran2 != 0 {
		t.Fatalf("ran1=%d ran2=%d", ran1, ran2)
	}
}

func TestGatePlanScrolls(t *testing.T) {
	var ran int
	m, _ := send(t, newTest(t, 80, 24), confirmReq(400, &ran))
	if !strings.Contains(m.View(), "scroll the plan (0%)") {
		t.Fatalf("a long plan should scroll:\n%s", m.View())
	}
	m, _ = keysThen(t, m, "pgdown", "pgdown", "pgdown", "pgdown", "pgdown", "pgdown", "pgdown", "pgdown", "pgdown", "pgdown")
	if !strings.Contains(m.View(), "(100%)") {
		t.Fatalf("pgdown did not reach the end:\n%s", m.View())
	}
	// j and k are letters of the typed word, not scrolling, above the threshold.
	before := m.gate.plan.YOffset
	m, _ = keysThen(t, m, "k")
	if m.gate.plan.YOffset != before {
		t.Error("k scrolled while a word is typed")
	}
	m, _ = keysThen(t, m, "up")
	if m.gate.plan.YOffset != before-1 {
		t.Error("up did not scroll")
	}
}

func TestWrapWords(t *testing.T) {
	got := wrapWords("    hosts: web-1, web-2, web-3, web-10", 20)
	want := []string{"    hosts: web-1,", "      web-2, web-3,", "      web-10"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q", got)
	}
	for _, l := range wrapWords("x "+strings.Repeat("y", 50), 12) {
		if len(l) > 12 {
			t.Errorf("line %q wider than 12", l)
		}
	}
}

// A runbook with require_reason holds the modal on a reason first: an empty reason is
// refused, and the one given reaches Run (and so the audit log) before the host count
// is typed.
func TestGateAsksForARequiredReason(t *testing.T) {
	var ran int
	req := confirmReq(6, &ran)
	req.Action.RequireReason = true
	m, _ := send(t, newTest(t, 80, 24), req)
	if !strings.Contains(m.View(), "Reason (required") {
		t.Fatalf("no reason prompt:\n%s", m.View())
	}
	m, _ = keysThen(t, m, "enter")
	if !m.gate.active || ran != 0 || !strings.Contains(m.View(), "requires a reason") {
		t.Fatalf("an empty reason was accepted: active=%v ran=%d\n%s", m.gate.active, ran, m.View())
	}
	// Letters go to the reason, not to scrolling or the answer keys.
	m, _ = keysThen(t, m, "jky INC-42", "enter")
	if ran != 0 || !strings.Contains(m.View(), "Type 6 to confirm") {
		t.Fatalf("after the reason: ran=%d\n%s", ran, m.View())
	}
	m, cmd := keysThen(t, m, "6", "enter")
	msg, ok := only(t, cmd).(sentinelMsg)
	if ran != 1 || !ok || msg.reason != "jky INC-42" || m.gate.active {
		t.Fatalf("run %d, msg %#v", ran, msg)
	}
}
