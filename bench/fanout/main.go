// Command fanout times opsconsole's exec against parallel-ssh, pdsh and clush on a loopback
// sshd fleet, each at full fan-out and at its own default, plus a minimal x/crypto/ssh
// fan-out as the floor and a repeat command through opsconsole's already-open pool.
//
//	go run ./bench/fanout -sizes 100,500 -reps 3
//
// It prints each median and the ratio to opsconsole's first command.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/internal/testfleet"
	"github.com/opsconsole/opsconsole/sessions"
)

func main() {
	sizesFlag := flag.String("sizes", "100,500", "fleet sizes to time")
	reps := flag.Int("reps", 3, "runs per tool and size (the median is reported)")
	command := flag.String("command", "uptime", "the command every tool runs")
	kex := flag.String("peer-kex", "", "force this KexAlgorithms on the OpenSSH-based peers (e.g. curve25519-sha256)")
	defaults := flag.Bool("peer-defaults", true, "also time each peer at its default fan-out")
	withPeers := flag.Bool("peers", true, "time parallel-ssh, pdsh and clush too")
	flag.Parse()
	var sizes []int
	for _, s := range strings.Split(*sizesFlag, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			fatalf("bad size %q", s)
		}
		sizes = append(sizes, n)
	}
	maxN := 0
	for _, n := range sizes {
		maxN = max(maxN, n)
	}
	fmt.Fprintf(os.Stderr, "starting a loopback fleet of %d sshd hosts...\n", maxN)
	fl, stop, err := testfleet.StartMain(testfleet.Options{Hosts: maxN, StartTimeout: 2 * time.Minute})
	if err != nil {
		fatalf("fleet: %v", err)
	}
	defer stop()
	bin := filepath.Join(fl.Dir, "opsconsole")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/opsconsole").CombinedOutput(); err != nil {
		fatalf("build: %v\n%s", err, out)
	}
	b := &bench{fl: fl, bin: bin, cmd: *command, kex: *kex, reps: *reps, peers: *withPeers}
	fmt.Printf("fan-out of %q on a loopback sshd fleet, median of %d run(s), %d cores\n\n", *command, *reps, numCPU())
	for _, n := range sizes {
		b.size(n, *defaults)
	}
}

type bench struct {
	fl    *testfleet.Fleet
	bin   string
	cmd   string
	kex   string
	reps  int
	peers bool
}

type row struct {
	name string
	d    time.Duration
	err  error
}

func (b *bench) size(n int, defaults bool) {
	hosts := b.fl.Hosts[:n]
	inv := filepath.Join(b.fl.Dir, fmt.Sprintf("inventory-%d.toml", n))
	writeInventory(b.fl, inv, n)
	hostFile := filepath.Join(b.fl.Dir, fmt.Sprintf("hosts-%d.txt", n))
	var addrs, pssh []string
	for _, h := range hosts {
		addrs = append(addrs, h.Address)
		pssh = append(pssh, fmt.Sprintf("%s@%s:%d", h.User, h.Address, h.Port))
	}
	os.WriteFile(hostFile, []byte(strings.Join(pssh, "\n")+"\n"), 0o600)
	addrFile := filepath.Join(b.fl.Dir, fmt.Sprintf("addrs-%d.txt", n))
	os.WriteFile(addrFile, []byte(strings.Join(addrs, "\n")+"\n"), 0o600)
	sshOpts := []string{"-F", "/dev/null", "-o", "UserKnownHostsFile=" + b.fl.KnownHosts, "-o", "StrictHostKeyChecking=yes",
		"-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-i", b.fl.ClientKey, "-o", "ControlMaster=no",
		"-o", "ConnectTimeout=30"}
	if b.kex != "" {
		sshOpts = append(sshOpts, "-o", "KexAlgorithms="+b.kex)
	}
	port := strconv.Itoa(b.fl.Port)
	user := hosts[0].User
	nn := strconv.Itoa(n)

	var rows []row
	ops := b.median(func() error {
		return run(nil, b.bin, "exec", "--config", inv, "--concurrency", nn, "--format", "jsonl", "--", b.cmd)
	})
	rows = append(rows, row{"opsconsole exec", ops.d, ops.err})
	m := b.median(func() error { return minimalFanOut(b.fl, hosts, b.cmd) })
	rows = append(rows, row{"minimal x/crypto fan-out", m.d, m.err})
	var rep timing
	rep.d, rep.err = b.poolRepeat(inv, n)
	rows = append(rows, row{"opsconsole repeat (open pool)", rep.d, rep.err})

	peers := []struct {
		name string
		args func(fan string) (string, []string, []string)
		def  string
	}{
		{"parallel-ssh", func(fan string) (string, []string, []string) {
			a := []string{"-h", hostFile, "-p", fan, "-t", "0", "-i"}
			for _, o := range sshOpts {
				a = append(a, "-x", o)
			}
			return "parallel-ssh", append(a, b.cmd), nil
		}, "32"},
		{"pdsh", func(fan string) (string, []string, []string) {
			env := []string{"PDSH_SSH_ARGS=" + strings.Join(sshOpts, " ") + " -p " + port + " -l%u %h"}
			return "pdsh", []string{"-R", "ssh", "-l", user, "-f", fan, "-w", "^" + addrFile, b.cmd}, env
		}, "32"},
		{"clush", func(fan string) (string, []string, []string) {
			opts := strings.Join(sshOpts, " ") + " -p " + port
			return "clush", []string{"-l", user, "-f", fan, "-o", opts, "--hostfile", addrFile, b.cmd}, nil
		}, "64"},
	}
	if !b.peers {
		peers = nil
	}
	for _, p := range peers {
		if _, err := exec.LookPath(strings.Fields(p.name)[0]); err != nil {
			rows = append(rows, row{p.name, 0, fmt.Errorf("not installed")})
			continue
		}
		name, args, env := p.args(nn)
		r := b.median(func() error { return run(env, name, args...) })
		rows = append(rows, row{fmt.Sprintf("%s (fan-out %d)", p.name, n), r.d, r.err})
		if defaults && p.def != nn {
			name, args, env := p.args(p.def)
			r := b.median(func() error { return run(env, name, args...) })
			rows = append(rows, row{fmt.Sprintf("%s (default fan-out %s)", p.name, p.def), r.d, r.err})
		}
	}
	fmt.Printf("%d hosts\n", n)
	for _, r := range rows {
		if r.err != nil {
			fmt.Printf("  %-40s  error: %v\n", r.name, r.err)
			continue
		}
		ratio := float64(r.d) / float64(ops.d)
		fmt.Printf("  %-40s  %9s  %6.2fx opsconsole\n", r.name, r.d.Round(time.Millisecond), ratio)
	}
	fmt.Println()
}

type timing struct {
	d   time.Duration
	err error
}

func (b *bench) median(fn func() error) timing {
	var ds []time.Duration
	for i := 0; i < b.reps; i++ {
		start := time.Now()
		if err := fn(); err != nil {
			return timing{err: err}
		}
		ds = append(ds, time.Since(start))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return timing{d: ds[len(ds)/2]}
}

// poolRepeat connects the pool with one command, then times the same command again over
// the open connections: what the console pays for every command after the first.
func (b *bench) poolRepeat(inv string, n int) (time.Duration, error) {
	cfg, err := config.Load(config.LoadOptions{ConfigFile: inv, Env: os.Getenv})
	if err != nil {
		return 0, err
	}
	pool := sessions.NewPool(sessions.NewDialer(cfg.Hosts, cfg.Defaults))
	defer pool.Close()
	opt := sessions.FanOutOptions{Concurrency: n}
	if err := drain(pool.FanOut(context.Background(), cfg.Hosts, b.cmd, opt)); err != nil {
		return 0, err
	}
	var ds []time.Duration
	for i := 0; i < max(b.reps, 3); i++ {
		start := time.Now()
		if err := drain(pool.FanOut(context.Background(), cfg.Hosts, b.cmd, opt)); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(start))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2], nil
}

func drain(ch <-chan sessions.Result) error {
	var first error
	for r := range ch {
		if r.Outcome != sessions.OutcomeOK && first == nil {
			first = fmt.Errorf("%s: %s: %v", r.Host, r.Outcome, r.Err)
		}
	}
	return first
}

// minimalFanOut is the floor: plain x/crypto/ssh, one goroutine per host, no pool, no
// capping, no classification, the same strict known_hosts check.
func minimalFanOut(fl *testfleet.Fleet, hosts []config.Host, cmd string) error {
	keyPEM, err := os.ReadFile(fl.ClientKey)
	if err != nil {
		return err
	}
	signer, err := ssh.ParsePrivateKey(keyPEM)
	if err != nil {
		return err
	}
	hk, err := knownhosts.New(fl.KnownHosts)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(hosts))
	for _, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			addr := fmt.Sprintf("%s:%d", h.Address, h.Port)
			c, err := ssh.Dial("tcp", addr, &ssh.ClientConfig{User: h.User, Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
				HostKeyCallback: hk, HostKeyAlgorithms: []string{ssh.KeyAlgoED25519}, Timeout: 30 * time.Second})
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			s, err := c.NewSession()
			if err != nil {
				errs <- err
				return
			}
			if _, err := s.Output(cmd); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func run(env []string, name string, args ...string) error {
	c := exec.Command(name, args...)
	c.Env = append(os.Environ(), env...)
	out, err := c.CombinedOutput()
	if err != nil {
		tail := string(out)
		if len(tail) > 400 {
			tail = tail[len(tail)-400:]
		}
		return fmt.Errorf("%s: %v: %s", name, err, tail)
	}
	return nil
}

func writeInventory(fl *testfleet.Fleet, path string, n int) {
	var b strings.Builder
	fmt.Fprintf(&b, "[defaults]\nuser = %q\nidentity_files = [%q]\nknown_hosts = %q\nconnect_timeout = \"30s\"\n",
		fl.Hosts[0].User, fl.ClientKey, fl.KnownHosts)
	for _, h := range fl.Hosts[:n] {
		fmt.Fprintf(&b, "\n[[hosts]]\nname = %q\naddress = %q\nport = %d\n", h.Name, h.Address, h.Port)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		fatalf("%v", err)
	}
}

func numCPU() int {
	out, err := exec.Command("nproc").Output()
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return n
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "fanout: "+format+"\n", a...)
	os.Exit(1)
}
