package ssh_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	xssh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/opsconsole/opsconsole/backends/ssh"
	"github.com/opsconsole/opsconsole/internal/testfleet"
)

func TestExecOnFiftyHosts(t *testing.T) {
	f := sharedFleet(t)
	var wg sync.WaitGroup
	for i := range f.Hosts {
		wg.Go(func() {
			c, err := ssh.Dial(context.Background(), target(f, i))
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			var out bytes.Buffer
			// The server address sshd reports proves which host answered.
			code, err := c.Exec(context.Background(), `set -- $SSH_CONNECTION; echo "$3"; exit 3`, &out, nil)
			if err != nil {
				t.Error(err)
				return
			}
			if want := f.Hosts[i].Address + "\n"; code != 3 || out.String() != want {
				t.Errorf("%s, want exit 3 and %q", hostSummary(f.Hosts[i].Name, code, out.String()), want)
			}
		})
	}
	wg.Wait()
}

func TestStdoutAndStderrAreSeparate(t *testing.T) {
	c := dial(t, target(sharedFleet(t), 0))
	stdout, stderr, code := run(t, c, "echo out; echo err >&2; echo out2")
	if stdout != "out\nout2\n" || stderr != "err\n" || code != 0 {
		t.Fatalf("stdout %q stderr %q code %d", stdout, stderr, code)
	}
	// A command killed by a signal reports 128+N, as a shell does.
	if _, _, code := run(t, c, "kill -KILL $$"); code != 128+9 {
		t.Fatalf("killed command: exit %d, want %d", code, 128+9)
	}
}

func TestExecsShareOneConnection(t *testing.T) {
	f := sharedFleet(t)
	c := dial(t, target(f, 1))
	first, _, _ := run(t, c, "echo $SSH_CONNECTION")
	var wg sync.WaitGroup
	outs := make([]string, 20)
	for i := range outs {
		wg.Go(func() {
			var b bytes.Buffer
			if _, err := c.Exec(context.Background(), "echo $SSH_CONNECTION", &b, nil); err != nil {
				t.Error(err)
			}
			outs[i] = b.String()
		})
	}
	wg.Wait()
	for _, o := range outs {
		if o != first {
			t.Fatalf("SSH_CONNECTION %q then %q: not the same connection", first, o)
		}
	}
	if n := ownConnsTo(t, f.Addr(1)); n != 1 {
		t.Fatalf("%d TCP connections to %s, want 1", n, f.Addr(1))
	}
}

func TestUnknownHostKeyRefused(t *testing.T) {
	f := sharedFleet(t)
	empty := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tg := target(f, 2)
	tg.KnownHosts = []string{empty}
	_, err := ssh.Dial(context.Background(), tg)
	hk, ok := errors.AsType[*ssh.HostKeyError](err)
	if !ok || hk.Changed || hk.Host != "host-003" || hk.Fingerprint != xssh.FingerprintSHA256(f.HostKey(2)) {
		t.Fatalf("got %#v (%v), want an unknown-host HostKeyError", err, err)
	}
	want := fmt.Sprintf("host key for host-003 (%s) is not known: ED25519 key %s is not in %s",
		f.Addr(2), xssh.FingerprintSHA256(f.HostKey(2)), empty)
	if err.Error() != want {
		t.Fatalf("message\n got: %s\nwant: %s", err, want)
	}
}

func TestChangedHostKeyRefused(t *testing.T) {
	f := sharedFleet(t)
	other, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, _ := xssh.NewPublicKey(other)
	kh := filepath.Join(t.TempDir(), "known_hosts")
	content := "# fleet\n\n" + knownhosts.Line([]string{f.Addr(3)}, otherKey) + "\n"
	if err := os.WriteFile(kh, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	tg := target(f, 3)
	tg.KnownHosts = []string{kh}
	_, err = ssh.Dial(context.Background(), tg)
	hk, ok := errors.AsType[*ssh.HostKeyError](err)
	if !ok || !hk.Changed || hk.File != kh || hk.Line != 3 {
		t.Fatalf("got %#v (%v), want a changed-key HostKeyError at %s:3", err, err, kh)
	}
	want := fmt.Sprintf("REMOTE HOST IDENTIFICATION HAS CHANGED for host-004 (%s): server offered ED25519 %s, %s:3 has %s",
		f.Addr(3), xssh.FingerprintSHA256(f.HostKey(3)), kh, xssh.FingerprintSHA256(otherKey))
	if err.Error() != want {
		t.Fatalf("message\n got: %s\nwant: %s", err, want)
	}
}

func TestHashedKnownHostsEntry(t *testing.T) {
	f := sharedFleet(t)
	kh, err := os.ReadFile(f.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(kh), "\n")
	// host-006's entry (index 5) is hashed, host-005's is not.
	if !strings.HasPrefix(lines[5], "|1|") || strings.HasPrefix(lines[4], "|1|") {
		t.Fatalf("known_hosts lines 5-6:\n%s\n%s", lines[4], lines[5])
	}
	for _, i := range []int{4, 5} {
		c := dial(t, target(f, i))
		run(t, c, "true")
	}
}

func TestHostKeyAlgorithmFollowsKnownHosts(t *testing.T) {
	// Every daemon also has an RSA host key that known_hosts does not list.
	f := testfleet.Start(t, testfleet.Options{RSAHostKey: true})
	c := dial(t, target(f, 0))
	run(t, c, "true")

	// What the test guards against: with x/crypto's default preference (RSA before
	// ed25519) the server shows its RSA key and known_hosts calls it changed.
	hk, err := knownhosts.New(f.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	_, err = xssh.Dial("tcp", f.Addr(0), &xssh.ClientConfig{User: f.Hosts[0].User, HostKeyCallback: hk})
	if ke, ok := errors.AsType[*knownhosts.KeyError](err); !ok || len(ke.Want) == 0 {
		t.Fatalf("default algorithms: got %v, want a key mismatch (is the RSA key offered?)", err)
	}
}

func TestWrongClientKeyFailsOnlyThatHost(t *testing.T) {
	f := sharedFleet(t)
	dir := t.TempDir()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := xssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	wrong := filepath.Join(dir, "wrong_ed25519")
	if err := os.WriteFile(wrong, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	// Made with ssh-keygen -N: encrypting here would run bcrypt, seconds under -race.
	encrypted, err := filepath.Abs("testdata/encrypted_ed25519")
	if err != nil {
		t.Fatal(err)
	}

	bad := target(f, 6)
	bad.IdentityFiles = []string{wrong, encrypted, filepath.Join(dir, "missing")}
	var wg sync.WaitGroup
	var badErr, goodErr error
	wg.Go(func() {
		c, err := ssh.Dial(context.Background(), bad)
		if err == nil {
			c.Close()
		}
		badErr = err
	})
	wg.Go(func() {
		c, err := ssh.Dial(context.Background(), target(f, 7))
		if err == nil {
			c.Close()
		}
		goodErr = err
	})
	wg.Wait()
	if goodErr != nil {
		t.Fatalf("the other host failed too: %v", goodErr)
	}
	ae, ok := errors.AsType[*ssh.AuthError](badErr)
	if !ok || ae.Host != "host-007" || len(ae.Tried) != 1 || !strings.HasPrefix(ae.Tried[0], wrong+" ED25519 SHA256:") {
		t.Fatalf("got %#v (%v), want an AuthError naming the key tried", badErr, badErr)
	}
	msg := badErr.Error()
	for _, want := range []string{"authentication failed for " + bad.User + "@host-007", encrypted + ": encrypted", "missing: no such file"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q: %s", want, msg)
		}
	}
}

func TestServerHangsUpDuringAuth(t *testing.T) {
	// One failure allowed: a wrong key offered before the right one ends the connection.
	f := testfleet.Start(t, testfleet.Options{ExtraSSHDConfig: "MaxAuthTries 1"})
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := xssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	wrong := filepath.Join(t.TempDir(), "wrong_ed25519")
	if err := os.WriteFile(wrong, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	tg := target(f, 0)
	tg.IdentityFiles = []string{wrong, f.ClientKey}
	_, err = ssh.Dial(context.Background(), tg)
	ae, ok := errors.AsType[*ssh.AuthError](err)
	if !ok || ae.Err == nil || !strings.Contains(err.Error(), "Too many authentication failures") {
		t.Fatalf("got %#v (%v), want an AuthError carrying the server's disconnect", err, err)
	}
}

func TestAgentKeys(t *testing.T) {
	f := sharedFleet(t)
	raw, err := os.ReadFile(f.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	key, err := xssh.ParseRawPrivateKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: key}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				agent.ServeAgent(keyring, conn)
				conn.Close()
			}()
		}
	}()
	t.Setenv("SSH_AUTH_SOCK", sock)
	tg := target(f, 8)
	tg.IdentityFiles = nil
	tg.Agent = true
	c := dial(t, tg)
	run(t, c, "true")
}

func TestSilentListenerTimesOut(t *testing.T) {
	// Accepts TCP, never sends a banner: a wedged sshd or a wrong service.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	addr := l.Addr().(*net.TCPAddr)
	const timeout = time.Second
	tg := ssh.Target{Name: "silent", Address: "127.0.0.1", Port: addr.Port, User: "root", ConnectTimeout: timeout}
	start := time.Now()
	_, err = ssh.Dial(context.Background(), tg)
	elapsed := time.Since(start)
	ce, ok := errors.AsType[*ssh.ConnectError](err)
	if !ok || !ce.Timeout() || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %#v (%v), want a ConnectError timeout", err, err)
	}
	if want := fmt.Sprintf("connect to silent (%s): no SSH banner within 1s", addr); err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	if elapsed < timeout || elapsed > timeout+500*time.Millisecond {
		t.Fatalf("failed after %v, want within [%v, %v]", elapsed, timeout, timeout+500*time.Millisecond)
	}
}

func TestDialCancelled(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		conn, err := l.Accept()
		if err == nil {
			accepted <- conn
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := ssh.Dial(ctx, ssh.Target{Address: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, ConnectTimeout: time.Minute})
		errc <- err
	}()
	conn := <-accepted
	defer conn.Close()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Dial ignored cancellation")
	}
}

func TestClosedPortFailsFast(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	start := time.Now()
	_, err = ssh.Dial(context.Background(), ssh.Target{Name: "closed", Address: "127.0.0.1", Port: port, ConnectTimeout: 5 * time.Second})
	if _, ok := errors.AsType[*ssh.ConnectError](err); !ok || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("got %#v (%v), want a refused ConnectError", err, err)
	}
	if want := fmt.Sprintf("connect to closed (127.0.0.1:%d): connect: connection refused", port); err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestCancelDuringCommand(t *testing.T) {
	c := dial(t, target(sharedFleet(t), 9))
	// A distinctive duration finds this very process on the host afterwards.
	const marker = "sleep 61.2345"
	out := newSignalWriter("started")
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Exec(ctx, "echo started; "+marker+"; echo not reached", out, nil)
		errc <- err
	}()
	waitSeen(t, out, 10*time.Second)
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Exec did not return within 1s of cancel")
	}
	if os.Getuid() != 0 {
		// SIGKILL reached the command's process group. Not for root: sshd runs root's
		// sessions without privilege separation and then refuses "signal" requests
		// ("session signalling requires privilege separation"), so the command runs on,
		// detached, until it ends by itself (the fleet kills it at cleanup).
		waitFor(t, "remote sleep killed", 5*time.Second, func() bool {
			return exec.Command("pgrep", "-f", marker).Run() != nil
		})
	}
	// The connection is still usable.
	run(t, c, "true")
}

func TestDaemonKilledMidCommand(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{})
	c := dial(t, target(f, 0))
	out := newSignalWriter("started")
	errc := make(chan error, 1)
	go func() {
		_, err := c.Exec(context.Background(), "echo started; sleep 30", out, nil)
		errc <- err
	}()
	waitSeen(t, out, 10*time.Second)
	if err := f.KillDaemonOf(0); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, ssh.ErrConnectionLost) {
			t.Fatalf("got %v, want ErrConnectionLost", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Exec still running 2s after the daemon died")
	}
	select {
	case <-c.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("Done not closed")
	}
	if _, err := c.Exec(context.Background(), "true", nil, nil); !errors.Is(err, ssh.ErrConnectionLost) {
		t.Fatalf("Exec on a lost connection: %v", err)
	}
}

func TestKeepaliveDetectsHungPeer(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{})
	tg := target(f, 0)
	const interval = 100 * time.Millisecond
	tg.Keepalive = interval
	c := dial(t, tg)
	run(t, c, "true")
	out := newSignalWriter("started")
	errc := make(chan error, 1)
	go func() {
		_, err := c.Exec(context.Background(), "echo started; sleep 30", out, nil)
		errc <- err
	}()
	waitSeen(t, out, 10*time.Second)
	// Frozen, the host keeps its TCP connections (the kernel still ACKs) but answers
	// nothing: only keepalives notice.
	if err := f.FreezeDaemonOf(0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.ThawDaemonOf(0) })
	start := time.Now()
	select {
	case <-c.Done():
	case <-time.After(20 * interval):
		t.Fatal("keepalive did not declare the connection dead")
	}
	if d := time.Since(start); d < 2*interval {
		t.Errorf("declared dead after %v, sooner than the misses allow", d)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, ssh.ErrConnectionLost) || !strings.Contains(err.Error(), "no keepalive reply") {
			t.Fatalf("got %v, want ErrConnectionLost from keepalive", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Exec still running after the connection was declared dead")
	}
}

func TestProxyJump(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 3})
	jump := target(f, 0)
	// Dialled at once: they share the jump connection being made, not just a made one.
	var clients [2]*ssh.Client
	var errs [2]error
	var wg sync.WaitGroup
	for k, i := range []int{1, 2} {
		tg := target(f, i)
		tg.Jumps = []ssh.Target{jump}
		wg.Go(func() { clients[k], errs[k] = ssh.Dial(context.Background(), tg) })
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		t.Fatal(err)
	}
	for k, i := range []int{1, 2} {
		c := clients[k]
		stdout, _, _ := run(t, c, `set -- $SSH_CONNECTION; echo "$3"`)
		if stdout != f.Hosts[i].Address+"\n" {
			t.Fatalf("%s answered as %q", f.Hosts[i].Name, stdout)
		}
		// The target's TCP peer is the jump host's sshd, not us.
		if n := ownConnsTo(t, f.Addr(i)); n != 0 {
			t.Fatalf("we hold %d direct connections to %s", n, f.Hosts[i].Name)
		}
		if n, err := f.EstablishedConns(i); err != nil || n != 1 {
			t.Fatalf("%s has %d connections (%v), want 1 from the jump host", f.Hosts[i].Name, n, err)
		}
	}
	// Both targets ride one connection to the jump host.
	if n := ownConnsTo(t, f.Addr(0)); n != 1 {
		t.Fatalf("%d connections to the jump host, want 1", n)
	}
	clients[0].Close()
	run(t, clients[1], "true")
	clients[1].Close()
	waitFor(t, "jump connection closed after its last user", 5*time.Second, func() bool {
		return ownConnsTo(t, f.Addr(0)) == 0
	})
}

func TestProxyJumpHostKeyChecked(t *testing.T) {
	f := sharedFleet(t)
	jump := target(f, 10)
	empty := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	jump.KnownHosts = []string{empty}
	tg := target(f, 11)
	tg.Jumps = []ssh.Target{jump}
	_, err := ssh.Dial(context.Background(), tg)
	hk, ok := errors.AsType[*ssh.HostKeyError](err)
	if _, isConnect := errors.AsType[*ssh.ConnectError](err); !ok || !isConnect || hk.Host != "host-011" {
		t.Fatalf("got %v, want the jump host's HostKeyError inside a ConnectError", err)
	}
	if !strings.HasPrefix(err.Error(), "connect to host-012 ("+f.Addr(11)+"): via host-011: host key for host-011") {
		t.Fatalf("message: %v", err)
	}
}

func TestCloseFailsExecInFlight(t *testing.T) {
	c, err := ssh.Dial(context.Background(), target(sharedFleet(t), 12))
	if err != nil {
		t.Fatal(err)
	}
	out := newSignalWriter("started")
	errc := make(chan error, 1)
	go func() {
		_, err := c.Exec(context.Background(), "echo started; sleep 30", out, nil)
		errc <- err
	}()
	waitSeen(t, out, 10*time.Second)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("Exec succeeded on a closed connection")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Exec still running after Close")
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// countWriter counts bytes, to stream large outputs without keeping them.
type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

func TestLargeOutputStreams(t *testing.T) {
	c := dial(t, target(sharedFleet(t), 13))
	const size = 100 << 20
	var out countWriter
	code, err := c.Exec(context.Background(), fmt.Sprintf("head -c %d /dev/zero", size), &out, nil)
	if err != nil || code != 0 || out.n != size {
		t.Fatalf("got %d bytes, exit %d, %v; want %d bytes", out.n, code, err, size)
	}
}

func TestAbandonedJumpDialIsCancelled(t *testing.T) {
	// A jump host that accepts TCP and never speaks, with no connect timeout of its own:
	// the shared hop dial must end when its only waiter gives up.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if conn, err := l.Accept(); err == nil {
			accepted <- conn
		}
	}()
	jump := ssh.Target{Name: "silent-jump", Address: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port}
	tg := ssh.Target{Name: "behind", Address: "127.0.0.1", Port: 1, ConnectTimeout: 300 * time.Millisecond, Jumps: []ssh.Target{jump}}
	start := time.Now()
	_, err = ssh.Dial(context.Background(), tg)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Fatalf("after %v: %v, want a timeout within the target's connect timeout", time.Since(start), err)
	}
	conn := <-accepted
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 256)
	for {
		// The client's version line may come first; then the close.
		if _, err := conn.Read(buf); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal("the abandoned jump dial kept its connection open")
			}
			return
		}
	}
}
