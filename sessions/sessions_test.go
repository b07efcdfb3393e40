package sessions_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/internal/testfleet"
	"github.com/opsconsole/opsconsole/sessions"
)

func newPool(f *testfleet.Fleet, opts ...sessions.PoolOption) *sessions.Pool {
	return sessions.NewPool(sessions.NewDialer(f.Hosts, config.Defaults{}), opts...)
}

func collect(ch <-chan sessions.Result) map[string]sessions.Result {
	out := map[string]sessions.Result{}
	for r := range ch {
		out[r.Host] = r
	}
	return out
}

func TestFanOutFiftyHostsAndPoolReuse(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 50})
	var dials atomic.Int64
	pool := newPool(f, sessions.WithObserver(func(s sessions.HostState) {
		if s.State == sessions.StateConnecting {
			dials.Add(1)
		}
	}))
	defer pool.Close()
	ctx := context.Background()

	// The remote sees its own listen address in SSH_CONNECTION: each host answers as itself.
	res := collect(pool.FanOut(ctx, f.Hosts, `set -- $SSH_CONNECTION; echo "$3"; echo err >&2; exit 3`, sessions.FanOutOptions{}))
	if len(res) != 50 {
		t.Fatalf("got %d results, want 50", len(res))
	}
	for _, h := range f.Hosts {
		r := res[h.Name]
		if r.Outcome != sessions.OutcomeFailed || r.ExitCode != 3 {
			t.Fatalf("%s: outcome %s exit %d err %v, want failed exit 3", h.Name, r.Outcome, r.ExitCode, r.Err)
		}
		if got := strings.TrimSpace(string(r.Stdout)); got != h.Address {
			t.Errorf("%s: stdout %q, want its address %q", h.Name, got, h.Address)
		}
		if string(r.Stderr) != "err\n" {
			t.Errorf("%s: stderr %q", h.Name, r.Stderr)
		}
	}
	// A second command rides the open connections: no new dial anywhere.
	res = collect(pool.FanOut(ctx, f.Hosts, "true", sessions.FanOutOptions{}))
	for name, r := range res {
		if r.Outcome != sessions.OutcomeOK {
			t.Fatalf("%s: %s %v", name, r.Outcome, r.Err)
		}
	}
	if n := dials.Load(); n != 50 {
		t.Fatalf("pool dialled %d times for two commands on 50 hosts, want 50", n)
	}
}

func TestOutputIsCappedWithMarker(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 1})
	pool := newPool(f)
	defer pool.Close()
	const limit = 1 << 20
	r := pool.Run(context.Background(), f.Hosts[0], "head -c 100000000 /dev/zero", sessions.FanOutOptions{OutputLimit: limit})
	if r.Outcome != sessions.OutcomeOK {
		t.Fatalf("outcome %s: %v", r.Outcome, r.Err)
	}
	if want := int64(100000000 - limit); r.Dropped != want {
		t.Fatalf("dropped %d bytes, want %d", r.Dropped, want)
	}
	if !bytes.HasPrefix(r.Stdout, make([]byte, limit)) || !bytes.Contains(r.Stdout[limit:], []byte("output truncated")) {
		t.Fatalf("stdout of %d bytes does not end in a truncation marker: %q", len(r.Stdout), r.Stdout[limit:])
	}
}

// A host that accepts TCP and never speaks costs its own row, within its connect timeout,
// while the others finish at their own pace.
func TestHungHostDoesNotDelayOthers(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 3})
	ln, err := net.Listen("tcp", "127.0.9.9:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var held sync.WaitGroup
	var conns []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		held.Wait()
	}()
	hung := f.Hosts[0]
	hung.Name, hung.Address, hung.Port = "hung", "127.0.9.9", ln.Addr().(*net.TCPAddr).Port
	hung.ConnectTimeout = time.Second
	hosts := append([]config.Host{hung}, f.Hosts...)
	pool := sessions.NewPool(sessions.NewDialer(hosts, config.Defaults{}))
	defer pool.Close()

	start := time.Now()
	var order []string
	for r := range pool.FanOut(context.Background(), hosts, "echo ok", sessions.FanOutOptions{}) {
		order = append(order, r.Host)
		if r.Host == "hung" {
			if r.Outcome != sessions.OutcomeTimedOut || r.Err == nil {
				t.Fatalf("hung host: outcome %s err %v", r.Outcome, r.Err)
			}
			// The bound is the connect timeout plus slack for a loaded CI machine; the
			// point is that the host is cut off, not waited for.
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("hung host took %s, connect timeout is 1s", d)
			}
			continue
		}
		if r.Outcome != sessions.OutcomeOK {
			t.Fatalf("%s: %s %v", r.Host, r.Outcome, r.Err)
		}
	}
	if order[len(order)-1] != "hung" {
		t.Fatalf("results came in order %v: the hung host held others back", order)
	}
}

// Cancelling a 500-host fan-out ends it within a second, every host accounted for.
func TestCancelStopsLargeFanOutWithinASecond(t *testing.T) {
	if testing.Short() {
		t.Skip("500-host fleet")
	}
	f := testfleet.Start(t, testfleet.Options{Hosts: 500, StartTimeout: 2 * time.Minute})
	// 500 handshakes at once on a 2-core machine take sshd several seconds of CPU.
	for i := range f.Hosts {
		f.Hosts[i].ConnectTimeout = time.Minute
	}
	pool := newPool(f)
	defer pool.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Connect everyone first, so the cancel lands on 500 commands in flight.
	for r := range pool.FanOut(ctx, f.Hosts, "true", sessions.FanOutOptions{Concurrency: 500}) {
		if r.Outcome != sessions.OutcomeOK {
			t.Fatalf("%s: %s %v", r.Host, r.Outcome, r.Err)
		}
	}
	var started atomic.Int64
	results := pool.FanOut(ctx, f.Hosts, "echo started; sleep 60", sessions.FanOutOptions{
		Concurrency: 500,
		OnStart:     func(string) { started.Add(1) },
	})
	if !testfleet.WaitFor(ctx, time.Minute, func() bool { return started.Load() == 500 }) {
		t.Fatalf("only %d of 500 hosts started", started.Load())
	}
	cancel()
	at := time.Now()
	n := 0
	for r := range results {
		n++
		if r.Outcome != sessions.OutcomeCancelled {
			t.Errorf("%s: outcome %s, want cancelled", r.Host, r.Outcome)
		}
	}
	if d := time.Since(at); d > time.Second {
		t.Fatalf("fan-out ended %s after cancel, want under 1s", d)
	}
	if n != 500 {
		t.Fatalf("%d results, want 500", n)
	}
}

func TestBackoffAfterFailedDial(t *testing.T) {
	// A closed port on loopback: a real refused connection, not a stand-in.
	ln, err := net.Listen("tcp", "127.0.9.10:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	h := config.Host{Name: "closed", Address: "127.0.9.10", Port: port, User: "nobody", Transport: "ssh", ConnectTimeout: time.Second}
	now := time.Unix(1000, 0)
	pool := sessions.NewPool(sessions.NewDialer([]config.Host{h}, config.Defaults{}),
		sessions.WithClock(func() time.Time { return now }))
	defer pool.Close()
	if _, err := pool.Get(context.Background(), h); err == nil || errors.Is(err, sessions.ErrBackoff) {
		t.Fatalf("first dial: %v, want a connect error", err)
	}
	if _, err := pool.Get(context.Background(), h); !errors.Is(err, sessions.ErrBackoff) {
		t.Fatalf("second dial inside the backoff: %v, want ErrBackoff", err)
	}
	now = now.Add(sessions.BackoffMin)
	if _, err := pool.Get(context.Background(), h); err == nil || errors.Is(err, sessions.ErrBackoff) {
		t.Fatalf("dial after the backoff: %v, want a fresh connect error", err)
	}
	st := pool.States()
	if len(st) != 1 || st[0].State != sessions.StateFailed || st[0].Failures != 2 {
		t.Fatalf("states %+v, want one failed host with 2 failures", st)
	}
}
