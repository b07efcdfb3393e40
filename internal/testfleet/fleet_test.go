package testfleet

import (
	"bytes"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// dial connects with plain x/crypto, checking host keys against the fleet's known_hosts,
// so these tests depend on nothing but the harness.
func dial(t testing.TB, f *Fleet, i int) *ssh.Client {
	t.Helper()
	hk, err := knownhosts.New(f.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile(f.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := ssh.Dial("tcp", f.Addr(i), &ssh.ClientConfig{
		User:              f.Hosts[i].User,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(signer)},
		HostKeyCallback:   hk,
		HostKeyAlgorithms: []string{ssh.KeyAlgoED25519},
		Timeout:           5 * time.Second,
	})
	if err != nil {
		t.Fatalf("%s: %v", f.Hosts[i].Name, err)
	}
	return c
}

func run(t testing.TB, c *ssh.Client, cmd string) string {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.CombinedOutput(cmd)
	if err != nil {
		t.Fatalf("%s: %v: %s", cmd, err, out)
	}
	return string(out)
}

func TestFleetServesEveryHost(t *testing.T) {
	// 20 hosts: two daemons, so the 16-address split is exercised.
	f := Start(t, Options{Hosts: 20})
	if len(f.daemons) != 2 {
		t.Fatalf("%d daemons for 20 hosts, want 2", len(f.daemons))
	}
	var wg sync.WaitGroup
	for i := range f.Hosts {
		wg.Go(func() {
			c := dial(t, f, i)
			defer c.Close()
			got := strings.Fields(run(t, c, "echo $SSH_CONNECTION"))
			if len(got) != 4 || got[2] != f.Hosts[i].Address {
				t.Errorf("%s: SSH_CONNECTION %q, want server address %s", f.Hosts[i].Name, got, f.Hosts[i].Address)
			}
		})
	}
	wg.Wait()

	kh, err := os.ReadFile(f.KnownHosts)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(kh), "|1|"); n != 10 {
		t.Errorf("%d hashed known_hosts entries, want 10", n)
	}
	inv, err := os.ReadFile(f.InventoryPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[defaults]", `connect_timeout = "5s"`, `name = "host-020"`, `address = "127.0.1.20"`, `tags = ["even"]`} {
		if !bytes.Contains(inv, []byte(want)) {
			t.Errorf("inventory lacks %s:\n%s", want, inv)
		}
	}
	if f.Hosts[0].Tags[0] != "odd" || f.Hosts[1].Tags[0] != "even" || f.Hosts[0].Source != f.InventoryPath+":9" {
		t.Errorf("hosts: %+v %+v", f.Hosts[0], f.Hosts[1])
	}
}

func TestSessionsSkipBashrc(t *testing.T) {
	f := Start(t, Options{})
	c := dial(t, f, 0)
	defer c.Close()
	// SetEnv SHLVL=1: the login shell that runs the command starts at level 2, which is
	// what keeps Debian's bash from sourcing ~/.bashrc for a command over ssh.
	if got := strings.TrimSpace(run(t, c, "echo $SHLVL")); got != "2" {
		t.Errorf("SHLVL = %q, want 2", got)
	}
}

func TestKillAndRestartDaemon(t *testing.T) {
	f := Start(t, Options{Hosts: 2})
	c := dial(t, f, 0)
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("sleep 30"); err != nil {
		t.Fatal(err)
	}
	if err := f.KillDaemonOf(0); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- s.Wait() }()
	select {
	case err := <-waited:
		if err == nil {
			t.Fatal("command survived its daemon")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("connection still up 5s after its daemon was killed")
	}
	if err := f.RestartDaemonOf(0); err != nil {
		t.Fatal(err)
	}
	c2 := dial(t, f, 1)
	defer c2.Close()
	run(t, c2, "true")
}

func TestReadTCPSockets(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.3.7:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	own, err := OwnSocketInodes()
	if err != nil {
		t.Fatal(err)
	}
	socks, err := ReadTCPSockets(TCPListen, TCPEstablished)
	if err != nil {
		t.Fatal(err)
	}
	var listen, client bool
	for _, s := range socks {
		listen = listen || (s.State == TCPListen && s.Local == l.Addr().String() && own[s.Inode])
		client = client || (s.State == TCPEstablished && s.Local == c.LocalAddr().String() && s.Remote == l.Addr().String() && own[s.Inode])
	}
	if !listen || !client {
		t.Fatalf("listener found %v, client found %v in %d sockets", listen, client, len(socks))
	}
}

func TestTOMLString(t *testing.T) {
	if got := tomlString("a\"b\\c\n"); got != `"a\"b\\c\u000a"` {
		t.Fatal(got)
	}
}

// BenchmarkCommandShellInit measures one command on an open connection with and without
// the login shell reading ~/.bashrc (Options.KeepBashrc).
func BenchmarkCommandShellInit(b *testing.B) {
	for _, keep := range []bool{false, true} {
		name := "SHLVL=1"
		if keep {
			name = "bashrc"
		}
		b.Run(name, func(b *testing.B) {
			f := Start(b, Options{KeepBashrc: keep})
			c := dial(b, f, 0)
			defer c.Close()
			for b.Loop() {
				s, err := c.NewSession()
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Run("true"); err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		})
	}
}
