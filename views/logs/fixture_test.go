package logs

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/opsconsole/opsconsole/keymap"
	"github.com/opsconsole/opsconsole/ops/logs"
	"github.com/opsconsole/opsconsole/themes"
)

// t0 is when the fixture's first line was written.
var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

const longHost = "analytics-warehouse-ingest-coordinator-eu-west-1a"

func styles(t testing.TB) *themes.Styles {
	t.Helper()
	th, err := themes.Load(themes.Dark, nil)
	if err != nil {
		t.Fatal(err)
	}
	return themes.Build(th)
}

// lb builds lines the way the engine delivers them: Seq set, received a little after
// the line's own time, and for structured lines the message, level and time taken out
// of the fields.
type lb struct {
	seq uint64
	at  time.Time
}

func (b *lb) next(host string) logs.Line {
	b.seq++
	b.at = b.at.Add(250 * time.Millisecond)
	return logs.Line{Seq: b.seq, Host: host, Source: "app", Received: b.at.Add(40 * time.Millisecond), Time: b.at}
}

func (b *lb) text(host string, lvl logs.Level, msg string) logs.Line {
	l := b.next(host)
	l.Level, l.Message = lvl, msg
	l.Raw = l.Time.Format("2006-01-02T15:04:05.000Z") + " " + strings.ToUpper(levelWord(lvl)) + " " + msg
	return l
}

// plain is a text line with no time stamp or level of its own.
func (b *lb) plain(host, msg string) logs.Line {
	l := b.next(host)
	l.Time = time.Time{}
	l.Message, l.Raw = msg, msg
	return l
}

func (b *lb) json(host string, lvl logs.Level, msg string, kv ...string) logs.Line {
	l := b.next(host)
	l.Level, l.Message = lvl, msg
	var raw strings.Builder
	fmt.Fprintf(&raw, `{"ts":%q,"level":%q,"msg":%q`, l.Time.Format(time.RFC3339Nano), levelWord(lvl), msg)
	for i := 0; i+1 < len(kv); i += 2 {
		l.Fields = append(l.Fields, logs.Field{Key: kv[i], Value: kv[i+1]})
		if _, err := strconv.ParseFloat(kv[i+1], 64); err == nil || kv[i+1] == "true" || kv[i+1] == "false" {
			fmt.Fprintf(&raw, `,%q:%s`, kv[i], kv[i+1])
		} else {
			fmt.Fprintf(&raw, `,%q:%q`, kv[i], kv[i+1])
		}
	}
	raw.WriteString("}")
	l.Raw = raw.String()
	return l
}

func (b *lb) logfmt(host string, lvl logs.Level, msg string, kv ...string) logs.Line {
	l := b.next(host)
	l.Level, l.Message = lvl, msg
	var raw strings.Builder
	fmt.Fprintf(&raw, "time=%s level=%s msg=%q", l.Time.Format(time.RFC3339), levelWord(lvl), msg)
	for i := 0; i+1 < len(kv); i += 2 {
		l.Fields = append(l.Fields, logs.Field{Key: kv[i], Value: kv[i+1]})
		v := kv[i+1]
		if strings.ContainsAny(v, " \"=") {
			v = fmt.Sprintf("%q", v)
		}
		fmt.Fprintf(&raw, " %s=%s", kv[i], v)
	}
	l.Raw = raw.String()
	return l
}

func (b *lb) marker(host string, kind logs.MarkerKind, what string) logs.Line {
	l := b.next(host)
	l.Time = time.Time{}
	l.Marker, l.Raw = kind, what
	return l
}

// fixtureLines is a few seconds of a small fleet: text, JSON and logfmt lines, every
// level, markers of each kind, a long line, a long host name and a line with no time.
func fixtureLines() []logs.Line {
	b := &lb{at: t0.Add(-250 * time.Millisecond)}
	var ls []logs.Line
	add := func(l ...logs.Line) { ls = append(ls, l...) }
	add(
		b.text("web-1", logs.LevelInfo, "GET /healthz 200 0.8ms"),
		b.json("web-2", logs.LevelInfo, "request served", "method", "GET", "path", "/api/v1/users", "status", "200", "duration_ms", "12.5"),
		b.logfmt("db-1", logs.LevelWarn, "slow query", "duration", "1.204s", "query", "SELECT * FROM orders WHERE id = $1"),
		b.plain("cache-1", "Background saving started by pid 4242"),
		b.text("web-1", logs.LevelDebug, "pool stats idle=4 busy=12 waiting=0"),
		b.json("web-2", logs.LevelError, "upstream timeout", "upstream", "10.0.1.12:5432", "err", "context deadline exceeded", "attempt", "3"),
		b.marker("db-2", logs.MarkerGap, "lost 12 lines while reconnecting"),
		b.marker("db-2", logs.MarkerReconnected, "reconnected after 3 attempts, resumed at byte 18233"),
		b.text("db-2", logs.LevelInfo, "checkpoint complete: wrote 1843 buffers (11.2%)"),
		b.plain("cache-1", "DB saved on disk"),
		b.text(longHost, logs.LevelInfo, "ingested batch 7731 (52,113 rows) in 4.2s"),
		b.json("web-1", logs.LevelWarn, "retrying request", "path", "/api/v1/orders", "retry_in", "250ms", "user agent", "curl/8.5.0"),
		b.marker("web-1", logs.MarkerRotated, "/var/log/app/app.log rotated (new inode 524301)"),
		b.text("web-2", logs.LevelTrace, "tls handshake resumed session for 10.0.0.7"),
		b.logfmt("db-1", logs.LevelError, "deadlock detected", "pid", "5512", "relation", "orders", "wait", "1.5s"),
		b.text("web-1", logs.LevelInfo, "GET /api/v1/orders/8812 200 "+strings.Repeat("x", 20)+" trace="+strings.Repeat("0123456789abcdef", 12)),
		b.json("web-2", logs.LevelFatal, "cannot bind :8443", "err", "listen tcp :8443: bind: address already in use"),
		b.text("web-1", logs.LevelInfo, "get /metrics 200 lowercase verb from an old client"),
	)
	for i := range 24 {
		switch i % 4 {
		case 0:
			add(b.text("web-1", logs.LevelInfo, fmt.Sprintf("GET /api/v1/items/%d 200 %d.%dms", 100+i, 3+i%7, i%10)))
		case 1:
			add(b.json("web-2", logs.LevelInfo, "request served", "method", "POST", "path", fmt.Sprintf("/api/v1/carts/%d", i), "status", "201"))
		case 2:
			add(b.logfmt("db-1", logs.LevelDebug, "autovacuum", "table", "orders", "removed", fmt.Sprint(i*13)))
		case 3:
			add(b.text("db-2", logs.LevelWarn, fmt.Sprintf("replication lag %dms above 500ms", 500+i*37)))
		}
	}
	add(b.json("web-1", logs.LevelError, "upstream timeout", "upstream", "10.0.1.11:5432", "err", "i/o timeout"))
	add(b.text("cache-1", logs.LevelInfo, "1 changes in 60 seconds. Saving..."))
	return ls
}

// fixtureStates are the streams as the engine reports them: most streaming, one
// reconnecting, one failed.
func fixtureStates() []logs.StreamState {
	st := func(host string, s logs.StreamStatus, err error) logs.StreamState {
		return logs.StreamState{Host: host, Source: "app", Status: s, Err: err, Since: t0}
	}
	return []logs.StreamState{
		st("web-1", logs.StreamStreaming, nil),
		st("web-2", logs.StreamStreaming, nil),
		st("db-1", logs.StreamStreaming, nil),
		st("cache-1", logs.StreamReconnecting, errors.New("read: connection reset by peer")),
		st("db-2", logs.StreamStreaming, nil),
		st(longHost, logs.StreamStreaming, nil),
		st("mq-1", logs.StreamFailed, errors.New("ssh: handshake failed: ssh: unable to authenticate, attempted methods [none publickey]")),
	}
}

// fixture is the pane at w×h with the fixture's lines and states, following.
func fixture(t testing.TB, w, h int) Model {
	t.Helper()
	m := New(keymap.Default().Logs, styles(t), 0).SetSize(w, h)
	return update(t, m, LinesMsg{Lines: fixtureLines(), States: fixtureStates()})
}

// update calls Update and fails on a command where the caller expected none.
func update(t testing.TB, m Model, msg tea.Msg) Model {
	t.Helper()
	m, cmd := m.Update(msg)
	if cmd != nil {
		t.Fatalf("Update(%T) returned a command", msg)
	}
	return m
}

// press sends keys, each as Bubble Tea spells it ("s", "enter", "esc", "up", "ctrl+s").
func press(t testing.TB, m Model, keys ...string) (Model, tea.Cmd) {
	t.Helper()
	var cmd tea.Cmd
	for _, k := range keys {
		m, cmd = m.Update(keyMsg(k))
	}
	return m, cmd
}

func keyMsg(k string) tea.KeyMsg {
	named := map[string]tea.KeyType{
		"enter": tea.KeyEnter, "esc": tea.KeyEsc, "up": tea.KeyUp, "down": tea.KeyDown,
		"pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown, "home": tea.KeyHome, "end": tea.KeyEnd,
		"backspace": tea.KeyBackspace, " ": tea.KeySpace, "ctrl+u": tea.KeyCtrlU, "ctrl+s": tea.KeyCtrlS,
		"left": tea.KeyLeft, "right": tea.KeyRight,
	}
	if k == " " {
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}} // as Bubble Tea reads it
	}
	if kt, ok := named[k]; ok {
		return tea.KeyMsg{Type: kt}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// typeText sends each rune of s as its own key press.
func typeText(t testing.TB, m Model, s string) Model {
	t.Helper()
	for _, r := range s {
		m, _ = press(t, m, string(r))
	}
	return m
}

// shownLines is the lines the view shows, in order.
func shownLines(m Model) []logs.Line {
	out := make([]logs.Line, len(m.view))
	for i, p := range m.view {
		out[i] = *m.st.at(p)
	}
	return out
}

// cursorLine is the line under the cursor.
func cursorLine(t testing.TB, m Model) logs.Line {
	t.Helper()
	if len(m.view) == 0 {
		t.Fatal("no line shown")
	}
	return *m.st.at(m.view[m.cursor])
}

// runCmd runs a command and returns its message (nil for a nil command).
func runCmd(cmd tea.Cmd) tea.Msg {
	if cmd == nil {
		return nil
	}
	return cmd()
}
