package query

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/opsconsole/opsconsole/backends/prom"
	"github.com/opsconsole/opsconsole/keymap"
	"github.com/opsconsole/opsconsole/views"
)

// slowServer speaks the Prometheus HTTP API: "slow" hangs until the client goes away,
// anything else answers at once. It reports every request it sees arrive and every slow
// one whose client cancelled it.
type slowServer struct {
	*httptest.Server
	arrived   chan string
	cancelled chan string
}

func newSlowServer(t *testing.T) *slowServer {
	s := &slowServer{arrived: make(chan string, 16), cancelled: make(chan string, 16)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		expr := r.FormValue("query")
		s.arrived <- expr
		if expr == "slow" {
			select {
			case <-r.Context().Done():
				s.cancelled <- expr
			case <-time.After(time.Minute):
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"scalar","result":[%d,"42"]}}`, time.Now().Unix())
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *slowServer) client(t *testing.T) *prom.Client {
	c, err := prom.New(&prom.Config{URL: s.URL, Timeout: time.Minute}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("no %s within 20 s", what)
	}
	panic("unreachable")
}

// runAsync runs a command in the background, as Bubble Tea does, and hands back its
// message.
func runAsync(cmd tea.Cmd) <-chan tea.Msg {
	ch := make(chan tea.Msg, 1)
	go func() { ch <- cmd() }()
	return ch
}

// A query typed over a slow one cancels the slow one's request at the server, and only
// the newer answer is shown.
func TestNewerQueryCancelsSlowOne(t *testing.T) {
	srv := newSlowServer(t)
	m := New(Deps{Client: srv.client(t)}, keymap.Default().Query, styles(t))
	m.SetSize(100, 20)

	m, slowCmd := m.Update(views.RunQueryMsg{Expr: "slow"})
	slowMsg := runAsync(slowCmd)
	if got := waitFor(t, srv.arrived, "slow request"); got != "slow" {
		t.Fatalf("arrived %q", got)
	}

	m, fastCmd := m.Update(views.RunQueryMsg{Expr: "fast"})
	fast := fastCmd()
	waitFor(t, srv.cancelled, "cancellation of the slow request")

	m, _ = m.Update(fast)
	m, _ = m.Update(waitFor(t, slowMsg, "slow answer"))
	if m.ans == nil || m.ans.req.expr != "fast" || m.ans.kind != "scalar" || m.ans.cancelled {
		t.Fatalf("answer = %+v", m.ans)
	}
	if v := m.View(); !strings.Contains(v, "42") {
		t.Errorf("view:\n%s", v)
	}
}

// The cancel key stops the running query; the pane says it was cancelled, not that the
// server failed.
func TestCancelKeyStopsQuery(t *testing.T) {
	srv := newSlowServer(t)
	m := New(Deps{Client: srv.client(t)}, keymap.Default().Query, styles(t))
	m.SetSize(100, 20)

	m, cmd := m.Update(views.RunQueryMsg{Expr: "slow"})
	answer := runAsync(cmd)
	waitFor(t, srv.arrived, "slow request")
	if v := m.View(); !strings.Contains(v, "running instant … x cancels") {
		t.Errorf("running view:\n%s", v)
	}

	m, cancel := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'x'}})
	if cancel == nil {
		t.Fatal("x gave no command")
	}
	cancel()
	waitFor(t, srv.cancelled, "cancellation at the server")
	m, _ = m.Update(waitFor(t, answer, "answer"))
	if m.ans == nil || !m.ans.cancelled || m.running != nil {
		t.Fatalf("answer = %+v, running = %v", m.ans, m.running)
	}
	if v := m.View(); !strings.Contains(v, "■ cancelled") || strings.Contains(v, "error") {
		t.Errorf("view:\n%s", v)
	}
	// Nothing runs: the key does nothing now.
	if _, cmd := m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{'x'}}); cmd != nil {
		t.Error("x with nothing running gave a command")
	}
}

// A request whose command starts after a newer one's has nothing to do: it never
// reaches the server.
func TestStaleRequestNeverSent(t *testing.T) {
	srv := newSlowServer(t)
	m := New(Deps{Client: srv.client(t)}, keymap.Default().Query, styles(t))
	m.SetSize(100, 20)
	m, first := m.Update(views.RunQueryMsg{Expr: "slow"})
	m, second := m.Update(views.RunQueryMsg{Expr: "fast"})
	m, _ = m.Update(second())
	stale := first().(QueryAnsweredMsg)
	if stale.Err != errSuperseded {
		t.Errorf("stale answer err = %v", stale.Err)
	}
	m, _ = m.Update(stale)
	if got := waitFor(t, srv.arrived, "request"); got != "fast" {
		t.Errorf("server saw %q first", got)
	}
	select {
	case got := <-srv.arrived:
		t.Errorf("server also saw %q", got)
	default:
	}
	if m.ans == nil || m.ans.req.expr != "fast" {
		t.Errorf("answer = %+v", m.ans)
	}
}
