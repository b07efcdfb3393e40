package tui

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/opsconsole/opsconsole/sessions"
	"github.com/opsconsole/opsconsole/views"
	"github.com/opsconsole/opsconsole/views/exec"
	"github.com/opsconsole/opsconsole/views/fleet"
)

// oddMsg has what JSON refuses: a channel, a func, a NaN, an error, a cycle.
type oddMsg struct {
	Name   string
	Ch     chan int
	Fn     func()
	Ratio  float64
	Err    error
	Next   *oddMsg
	hidden int
}

func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", len(out)+1, err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

func TestRecordedJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "recordings", "s.jsonl")
	j, err := sessions.NewRecorder(path)
	if err != nil {
		t.Fatal(err)
	}
	inner := newTest(t, 80, 24)
	// A password-style palette stands in for the first secret input.
	inner.palette.input.EchoMode = textinput.EchoPassword
	plain := inner

	r := Recorded(inner, j).(recorded)
	stamp := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	r.now = func() time.Time { stamp = stamp.Add(time.Millisecond); return stamp }
	var ran int
	odd := &oddMsg{Name: "x", Ch: make(chan int), Fn: func() {}, Ratio: math.NaN(), Err: errString("boom"), hidden: 1}
	odd.Next = odd
	msgs := []tea.Msg{
		size(100, 30),
		views.ClockMsg{Now: testNow},
		fleet.HostsPolledMsg{Reports: testReports()[:2]},
	}
	msgs = append(msgs, press("3", ":", "s3", "esc")...)
	msgs = append(msgs, confirmReq(2, &ran), odd, views.FocusPaneMsg{Pane: views.PaneExec},
		exec.ResultsMsg{ID: 1, Done: true, Results: []sessions.Result{
			{Host: "web-1", Outcome: sessions.OutcomeOK, Stdout: []byte("up 3 days\n"), Start: testNow, End: testNow}}})

	var model tea.Model = r
	for _, msg := range msgs {
		model, _ = model.Update(msg)
		plain, _ = plain.update(msg)
	}
	// The wrapper changes nothing the console does.
	if model.View() != plain.View() {
		t.Error("the recorded console draws differently from the plain one")
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}

	lines := readLines(t, path)
	if len(lines) != len(msgs) {
		t.Fatalf("%d journal lines for %d messages", len(lines), len(msgs))
	}
	kinds := []string{"resize", "clock", "hosts", "key", "key", "key", "key", "key", "confirm", "*tui.oddMsg", "focus", "results"}
	for i, want := range kinds {
		if lines[i]["kind"] != want {
			t.Errorf("line %d: kind %v, want %s", i+1, lines[i]["kind"], want)
		}
		if _, err := time.Parse(time.RFC3339Nano, lines[i]["t"].(string)); err != nil {
			t.Errorf("line %d: bad time: %v", i+1, err)
		}
	}
	key := func(i int) any { return lines[i]["data"].(map[string]any)["key"] }
	if key(3) != "3" || key(4) != ":" {
		t.Errorf("keys before the secret input: %v %v", key(3), key(4))
	}
	// Typed into the secret input: redacted, esc included.
	for i := 5; i <= 7; i++ {
		if key(i) != redacted {
			t.Errorf("line %d: secret key recorded as %v", i+1, key(i))
		}
	}
	if d := lines[0]["data"].(map[string]any); d["w"] != 100.0 || d["h"] != 30.0 {
		t.Errorf("resize: %v", d)
	}
	hosts := lines[2]["data"].(map[string]any)["Reports"].([]any)
	if len(hosts) != 2 || hosts[0].(map[string]any)["Status"] != "ok" {
		t.Errorf("hosts: %v", hosts)
	}
	confirm := lines[8]["data"].(map[string]any)
	if _, ok := confirm["Run"]; ok {
		t.Error("the Run func was recorded")
	}
	if confirm["Pane"] != "Exec" || confirm["RequestID"] != 7.0 || confirm["Action"].(map[string]any)["Kind"] != "exec" {
		t.Errorf("confirm: %v", confirm)
	}
	o := lines[9]["data"].(map[string]any)
	if o["Name"] != "x" || o["Ratio"] != "NaN" || o["Err"] != "boom" {
		t.Errorf("odd: %v", o)
	}
	for _, f := range []string{"Ch", "Fn", "hidden"} {
		if _, ok := o[f]; ok {
			t.Errorf("odd: %s recorded", f)
		}
	}
	if lines[10]["data"].(map[string]any)["pane"] != "Exec" {
		t.Errorf("focus: %v", lines[10])
	}
	res := lines[11]["data"].(map[string]any)["Results"].([]any)[0].(map[string]any)
	if res["Stdout"] != "up 3 days\n" || res["Outcome"] != "ok" || res["Err"] != nil {
		t.Errorf("results: %v", res)
	}
	if ran != 0 {
		t.Error("recording ran an action")
	}
}

func TestSnapshotIsACopy(t *testing.T) {
	reps := testReports()
	snap := snapshot(fleet.HostsPolledMsg{Reports: reps})
	reps[0].Host = "changed"
	reps[0].Metrics.CPUPercent = 99
	first := snap.(map[string]any)["Reports"].([]any)[0].(map[string]any)
	if first["Host"] != "web-1" || first["Metrics"].(map[string]any)["CPUPercent"] != 12.0 {
		t.Errorf("snapshot shares memory with the message: %v", first)
	}
	if _, err := json.Marshal(snap); err != nil {
		t.Errorf("snapshot does not encode: %v", err)
	}
}

func TestSecretInputFocused(t *testing.T) {
	m := newTest(t, 80, 24)
	m, _ = keysThen(t, m, ":")
	if m.SecretInputFocused() {
		t.Error("the palette is not a secret input")
	}
	var ran int
	m, _ = keysThen(t, m, "esc")
	m, _ = send(t, m, confirmReq(20, &ran))
	if m.SecretInputFocused() {
		t.Error("the typed confirmation is not a secret")
	}
	m.gate.input.EchoMode = textinput.EchoPassword
	if !m.SecretInputFocused() {
		t.Error("a password input with focus is a secret")
	}
}
