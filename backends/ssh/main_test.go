package ssh_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/backends/ssh"
	"github.com/opsconsole/opsconsole/internal/testfleet"
)

// session is sessions.Session, restated so that these tests check the shape the session
// layer needs without depending on a package that imports this one.
type session interface {
	Exec(ctx context.Context, cmd string, stdout, stderr io.Writer) (int, error)
	Close() error
}

var (
	_ session                             = (*ssh.Client)(nil)
	_ interface{ Done() <-chan struct{} } = (*ssh.Client)(nil)
)

// The 50-host fleet most tests share; faults get a fleet of their own.
var shared struct {
	once  sync.Once
	fleet *testfleet.Fleet
	stop  func()
	err   error
}

func sharedFleet(t testing.TB) *testfleet.Fleet {
	t.Helper()
	testfleet.Require(t, testfleet.SSHD)
	shared.once.Do(func() {
		shared.fleet, shared.stop, shared.err = testfleet.StartMain(testfleet.Options{Hosts: 50})
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.fleet
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.stop != nil {
		shared.stop()
	}
	os.Exit(code)
}

// target turns a fleet host into a Target.
func target(f *testfleet.Fleet, i int) ssh.Target {
	h := f.Hosts[i]
	return ssh.Target{
		Name:           h.Name,
		Address:        h.Address,
		Port:           h.Port,
		User:           h.User,
		IdentityFiles:  h.IdentityFiles,
		KnownHosts:     h.KnownHosts,
		ConnectTimeout: h.ConnectTimeout,
	}
}

func dial(t testing.TB, tg ssh.Target) *ssh.Client {
	t.Helper()
	c, err := ssh.Dial(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// run executes cmd and fails the test unless it completes.
func run(t testing.TB, c *ssh.Client, cmd string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code, err := c.Exec(context.Background(), cmd, &o, &e)
	if err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	return o.String(), e.String(), code
}

// signalWriter is an io.Writer that closes seen once the output contains want, so that
// a test can act when a remote command has reached a known point.
type signalWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func newSignalWriter(want string) *signalWriter {
	return &signalWriter{want: want, seen: make(chan struct{})}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return len(p), nil
}

func waitSeen(t *testing.T, w *signalWriter, timeout time.Duration) {
	t.Helper()
	select {
	case <-w.seen:
	case <-time.After(timeout):
		t.Fatalf("remote command did not print %q within %v", w.want, timeout)
	}
}

// ownConnsTo counts the TCP connections this process holds to addr.
func ownConnsTo(t testing.TB, addr string) int {
	t.Helper()
	socks, err := testfleet.ReadTCPSockets(testfleet.TCPEstablished)
	if err != nil {
		t.Fatal(err)
	}
	own, err := testfleet.OwnSocketInodes()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range socks {
		if s.State == testfleet.TCPEstablished && s.Remote == addr && own[s.Inode] {
			n++
		}
	}
	return n
}

func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	if !testfleet.WaitFor(context.Background(), timeout, cond) {
		t.Fatalf("not within %v: %s", timeout, what)
	}
}

func hostSummary(name string, code int, out string) string {
	return fmt.Sprintf("%s exit %d: %q", name, code, out)
}
