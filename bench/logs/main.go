// Command logs measures `opsconsole logs --follow` end to end on a loopback sshd fleet,
// beside the same stream gathered by parallel-ssh -P (and clush) running tail -F.
//
//	go run ./bench/logs -hosts 100 -rate 1000 -duration 30s
//
// For each tool, in turn, on fresh files:
//
//  1. the tool starts following every host's file (host i's file is named after its
//     address, so one command serves the peers too);
//  2. a writer per host appends -rate lines/s for -duration, each line carrying its host
//     and a sequence number, so that loss and duplication can be checked line by line;
//  3. the tool runs -grace longer to drain, then stops (opsconsole by --duration, the
//     peers by their timeout);
//  4. lines delivered are counted against lines written (missing, duplicated, garbled),
//     with the tool's CPU time (its rusage, children included) and peak memory (the
//     largest process, and the sum over its process tree, sampled).
//
// Run it from the module root: it builds ./cmd/opsconsole.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/opsconsole/opsconsole/bench/internal/loadgen"
	"github.com/opsconsole/opsconsole/bench/internal/proc"
	"github.com/opsconsole/opsconsole/internal/testfleet"
)

func main() {
	nHosts := flag.Int("hosts", 100, "loopback hosts")
	rate := flag.Int("rate", 1000, "lines per second each host's writer appends")
	duration := flag.Duration("duration", 30*time.Second, "how long the writers write")
	settle := flag.Duration("settle", 3*time.Second, "time the tool gets to connect before writing starts")
	grace := flag.Duration("grace", 5*time.Second, "time the tool gets to drain after writing stops")
	peers := flag.String("peers", "pssh,clush", "peers to time after opsconsole (comma list of pssh, clush; empty for none)")
	stderrFile := flag.String("stderr", "", "save opsconsole's stderr to this file (with GODEBUG=gctrace=1, say)")
	flag.Parse()
	if *nHosts < 1 || *rate < 1 || *duration <= 0 {
		fatalf("bad flags")
	}

	fmt.Fprintf(os.Stderr, "starting a loopback fleet of %d sshd hosts...\n", *nHosts)
	fl, stop, err := testfleet.StartMain(testfleet.Options{Hosts: *nHosts, StartTimeout: 2 * time.Minute})
	if err != nil {
		fatalf("fleet: %v", err)
	}
	defer stop()
	bin := filepath.Join(fl.Dir, "opsconsole")
	if err := build(bin); err != nil {
		fatalf("build: %v", err)
	}
	b := &bench{fl: fl, bin: bin, rate: *rate, duration: *duration, settle: *settle, grace: *grace, stderrFile: *stderrFile}
	fmt.Printf("log streaming: %d hosts × %d lines/s for %v (+%v settle, +%v drain); %d CPUs, %s\n\n",
		*nHosts, *rate, *duration, *settle, *grace, runtime.NumCPU(), runtime.Version())
	var rows []result
	rows = append(rows, b.run("opsconsole logs", b.opsconsole))
	for _, p := range strings.Split(*peers, ",") {
		switch strings.TrimSpace(p) {
		case "":
		case "pssh":
			rows = append(rows, b.run("parallel-ssh -P", b.pssh))
		case "clush":
			rows = append(rows, b.run("clush", b.clush))
		default:
			fatalf("unknown peer %q", p)
		}
	}
	table(rows)
}

// build builds the console under test.
func build(bin string) error {
	out, err := exec.Command("go", "build", "-o", bin, "./cmd/opsconsole").CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v\n%s", err, out)
	}
	return nil
}

type bench struct {
	fl                      *testfleet.Fleet
	bin                     string
	rate                    int
	duration, settle, grace time.Duration
	round                   int
	lastSeq                 []int
	stderrFile              string
}

// result is one tool's figures.
type result struct {
	name                             string
	written, delivered, missing, dup int
	garbled, markers                 int
	cpu                              time.Duration
	maxRSS, treeRSS                  int64 // bytes
	wall                             time.Duration
	err                              error
}

// starter starts a tool following every host's file in dir for total; its stdout is
// the stream to count.
type starter func(dir string, total time.Duration) (*exec.Cmd, lineParser, error)

// lineParser finds the payload of one output line of a tool ("" for lines that carry
// none, such as markers) and says whether it was an engine marker.
type lineParser func(line []byte) (payload []byte, marker bool)

func (b *bench) run(name string, start starter) result {
	b.round++
	dir := filepath.Join(b.fl.Dir, fmt.Sprintf("logs-%d", b.round))
	os.MkdirAll(dir, 0o755)
	for _, h := range b.fl.Hosts {
		if err := os.WriteFile(filepath.Join(dir, h.Address+".log"), nil, 0o644); err != nil {
			fatalf("%v", err)
		}
	}
	total := b.settle + b.duration + b.grace
	r := result{name: name}
	cmd, parse, err := start(dir, total)
	if err != nil {
		r.err = err
		return r
	}
	stdout, pw, err := os.Pipe()
	if err != nil {
		r.err = err
		return r
	}
	// A deep pipe, so that a moment of scheduling delay in this harness does not stall
	// the tool on its writes (the goroutine dumps of slow runs showed just that).
	syscall.Syscall(syscall.SYS_FCNTL, stdout.Fd(), 1031 /* F_SETPIPE_SZ */, 1<<20)
	cmd.Stdout = pw
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		r.err = err
		return r
	}
	pw.Close()
	fmt.Fprintf(os.Stderr, "%s: running for %v...\n", name, total)
	cnt := newCounter(b.fl)
	counted := make(chan struct{})
	go func() {
		defer close(counted)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			payload, marker := parse(sc.Bytes())
			if marker {
				cnt.markers++
				continue
			}
			cnt.add(payload)
		}
	}()
	rss := sampleRSS(cmd.Process.Pid)

	time.Sleep(b.settle)
	written := b.write(dir)
	<-counted
	werr := cmd.Wait()
	rssPeak := rss()
	r.wall = time.Since(began)
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	r.maxRSS = ru.Maxrss * 1024
	r.treeRSS = rssPeak
	r.written = written
	r.delivered, r.missing, r.dup, r.garbled, r.markers = cnt.result(b.fl, b.lastSeq)
	if b.stderrFile != "" && name == "opsconsole logs" {
		os.WriteFile(b.stderrFile, stderr.Bytes(), 0o644)
	}
	if werr != nil && name == "opsconsole logs" {
		r.err = fmt.Errorf("%v: %s", werr, lastLines(stderr.String(), 5))
	}
	fmt.Fprintf(os.Stderr, "%s: %s\n", name, lastLines(stderr.String(), 3))
	return r
}

// write runs one writer per host at the rate for the duration and returns the lines
// written; b.lastSeq holds each host's last sequence number.
func (b *bench) write(dir string) int {
	b.lastSeq = make([]int, len(b.fl.Hosts))
	var wg sync.WaitGroup
	start := time.Now()
	for i, h := range b.fl.Hosts {
		wg.Go(func() {
			seq, err := loadgen.WriteLines(filepath.Join(dir, h.Address+".log"), h.Name, b.rate, start, b.duration)
			if err != nil {
				fatalf("%v", err)
			}
			b.lastSeq[i] = seq
		})
	}
	wg.Wait()
	n := 0
	for _, s := range b.lastSeq {
		n += s
	}
	return n
}

// counter checks delivered lines against written ones, per host and sequence number.
type counter struct {
	index   map[string]int
	seen    [][]uint8
	garbled int
	markers int
}

func newCounter(fl *testfleet.Fleet) *counter {
	c := &counter{index: map[string]int{}, seen: make([][]uint8, len(fl.Hosts))}
	for i, h := range fl.Hosts {
		c.index[h.Name] = i
	}
	return c
}

// add counts one payload: "<stamp> INFO host-001 seq=N …". It is written to cost the
// harness as little as possible, so that it never becomes the slow reader it would
// then be measuring.
func (c *counter) add(p []byte) {
	i := bytes.Index(p, []byte(" INFO "))
	if i < 0 {
		c.garbled++
		return
	}
	p = p[i+6:]
	sp := bytes.IndexByte(p, ' ')
	if sp < 0 || !bytes.HasPrefix(p[sp+1:], []byte("seq=")) {
		c.garbled++
		return
	}
	h, ok := c.index[string(p[:sp])]
	n := 0
	for _, d := range p[sp+5:] {
		if d < '0' || d > '9' {
			break
		}
		n = n*10 + int(d-'0')
	}
	if !ok || n < 1 || n > 1e8 {
		c.garbled++
		return
	}
	for len(c.seen[h]) < n {
		c.seen[h] = append(c.seen[h], 0)
	}
	if c.seen[h][n-1] < 255 {
		c.seen[h][n-1]++
	}
}

func (c *counter) result(fl *testfleet.Fleet, last []int) (delivered, missing, dup, garbled, markers int) {
	for i := range fl.Hosts {
		for n := 0; n < last[i]; n++ {
			v := uint8(0)
			if n < len(c.seen[i]) {
				v = c.seen[i][n]
			}
			switch {
			case v == 0:
				missing++
			case v > 1:
				dup += int(v) - 1
			}
			delivered += int(v)
		}
	}
	return delivered, missing, dup, c.garbled, c.markers
}

// opsconsole runs `opsconsole logs --follow --format jsonl` over a config naming the
// fleet's inventory and one [[logs]] source.
func (b *bench) opsconsole(dir string, total time.Duration) (*exec.Cmd, lineParser, error) {
	inv, err := os.ReadFile(b.fl.InventoryPath)
	if err != nil {
		return nil, nil, err
	}
	cfg := filepath.Join(dir, "config.toml")
	src := fmt.Sprintf("\n[[logs]]\nname = \"bench\"\nhosts = \"all\"\npath = %q\n", filepath.Join(dir, "{{.Address}}.log"))
	if err := os.WriteFile(cfg, append(inv, src...), 0o600); err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(b.bin, "logs", "--config", cfg, "--follow", "--format", "jsonl", "--lines", "all",
		"--duration", total.String())
	cmd.Env = append(os.Environ(), "HOME="+dir)
	rawKey := []byte(`"raw":"`)
	return cmd, func(line []byte) ([]byte, bool) {
		// "raw" is the last member but for "marker" and "flag": search from the end.
		i := bytes.LastIndex(line, rawKey)
		if i < 0 {
			return line, false
		}
		rest := line[i+len(rawKey):]
		j := bytes.IndexByte(rest, '"')
		if j >= 0 && bytes.Contains(rest[j:], []byte(`"marker":"`)) {
			return nil, true
		}
		if j >= 0 {
			rest = rest[:j]
		}
		return rest, false
	}, nil
}

// The peers run the same tail on every host; the file is picked by the address the
// connection arrived on.
const peerTail = `tail -F -n +1 %s/$(echo $SSH_CONNECTION | cut -d" " -f3).log`

func (b *bench) sshOptions() []string {
	return []string{"-o", "IdentityFile=" + b.fl.ClientKey, "-o", "UserKnownHostsFile=" + b.fl.KnownHosts,
		"-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ServerAliveInterval=15"}
}

// prefixed parses "host: payload" lines, as both peers print.
func prefixed(line []byte) ([]byte, bool) {
	if i := bytes.Index(line, []byte(": ")); i >= 0 {
		return line[i+2:], false
	}
	return line, false
}

func (b *bench) pssh(dir string, total time.Duration) (*exec.Cmd, lineParser, error) {
	hostsFile := filepath.Join(dir, "pssh-hosts")
	var hb strings.Builder
	for _, h := range b.fl.Hosts {
		fmt.Fprintf(&hb, "%s@%s:%d\n", h.User, h.Address, h.Port)
	}
	if err := os.WriteFile(hostsFile, []byte(hb.String()), 0o600); err != nil {
		return nil, nil, err
	}
	args := []string{"-P", "-h", hostsFile, "-p", strconv.Itoa(len(b.fl.Hosts)), "-t", strconv.Itoa(int(total.Seconds()))}
	opts := b.sshOptions()
	for i := 1; i < len(opts); i += 2 {
		args = append(args, "-O", opts[i])
	}
	args = append(args, fmt.Sprintf(peerTail, dir))
	return exec.Command("parallel-ssh", args...), prefixed, nil
}

func (b *bench) clush(dir string, total time.Duration) (*exec.Cmd, lineParser, error) {
	var names []string
	for _, h := range b.fl.Hosts {
		names = append(names, h.Address)
	}
	sshOpts := fmt.Sprintf("-p %d %s", b.fl.Port, strings.Join(b.sshOptions(), " "))
	args := []string{"-w", strings.Join(names, ","), "-l", b.fl.Hosts[0].User, "-f", strconv.Itoa(len(names)),
		"-u", strconv.Itoa(int(total.Seconds())), "-o", sshOpts, fmt.Sprintf(peerTail, dir)}
	cmd := exec.Command("clush", args...)
	cmd.Env = append(os.Environ(), "HOME="+dir) // no user clush.conf
	return cmd, prefixed, nil
}

// sampleRSS samples the summed resident memory of pid's process tree every 100 ms and
// returns a function that stops and reports the peak, in bytes.
func sampleRSS(pid int) func() int64 {
	var peak int64
	stop := proc.Poll(100*time.Millisecond, func(time.Time) {
		sum := int64(0)
		for _, p := range append([]int{pid}, proc.Descendants(pid)...) {
			sum += rssOf(p)
		}
		peak = max(peak, sum)
	})
	return func() int64 {
		stop()
		return peak
	}
}

func rssOf(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func table(rows []result) {
	fmt.Printf("\n%-16s %10s %10s %8s %6s %8s %8s %10s %13s %10s %11s\n",
		"tool", "written", "delivered", "missing", "dup", "garbled", "markers", "CPU", "CPU/1M lines", "max RSS", "tree RSS")
	for _, r := range rows {
		if r.err != nil && r.delivered == 0 {
			fmt.Printf("%-16s error: %v\n", r.name, r.err)
			continue
		}
		per := time.Duration(0)
		if r.delivered > 0 {
			per = time.Duration(float64(r.cpu) * 1e6 / float64(r.delivered))
		}
		fmt.Printf("%-16s %10d %10d %8d %6d %8d %8d %10s %13s %8.1fMB %9.1fMB\n",
			r.name, r.written, r.delivered, r.missing, r.dup, r.garbled, r.markers,
			r.cpu.Round(10*time.Millisecond), per.Round(10*time.Millisecond),
			float64(r.maxRSS)/(1<<20), float64(r.treeRSS)/(1<<20))
		if r.err != nil {
			fmt.Printf("%-16s (exited: %v)\n", "", r.err)
		}
	}
	fmt.Println("\nCPU is the tool's own (user+sys, children included), not the hosts' sshd and tail;" +
		" max RSS is its largest process, tree RSS the peak sum over its processes.\n" +
		"garbled counts output lines that are not one whole log line: parallel-ssh -P prints what each" +
		" read returned, so a line split between reads comes out as two broken ones (its own notices count too).")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench/logs: "+format+"\n", args...)
	os.Exit(1)
}
