// Package testfleet starts a fleet of real OpenSSH daemons on loopback addresses for
// integration tests, benchmarks and the README's try-it section. Every host gets its own
// address in 127.0.0.0/8 (which binds without setup), all on one port, with throwaway
// ed25519 keys, an authorized_keys file, a known_hosts file listing every host and a TOML
// inventory in the schema of DESIGN.md §8.
//
// One sshd serves at most 16 listen addresses, so the fleet runs one daemon per 16 hosts.
// Each daemon has its own host key, which lets tests tell daemons apart and replace one.
package testfleet

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/opsconsole/opsconsole/config"
)

// SSHD is the OpenSSH server the fleet runs. sshd re-executes itself for every
// connection, so it must be started by absolute path.
const SSHD = "/usr/sbin/sshd"

// hostsPerDaemon is OpenSSH's MAX_LISTEN_SOCKS: a sixteenth ListenAddress is refused.
const hostsPerDaemon = 16

// Options shape a fleet. The zero value is a fleet of one host.
type Options struct {
	// Hosts is the number of hosts (default 1).
	Hosts int
	// ExtraSSHDConfig is appended to every daemon's sshd_config. sshd takes the first
	// value it reads for most keywords, so this cannot override the fleet's own lines;
	// use it for keywords the fleet does not set.
	ExtraSSHDConfig string
	// RSAHostKey gives every daemon an RSA host key in addition to its ed25519 one. The
	// RSA key is deliberately left out of known_hosts: a client that asks for RSA first
	// instead of what known_hosts holds is refused.
	RSAHostKey bool
	// KeepBashrc lets the login shell read ~/.bashrc for every remote command, as a
	// stock sshd does. By default the fleet sets SHLVL=1 in sessions, which makes bash
	// skip ~/.bashrc (see sshdConfig).
	KeepBashrc bool
	// StartTimeout bounds waiting for the daemons to listen (default 20s).
	StartTimeout time.Duration
}

// Fleet is a running set of loopback sshd hosts.
type Fleet struct {
	// Dir holds keys, sshd configs, known_hosts and the inventory.
	Dir string
	// Hosts are the inventory entries, host-001 first. Odd-numbered hosts carry the tag
	// "odd", even-numbered ones "even"; all are in group "fleet".
	Hosts []config.Host
	// KnownHosts lists every host as [address]:port. Entries for even-numbered hosts are
	// hashed (|1|salt|hash), the others plain, so both forms are exercised.
	KnownHosts string
	// ClientKey is the client's private key (ed25519, unencrypted, 0600); its public
	// half is in authorized_keys.
	ClientKey string
	// InventoryPath is a TOML config file ([defaults] and [[hosts]]) for the fleet.
	InventoryPath string
	// Port is the port every host listens on.
	Port int

	daemons []*daemon
	// hostDaemon maps a host index to its daemon.
	hostDaemon []*daemon
}

type daemon struct {
	index   int
	cfgPath string
	marker  string   // value of markerVar in its sessions
	addrs   []string // host:port
	hostKey ssh.PublicKey
	rsaKey  ssh.PublicKey

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	stderr *tailBuffer
}

// Require checks that binary (an absolute path, or a name looked up in PATH) exists. When
// it does not, the test fails if the environment variable CI is set and is skipped
// otherwise, so integration tests never pass silently in CI without their server.
func Require(tb testing.TB, binary string) {
	tb.Helper()
	var err error
	if filepath.IsAbs(binary) {
		var st os.FileInfo
		if st, err = os.Stat(binary); err == nil && st.Mode()&0o111 == 0 {
			err = fmt.Errorf("%s is not executable", binary)
		}
	} else {
		_, err = exec.LookPath(binary)
	}
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("%s is required in CI: %v", binary, err)
	}
	tb.Skipf("%s not available: %v", binary, err)
}

// Start starts a fleet for a test; the daemons are killed and the directory removed
// when the test ends. A missing sshd fails the test in CI and skips it elsewhere.
func Start(tb testing.TB, opt Options) *Fleet {
	tb.Helper()
	Require(tb, SSHD)
	f, err := start(tb.TempDir(), opt)
	if f != nil {
		// Registered after TempDir so it runs first: daemons die before the directory goes.
		tb.Cleanup(f.stop)
	}
	if err != nil {
		tb.Fatalf("testfleet: %v", err)
	}
	return f
}

// StartMain starts a fleet outside a test (benchmark drivers, the README's try-it). The
// returned function kills the daemons and removes the directory.
func StartMain(opt Options) (*Fleet, func(), error) {
	dir, err := os.MkdirTemp("", "testfleet-")
	if err != nil {
		return nil, nil, err
	}
	f, err := start(dir, opt)
	stop := func() {
		if f != nil {
			f.stop()
		}
		os.RemoveAll(dir)
	}
	if err != nil {
		stop()
		return nil, nil, fmt.Errorf("testfleet: %w", err)
	}
	return f, stop, nil
}

func start(dir string, opt Options) (*Fleet, error) {
	if opt.Hosts <= 0 {
		opt.Hosts = 1
	}
	if opt.Hosts > 250*250 {
		return nil, fmt.Errorf("%d hosts: at most %d fit the address plan", opt.Hosts, 250*250)
	}
	if opt.StartTimeout <= 0 {
		opt.StartTimeout = 20 * time.Second
	}
	if _, err := os.Stat(SSHD); err != nil {
		return nil, err
	}
	// sshd refuses to start without its privilege separation directory, which only the
	// package's systemd unit creates.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		return nil, fmt.Errorf("privilege separation directory: %w", err)
	}
	u, err := user.Current()
	if err != nil {
		return nil, err
	}

	f := &Fleet{
		Dir:           dir,
		KnownHosts:    filepath.Join(dir, "known_hosts"),
		ClientKey:     filepath.Join(dir, "client_ed25519"),
		InventoryPath: filepath.Join(dir, "inventory.toml"),
	}
	clientPub, err := writeEd25519Key(f.ClientKey)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(clientPub), 0o600); err != nil {
		return nil, err
	}

	ips := make([]string, opt.Hosts)
	for i := range ips {
		ips[i] = HostIP(i)
	}
	if f.Port, err = freePort(ips); err != nil {
		return nil, err
	}

	f.hostDaemon = make([]*daemon, opt.Hosts)
	for first := 0; first < opt.Hosts; first += hostsPerDaemon {
		d := &daemon{index: len(f.daemons)}
		d.marker = marker(dir, d.index)
		for i := first; i < min(first+hostsPerDaemon, opt.Hosts); i++ {
			d.addrs = append(d.addrs, net.JoinHostPort(ips[i], strconv.Itoa(f.Port)))
			f.hostDaemon[i] = d
		}
		if err := f.writeDaemonConfig(d, opt); err != nil {
			return nil, err
		}
		f.daemons = append(f.daemons, d)
	}
	if err := f.writeKnownHosts(); err != nil {
		return nil, err
	}
	f.Hosts = make([]config.Host, opt.Hosts)
	for i := range f.Hosts {
		tag := "odd"
		if (i+1)%2 == 0 {
			tag = "even"
		}
		f.Hosts[i] = config.Host{
			Name:           HostName(i),
			Address:        ips[i],
			Port:           f.Port,
			User:           u.Username,
			Transport:      config.TransportSSH,
			Tags:           []string{tag},
			Groups:         []string{"fleet"},
			IdentityFiles:  []string{f.ClientKey},
			KnownHosts:     []string{f.KnownHosts},
			ConnectTimeout: 5 * time.Second,
		}
	}
	if err := f.writeInventory(u.Username); err != nil {
		return nil, err
	}

	// Daemons start in parallel: each loads its config and keys independently.
	errs := make([]error, len(f.daemons))
	var wg sync.WaitGroup
	for i, d := range f.daemons {
		wg.Go(func() { errs[i] = d.start(opt.StartTimeout) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return f, err
	}
	return f, nil
}

// HostName is the inventory name of host index i (0-based): host-001 for 0.
func HostName(i int) string { return fmt.Sprintf("host-%03d", i+1) }

// HostIP is the loopback address of host index i (0-based): 127.0.1.1 for 0. The
// 127.0.0.x block is left alone because other services on the machine live there.
func HostIP(i int) string { return fmt.Sprintf("127.0.%d.%d", 1+i/250, 1+i%250) }

// Addr is host index i's address as host:port.
func (f *Fleet) Addr(i int) string {
	return net.JoinHostPort(f.Hosts[i].Address, strconv.Itoa(f.Port))
}

// HostKey is the ed25519 host key of the daemon serving host index i.
func (f *Fleet) HostKey(i int) ssh.PublicKey { return f.hostDaemon[i].hostKey }

// RSAHostKey is the RSA host key of the daemon serving host index i, nil unless
// Options.RSAHostKey was set.
func (f *Fleet) RSAHostKey(i int) ssh.PublicKey { return f.hostDaemon[i].rsaKey }

// DaemonLog returns what the daemon serving host index i wrote to stderr (the tail).
func (f *Fleet) DaemonLog(i int) string {
	d := f.hostDaemon[i]
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stderr.String()
}

// KillDaemonOf kills (SIGKILL) the daemon serving host index i together with every
// connection it forked and the commands running in them, as a crashed or powered-off
// host would. The other hosts of that daemon go down with it.
func (f *Fleet) KillDaemonOf(i int) error { return f.hostDaemon[i].kill() }

// RestartDaemonOf starts the daemon serving host index i again (after KillDaemonOf)
// with the same config and keys, and waits until it listens.
func (f *Fleet) RestartDaemonOf(i int) error {
	d := f.hostDaemon[i]
	if err := d.kill(); err != nil {
		return err
	}
	return d.start(20 * time.Second)
}

// FreezeDaemonOf stops (SIGSTOP) the daemon serving host index i and every process it
// forked. The kernel keeps the TCP connections up but nothing answers on them: a hung
// host, which only keepalives can detect. ThawDaemonOf undoes it.
func (f *Fleet) FreezeDaemonOf(i int) error { return f.hostDaemon[i].signalTree(syscall.SIGSTOP) }

// ThawDaemonOf resumes (SIGCONT) a daemon frozen by FreezeDaemonOf.
func (f *Fleet) ThawDaemonOf(i int) error { return f.hostDaemon[i].signalTree(syscall.SIGCONT) }

// EstablishedConns counts the established TCP connections to host index i, read from
// the kernel's socket table (no connection of our own is made to count them).
func (f *Fleet) EstablishedConns(i int) (int, error) {
	socks, err := ReadTCPSockets(TCPEstablished)
	if err != nil {
		return 0, err
	}
	n := 0
	addr := f.Addr(i)
	for _, s := range socks {
		if s.State == TCPEstablished && s.Local == addr {
			n++
		}
	}
	return n, nil
}

func (f *Fleet) stop() {
	for _, d := range f.daemons {
		d.kill()
	}
}

// writeDaemonConfig writes the daemon's host keys and sshd_config.
func (f *Fleet) writeDaemonConfig(d *daemon, opt Options) error {
	var err error
	hostKeyPath := filepath.Join(f.Dir, fmt.Sprintf("sshd-%02d_ed25519", d.index))
	if d.hostKey, err = writeEd25519Key(hostKeyPath); err != nil {
		return err
	}
	var cfg strings.Builder
	// sshd picks the host key whose algorithm the client prefers; order does not matter
	// to it, but the RSA key comes first to make the intent obvious.
	if opt.RSAHostKey {
		rsaPath := filepath.Join(f.Dir, fmt.Sprintf("sshd-%02d_rsa", d.index))
		if d.rsaKey, err = writeRSAKey(rsaPath); err != nil {
			return err
		}
		fmt.Fprintf(&cfg, "HostKey %s\n", rsaPath)
	}
	fmt.Fprintf(&cfg, "HostKey %s\n", hostKeyPath)
	for _, a := range d.addrs {
		fmt.Fprintf(&cfg, "ListenAddress %s\n", a)
	}
	cfg.WriteString(sshdConfig(f.Dir, d.index, opt))
	if opt.ExtraSSHDConfig != "" {
		cfg.WriteString(opt.ExtraSSHDConfig)
		cfg.WriteString("\n")
	}
	d.cfgPath = filepath.Join(f.Dir, fmt.Sprintf("sshd-%02d.conf", d.index))
	return os.WriteFile(d.cfgPath, []byte(cfg.String()), 0o600)
}

// sshdConfig is the part of sshd_config shared by every daemon.
func sshdConfig(dir string, index int, opt Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "PidFile %s\n", filepath.Join(dir, fmt.Sprintf("sshd-%02d.pid", index)))
	fmt.Fprintf(&b, "AuthorizedKeysFile %s\n", filepath.Join(dir, "authorized_keys"))
	b.WriteString(`# The temp dir's permissions are not sshd's business here.
StrictModes no
# Tests run as root.
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
# A fan-out opens hundreds of connections at once from one source address; the default
# MaxStartups 10:30:100 resets them.
MaxStartups 10000:30:10000
PerSourceMaxStartups none
MaxSessions 100
PrintMotd no
PrintLastLog no
X11Forwarding no
LogLevel ERROR
`)
	// sshd takes the first SetEnv line only, so everything goes on one.
	//
	// The marker tags every process a session starts. sshd leaves a session's commands
	// running when the connection ends (and cannot signal them for root, whose sessions
	// run without privilege separation), and they are re-parented to init, out of reach
	// of a process-tree walk; the marker finds them at cleanup.
	fmt.Fprintf(&b, "SetEnv \"%s=%s\"", markerVar, marker(dir, index))
	if !opt.KeepBashrc {
		// Debian's bash sources ~/.bashrc for a non-interactive "bash -c" when SSH_CLIENT
		// is set and the shell level is below 2. root's ~/.bashrc here runs pyenv's init
		// (measured: 3 ms per command without it, 144 ms with it). With SHLVL=1 in the
		// session bash starts at level 2 and skips it; commands still run through the
		// user's login shell, unchanged otherwise (but $SHLVL reads 2).
		b.WriteString(" SHLVL=1")
	}
	b.WriteString("\n")
	return b.String()
}

// markerVar is set in every session of a fleet to the value of marker.
const markerVar = "TESTFLEET_DAEMON"

func marker(dir string, index int) string { return fmt.Sprintf("%s/sshd-%02d", dir, index) }

func (f *Fleet) writeKnownHosts() error {
	var b strings.Builder
	for i := range f.hostDaemon {
		d := f.hostDaemon[i]
		addr := d.addrs[i%hostsPerDaemon]
		if (i+1)%2 == 0 {
			fmt.Fprintf(&b, "%s %s", knownhosts.HashHostname(knownhosts.Normalize(addr)), ssh.MarshalAuthorizedKey(d.hostKey))
		} else {
			fmt.Fprintf(&b, "%s\n", knownhosts.Line([]string{addr}, d.hostKey))
		}
	}
	return os.WriteFile(f.KnownHosts, []byte(b.String()), 0o600)
}

func (f *Fleet) writeInventory(userName string) error {
	var b strings.Builder
	line := 1
	emit := func(format string, args ...any) {
		s := fmt.Sprintf(format, args...)
		line += strings.Count(s, "\n")
		b.WriteString(s)
	}
	emit("# opsconsole inventory for a loopback test fleet (internal/testfleet).\n\n")
	emit("[defaults]\nuser = %s\nidentity_files = [%s]\nknown_hosts = %s\nconnect_timeout = \"5s\"\n",
		tomlString(userName), tomlString(f.ClientKey), tomlString(f.KnownHosts))
	for i := range f.Hosts {
		h := &f.Hosts[i]
		emit("\n")
		h.Source = fmt.Sprintf("%s:%d", f.InventoryPath, line)
		emit("[[hosts]]\nname = %s\naddress = %s\nport = %d\ntransport = \"ssh\"\ntags = [%s]\ngroups = [%s]\n",
			tomlString(h.Name), tomlString(h.Address), h.Port, tomlString(h.Tags[0]), tomlString(h.Groups[0]))
	}
	return os.WriteFile(f.InventoryPath, []byte(b.String()), 0o600)
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// freePort finds a port that is free on every address. Checking each address matters:
// another fleet (another test package running in parallel) may hold the port on some.
func freePort(ips []string) (int, error) {
	for range 50 {
		l, err := net.Listen("tcp", net.JoinHostPort(ips[0], "0"))
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		ok := true
		for _, ip := range ips[1:] {
			l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return port, nil
		}
	}
	return 0, errors.New("no port free on every fleet address")
}

func (d *daemon) start(timeout time.Duration) error {
	d.mu.Lock()
	cmd := exec.Command(SSHD, "-D", "-e", "-f", d.cfgPath)
	// Its own process group, so a terminal's ^C to the test does not reach it first
	// and cleanup is in our hands.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	d.stderr = &tailBuffer{max: 64 << 10}
	cmd.Stderr = d.stderr
	if err := cmd.Start(); err != nil {
		d.mu.Unlock()
		return fmt.Errorf("sshd %d: %w", d.index, err)
	}
	exited := make(chan struct{})
	d.cmd, d.exited = cmd, exited
	d.mu.Unlock()
	go func() {
		cmd.Wait()
		close(exited)
	}()
	if err := d.waitReady(exited, timeout); err != nil {
		d.kill()
		return fmt.Errorf("sshd %d (%s): %w\n%s", d.index, d.cfgPath, err, d.stderr.String())
	}
	return nil
}

// waitReady waits until every address of the daemon is listening and the daemon
// answers with an SSH banner.
//
// Listening is read from the kernel's socket table rather than by connecting: every
// accepted connection costs sshd a fork and re-exec (milliseconds of CPU each), which
// for a 500-host fleet would add seconds to start-up. The banner is then checked once,
// on the daemon's first address: one process serves all its addresses, so a banner on
// one proves the others (whose sockets we saw listening).
func (d *daemon) waitReady(exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	want := make(map[string]bool, len(d.addrs))
	for _, a := range d.addrs {
		want[a] = true
	}
	backoff := time.Millisecond
	for {
		select {
		case <-exited:
			return errors.New("exited during start-up")
		default:
		}
		socks, err := ReadTCPSockets(TCPListen)
		if err != nil {
			return err
		}
		listening := 0
		for _, s := range socks {
			if s.State == TCPListen && want[s.Local] {
				listening++
			}
		}
		if listening == len(want) {
			break
		}
		if strings.Contains(d.stderr.String(), "Bind to port") {
			return errors.New("could not bind every listen address")
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d addresses listening after %v", listening, len(want), timeout)
		}
		time.Sleep(backoff) // polling interval, not synchronisation: the loop checks state
		backoff = min(backoff*2, 20*time.Millisecond)
	}
	return readBanner(d.addrs[0], time.Until(deadline))
}

func readBanner(addr string, timeout time.Duration) error {
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("no SSH banner on %s: %w", addr, err)
	}
	if !strings.HasPrefix(line, "SSH-2.0-") {
		return fmt.Errorf("%s: unexpected banner %q", addr, line)
	}
	return nil
}

// kill kills the daemon and everything it forked. sshd puts every connection in its own
// session (setsid), so killing the daemon's process group would leave the connections
// and their commands running; the process tree is walked instead, and the daemon is
// stopped first so that it forks nothing new meanwhile.
func (d *daemon) kill() error {
	d.mu.Lock()
	cmd, exited := d.cmd, d.exited
	d.mu.Unlock()
	if cmd == nil {
		return nil
	}
	select {
	case <-exited:
	default:
		pid := cmd.Process.Pid
		syscall.Kill(pid, syscall.SIGSTOP)
		for _, p := range descendants(pid) {
			syscall.Kill(p, syscall.SIGKILL)
		}
		syscall.Kill(pid, syscall.SIGKILL)
		<-exited
	}
	// Commands of sessions that ended earlier, no longer below the daemon.
	for _, p := range markedProcesses(markerVar + "=" + d.marker) {
		syscall.Kill(p, syscall.SIGKILL)
	}
	return nil
}

func (d *daemon) signalTree(sig syscall.Signal) error {
	d.mu.Lock()
	cmd, exited := d.cmd, d.exited
	d.mu.Unlock()
	if cmd == nil {
		return errors.New("daemon not started")
	}
	select {
	case <-exited:
		return errors.New("daemon not running")
	default:
	}
	pid := cmd.Process.Pid
	if sig == syscall.SIGSTOP {
		// Stop the daemon before walking so that no child appears unseen.
		if err := syscall.Kill(pid, sig); err != nil {
			return err
		}
	}
	for _, p := range descendants(pid) {
		syscall.Kill(p, sig)
	}
	return syscall.Kill(pid, sig)
}

// markedProcesses lists the processes whose environment holds kv ("NAME=value").
func markedProcesses(kv string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	want := []byte(kv + "\x00")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil || p == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		if bytes.HasPrefix(env, want) || bytes.Contains(env, append([]byte{0}, want...)) {
			out = append(out, p)
		}
	}
	return out
}

// descendants lists every process below pid, read from /proc.
func descendants(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]int{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command name is in parentheses and may contain spaces; fields after the
		// last ')' are: state ppid ...
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		children[ppid] = append(children[ppid], p)
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

func writeEd25519Key(path string) (ssh.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	return writeKey(path, pub, priv)
}

func writeRSAKey(path string) (ssh.PublicKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	return writeKey(path, &priv.PublicKey, priv)
}

func writeKey(path string, pub, priv any) (ssh.PublicKey, error) {
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		return nil, err
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path+".pub", ssh.MarshalAuthorizedKey(sshPub), 0o644); err != nil {
		return nil, err
	}
	return sshPub, nil
}

// tailBuffer keeps the last max bytes written to it; safe for concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// WaitFor polls cond until it is true or timeout passes, for tests that wait on state
// owned by another process (the kernel's socket table, a daemon's process list), where
// there is nothing to block on.
func WaitFor(ctx context.Context, timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	backoff := time.Millisecond
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(backoff)
		backoff = min(backoff*2, 20*time.Millisecond)
	}
}
