// Command keys measures whether the console keeps answering keys within a frame while
// its Logs pane streams a loopback fleet's logs.
//
//	go run ./bench/keys -hosts 100 -rate 1000 -duration 30s
//
// The console runs as a person runs it: the TUI, in a pseudo-terminal this command opens
// itself (160x48, TERM=xterm-256color, answering the terminal queries the console sends
// at start as a terminal would), over a config naming the fleet's inventory, one
// [[logs]] source following a file per host (host i's file is named after its address,
// as in bench/logs) and the health thresholds off. A reader drains the terminal
// continuously, so the console never blocks on its output, and notes when given byte
// strings appear in it.
//
// Once every stream is up, in two phases, idle (nothing written) and streaming (a writer
// per host appends -rate lines/s for -duration), "?" is pressed every -every (with
// jitter, so presses do not lock to the renderer's ticks) to open the full help and
// pressed again to close it. A press's latency is from the key written to the terminal
// to the first bytes of the frame that answers it: the help line's "close help" when the
// help opens, the Logs pane's "● following" when it closes. Bubble Tea repaints only the
// lines that changed; both texts sit on lines that every toggle rewrites, and neither is
// on screen in the other state, so the first sighting after a press is its frame.
//
// It reports the latency percentiles of each phase against the frame budget; the
// console's CPU time, the time its threads waited for a CPU, what the rest of the
// machine used, and its peak memory; the lines written; how far behind the writers the
// pane's newest line was (the highest seq= drawn), and when the last one was drawn (the
// proof the pane received the stream); and the load average.
//
// The fleet shares the machine with the console, which remote hosts would not: with
// -fleet-idle its sshd and tail run under SCHED_IDLE. -control times a minimal Bubble
// Tea program in the console's place while `opsconsole logs --follow` consumes the same
// stream: the latency the machine's load alone costs. -bin times a console built
// elsewhere (a fix, say).
//
// For investigation, OPSCONSOLE_BENCH_PERF=FILE has perf record the console's CPU
// profile (call graphs) into FILE during the streaming phase, and
// OPSCONSOLE_BENCH_KEYLOG=FILE logs every press in CLOCK_MONOTONIC nanoseconds, to be
// matched with uprobes recorded by `perf record -k CLOCK_MONOTONIC`.
//
// Run it from the module root: it builds ./cmd/opsconsole.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"golang.org/x/sys/unix"

	"github.com/opsconsole/opsconsole/bench/internal/loadgen"
	"github.com/opsconsole/opsconsole/bench/internal/proc"
	"github.com/opsconsole/opsconsole/internal/testfleet"
)

// frameBudget is one frame of a 60 Hz display: a key answered within it shows on the
// next frame the screen draws. (The console's renderer runs at 120 frames a second, so
// its own tick costs at most half of it; the control's runs at Bubble Tea's default 60.)
const frameBudget = time.Second / 60

// The markers, and the key that toggles the help.
var (
	toggleKey = []byte("?")
	// helpShown is on the help line only while the help overlay is open ("esc close
	// help"); the help line is rewritten on every toggle.
	helpShown = []byte("close help")
	// paneShown is the Logs pane's status bar while it follows; the help overlay
	// covers the status bar, so the row is rewritten when the help closes.
	paneShown = []byte("● following")
	// consoleUp is the header's application name: the first frame.
	consoleUp = []byte("opsconsole")
)

func main() {
	if v := os.Getenv(floorEnv); v != "" {
		runFloor(v)
		return
	}
	nHosts := flag.Int("hosts", 100, "loopback hosts")
	rate := flag.Int("rate", 1000, "lines per second each host's writer appends")
	duration := flag.Duration("duration", 30*time.Second, "how long the writers write (the streaming phase)")
	idle := flag.Duration("idle", 15*time.Second, "how long keys are timed before the writers start")
	warmup := flag.Duration("warmup", 2*time.Second, "time the stream runs before keys are timed in the streaming phase")
	every := flag.Duration("every", 300*time.Millisecond, "mean pause between presses (uniform within ±1/3)")
	cols := flag.Int("cols", 160, "terminal columns")
	rows := flag.Int("rows", 48, "terminal rows")
	rawFile := flag.String("raw", "", "save everything the console wrote to the terminal to this file")
	fleetIdle := flag.Bool("fleet-idle", false, "run the fleet's sshd daemons, and every session they start, under SCHED_IDLE:\n"+
		"they get the CPU the console and the writers leave, as if the hosts were remote")
	control := flag.Bool("control", false, "time a minimal Bubble Tea program (this command, drawing the same markers) instead of the\n"+
		"console, while `opsconsole logs --follow` consumes the same stream: the machine's load without the console's own work")
	binFlag := flag.String("bin", "", "time this console binary instead of building ./cmd/opsconsole (a build with a fix, say)")
	flag.Parse()
	if *nHosts < 1 || *rate < 1 || *duration <= *warmup || *idle <= 0 || *every <= 0 || *cols < 60 || *rows < 16 {
		fatalf("bad flags")
	}

	fmt.Fprintf(os.Stderr, "starting a loopback fleet of %d sshd hosts...\n", *nHosts)
	fl, stop, err := testfleet.StartMain(testfleet.Options{Hosts: *nHosts, StartTimeout: 2 * time.Minute})
	if err != nil {
		fatalf("fleet: %v", err)
	}
	atExit(stop)
	bin := *binFlag
	if bin == "" {
		bin = filepath.Join(fl.Dir, "opsconsole")
		if out, err := exec.Command("go", "build", "-o", bin, "./cmd/opsconsole").CombinedOutput(); err != nil {
			fatalf("build: %v\n%s", err, out)
		}
	}
	if *fleetIdle {
		if err := schedIdle(); err != nil {
			fatalf("fleet scheduling: %v", err)
		}
	}
	dir := filepath.Join(fl.Dir, "keys")
	cfg, err := writeConfig(fl, dir)
	if err != nil {
		fatalf("%v", err)
	}

	b := &bench{fl: fl, dir: dir, rate: *rate, every: *every}
	allUp := []byte(fmt.Sprintf("● %s streaming", thousands(*nHosts)))
	argv := []string{bin, "--config", cfg, "--theme", "dark", "--no-record"}
	var env []string
	var consumer *exec.Cmd
	if *control {
		self, err := os.Executable()
		if err != nil {
			fatalf("%v", err)
		}
		argv, env = []string{self}, []string{floorEnv + "=" + thousands(*nHosts)}
		if consumer, err = startConsumer(bin, cfg, dir); err != nil {
			fatalf("opsconsole logs: %v", err)
		}
		atExit(func() { consumer.Process.Kill(); consumer.Wait() })
	}
	launched := time.Now()
	t, watched, err := startConsole(argv, env, dir, *cols, *rows, *rawFile, consoleUp, allUp)
	if err != nil {
		fatalf("console: %v", err)
	}
	if consumer != nil {
		t.others = []int{consumer.Process.Pid}
	}
	b.t = t
	atExit(t.stop)
	if _, err := t.wait(watched[string(consoleUp)], 30*time.Second); err != nil {
		fatalf("no first frame: %v", err)
	}
	firstFrame := time.Since(launched)
	if _, err := t.press([]byte("3"), paneShown, 10*time.Second); err != nil {
		fatalf("the Logs pane did not open: %v", err)
	}
	if _, err := t.wait(watched[string(allUp)], 3*time.Minute); err != nil {
		fatalf("not every stream came up: %v", err)
	}
	if consumer != nil {
		// The minimal program claims every stream at once; give the consumer's the
		// time the console's take.
		time.Sleep(5 * time.Second)
	}
	streamsUp := time.Since(launched)
	fmt.Fprintf(os.Stderr, "console up: first frame %v, all %d streams up %v after launch\n",
		firstFrame.Round(time.Millisecond), *nHosts, streamsUp.Round(time.Millisecond))
	time.Sleep(2 * time.Second) // let the connection round's work settle

	fmt.Fprintf(os.Stderr, "idle phase: %v...\n", *idle)
	loadIdle := loadavg()
	idleStart := t.snap()
	idleRes := b.toggle("idle", time.Now().Add(*idle))
	idleRes.usage = idleStart.to(t.snap())

	fmt.Fprintf(os.Stderr, "streaming phase: %d hosts × %d lines/s for %v...\n", *nHosts, *rate, *duration)
	var prof *exec.Cmd
	if f := os.Getenv("OPSCONSOLE_BENCH_PERF"); f != "" {
		prof = exec.Command("perf", "record", "-F", "499", "-g", "-p", strconv.Itoa(t.cmd.Process.Pid), "-o", f)
		prof.Stdout, prof.Stderr = os.Stderr, os.Stderr
		if err := prof.Start(); err != nil {
			fatalf("perf: %v", err)
		}
	}
	load0 := loadavg()
	streamStart := t.snap()
	w := b.startWriters(*duration)
	time.Sleep(*warmup)
	peakRSS := t.sampleRSS()
	lagStop := t.sampleLag(w, *rate)
	streamRes := b.toggle("streaming", w.start.Add(*duration))
	lags := lagStop()
	written := w.wait()
	streamRes.usage = streamStart.to(t.snap())
	streamRes.usage.rss = peakRSS()
	load1 := loadavg()
	if prof != nil {
		prof.Process.Signal(os.Interrupt)
		prof.Wait()
	}
	// The pane has caught up when the writers' last sequence number is drawn.
	var drain time.Duration
	var drainErr error
	if !*control {
		var lastAt time.Time
		if lastAt, drainErr = t.awaitSeq(w.last, 60*time.Second); drainErr == nil {
			drain = lastAt.Sub(w.end)
		}
	}

	t.quit()
	r := report{
		hosts: *nHosts, rate: *rate, fleetIdle: *fleetIdle, control: *control, commit: commit(), duration: *duration, cols: *cols, rows: *rows,
		firstFrame: firstFrame, streamsUp: streamsUp,
		idle: idleRes, stream: streamRes, hwmBefore: streamStart.hwm,
		written: written, last: w.last, maxSeq: t.maxSeqSeen(), drain: drain, drainErr: drainErr,
		lags: lags, loads: [3]string{loadIdle, load0, load1},
	}
	r.print()
	runExit()
}

// writeConfig writes the console's config: the fleet's inventory, one [[logs]] source over
// a file per host in dir (created empty), and the health thresholds off.
func writeConfig(fl *testfleet.Fleet, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for _, h := range fl.Hosts {
		if err := os.WriteFile(filepath.Join(dir, h.Address+".log"), nil, 0o644); err != nil {
			return "", err
		}
	}
	inv, err := os.ReadFile(fl.InventoryPath)
	if err != nil {
		return "", err
	}
	// Handshakes on a busy two-core machine can take longer than the inventory's 5 s.
	src := strings.Replace(string(inv), `connect_timeout = "5s"`, `connect_timeout = "120s"`, 1)
	src += fmt.Sprintf("\n[[logs]]\nname = \"bench\"\nhosts = \"all\"\npath = %q\n", filepath.Join(dir, "{{.Address}}.log"))
	// Thresholds off, so the fleet pane's health never flags the loaded loopback hosts
	// and the header counts reachability only (as bench/console does).
	src += "\n[thresholds]\ncpu_warn = 0\ncpu_crit = 0\nmem_warn = 0\nmem_crit = 0\ndisk_warn = 0\ndisk_crit = 0\nload_warn = 0\nload_crit = 0\n"
	cfg := filepath.Join(dir, "config.toml")
	return cfg, os.WriteFile(cfg, []byte(src), 0o600)
}

type bench struct {
	fl    *testfleet.Fleet
	dir   string
	rate  int
	every time.Duration
	t     *term
}

// phase is one phase's presses.
type phase struct {
	name        string
	open, close []time.Duration
	usage       usage
}

// toggle presses the help key until the deadline, alternately opening and closing the
// help, and times each press. It ends with the help closed.
func (b *bench) toggle(name string, until time.Time) phase {
	p := phase{name: name}
	open := false
	for open || time.Now().Before(until) {
		marker := helpShown
		if open {
			marker = paneShown
		}
		d, err := b.t.press(toggleKey, marker, 30*time.Second)
		if err != nil {
			fatalf("%s phase: no frame answered a press within 30s (waiting for %q): %v", name, marker, err)
		}
		if open {
			p.close = append(p.close, d)
		} else {
			p.open = append(p.open, d)
		}
		open = !open
		time.Sleep(jitter(b.every))
	}
	return p
}

// jitter is d ± a third, uniformly.
func jitter(d time.Duration) time.Duration {
	lo := d * 2 / 3
	return lo + rand.N(d*2/3+1)
}

// writers append every host's lines; last is every host's last sequence number (all
// hosts write the same count).
type writers struct {
	start time.Time
	wg    sync.WaitGroup
	mu    sync.Mutex
	lines int
	last  int
	end   time.Time // the last write
}

// startWriters starts one writer per host appending "<stamp> INFO <host> seq=N …" lines
// to its file at the rate for the duration, as bench/logs does.
func (b *bench) startWriters(duration time.Duration) *writers {
	w := &writers{start: time.Now()}
	for _, h := range b.fl.Hosts {
		w.wg.Go(func() {
			seq, err := loadgen.WriteLines(filepath.Join(b.dir, h.Address+".log"), h.Name, b.rate, w.start, duration)
			if err != nil {
				fatalf("%v", err)
			}
			w.mu.Lock()
			w.lines += seq
			w.last = seq
			w.end = time.Now() // the last write of the last writer
			w.mu.Unlock()
		})
	}
	return w
}

// wait waits for the writers and returns the lines written.
func (w *writers) wait() int {
	w.wg.Wait()
	return w.lines
}

// term is the console running in a pseudo-terminal, and what has been seen of its output.
type term struct {
	cmd      *exec.Cmd
	others   []int // processes counted with the console (the control's consumer)
	master   *os.File
	exited   chan struct{}
	raw      *bufio.Writer
	rawF     *os.File
	done     chan struct{} // the reader has stopped
	stopOnce sync.Once

	mu      sync.Mutex
	total   int64  // bytes read so far
	carry   []byte // the end of what was read, for matches across reads
	waiters []*waiter
	// maxSeq is the highest "seq=N" drawn so far, first seen at maxSeqAt.
	maxSeq   int
	maxSeqAt time.Time
}

// waiter is a marker awaited in the bytes after offset after.
type waiter struct {
	marker []byte
	after  int64
	seen   chan time.Time
}

// carryLen is how many bytes of one read are kept to find a marker split across reads.
const carryLen = 256

// startConsole opens a pseudo-terminal of cols x rows and starts argv on it, with env
// added to the environment. The markers in watch are looked for from the first byte on.
func startConsole(argv, env []string, home string, cols, rows int, rawFile string, watch ...[]byte) (*term, map[string]*waiter, error) {
	master, slave, err := openPTY(cols, rows)
	if err != nil {
		return nil, nil, err
	}
	defer slave.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(append(childEnv(), "HOME="+home, "TERM=xterm-256color"), env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	t := &term{cmd: cmd, master: master, exited: make(chan struct{}), done: make(chan struct{})}
	if rawFile != "" {
		if t.rawF, err = os.Create(rawFile); err != nil {
			master.Close()
			return nil, nil, err
		}
		t.raw = bufio.NewWriterSize(t.rawF, 1<<20)
	}
	watched := map[string]*waiter{}
	for _, m := range watch {
		watched[string(m)] = t.register(m)
	}
	if err := cmd.Start(); err != nil {
		master.Close()
		return nil, nil, err
	}
	go func() {
		cmd.Wait()
		close(t.exited)
	}()
	go t.read()
	return t, watched, nil
}

// startConsumer runs `opsconsole logs --follow` over the config, its output thrown away:
// the control's stream consumer.
func startConsumer(bin, cfg, home string) (*exec.Cmd, error) {
	cmd := exec.Command(bin, "logs", "--config", cfg, "--follow", "--format", "jsonl", "--duration", "1h")
	cmd.Env = append(childEnv(), "HOME="+home)
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	defer devNull.Close()
	cmd.Stdout, cmd.Stderr = devNull, devNull
	return cmd, cmd.Start()
}

// childEnv is this process's environment without what would change how the console
// looks or where it keeps state.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "HOME", k == "TERM", k == "COLORTERM", k == "NO_COLOR", k == "COLUMNS", k == "LINES",
			k == "TMUX", k == "SSH_AUTH_SOCK", strings.HasPrefix(k, "XDG_"), strings.HasPrefix(k, "OPSCONSOLE_"):
			continue
		}
		env = append(env, kv)
	}
	return env
}

// openPTY opens a pseudo-terminal pair: the master for this process, the slave for the
// console, sized cols x rows.
func openPTY(cols, rows int) (master, slave *os.File, err error) {
	mfd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	// A blocking descriptor: the reader has a thread of its own.
	master = os.NewFile(uintptr(mfd), "/dev/ptmx")
	if err := unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("unlockpt: %w", err)
	}
	n, err := unix.IoctlGetInt(mfd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("ptsname: %w", err)
	}
	sfd, err := unix.Open("/dev/pts/"+strconv.Itoa(n), unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	if err := unix.IoctlSetWinsize(sfd, unix.TIOCSWINSZ, &unix.Winsize{Row: uint16(rows), Col: uint16(cols)}); err != nil {
		master.Close()
		unix.Close(sfd)
		return nil, nil, fmt.Errorf("window size: %w", err)
	}
	return master, os.NewFile(uintptr(sfd), "/dev/pts/"+strconv.Itoa(n)), nil
}

// read drains the terminal until the console is gone, timestamping each read.
func (t *term) read() {
	defer close(t.done)
	runtime.LockOSThread()
	buf := make([]byte, 256<<10)
	for {
		n, err := t.master.Read(buf)
		at := time.Now()
		if n > 0 {
			t.consume(buf[:n], at)
		}
		if err != nil {
			return // EIO once the console has exited and closed the slave
		}
	}
}

func (t *term) consume(chunk []byte, at time.Time) {
	if t.raw != nil {
		t.raw.Write(chunk)
	}
	t.mu.Lock()
	base := t.total - int64(len(t.carry)) // offset of win[0]
	win := append(t.carry, chunk...)
	replies := answers(win, len(t.carry))
	kept := t.waiters[:0]
	for _, w := range t.waiters {
		if matchAfter(win, w.marker, w.after-base) {
			w.seen <- at
			continue
		}
		kept = append(kept, w)
	}
	t.waiters = kept
	t.scanSeq(win, at)
	t.total += int64(len(chunk))
	t.carry = append(t.carry[:0:0], win[max(len(win)-carryLen, 0):]...)
	t.mu.Unlock()
	if len(replies) > 0 {
		t.master.Write(replies)
	}
}

// The queries the console's terminal library sends at start-up, and a terminal's
// answers: a dark background, and the cursor at the top left. A terminal answers at
// once; unanswered, the console waits seconds for them before its first frame.
var queries = []struct{ ask, answer string }{
	{"\x1b]11;?", "\x1b]11;rgb:0000/0000/0000\x1b\\"},
	{"\x1b[6n", "\x1b[1;1R"},
}

// answers returns the answers to the queries in win that end past old (the bytes
// already looked at), in the order they were asked.
func answers(win []byte, old int) []byte {
	type hit struct {
		at     int
		answer string
	}
	var hits []hit
	for _, q := range queries {
		for i := max(old-len(q.ask)+1, 0); ; {
			j := bytes.Index(win[i:], []byte(q.ask))
			if j < 0 {
				break
			}
			hits = append(hits, hit{i + j, q.answer})
			i += j + len(q.ask)
		}
	}
	slices.SortFunc(hits, func(a, b hit) int { return a.at - b.at })
	var out []byte
	for _, h := range hits {
		out = append(out, h.answer...)
	}
	return out
}

// matchAfter reports whether marker occurs in win starting at from or later.
func matchAfter(win, marker []byte, from int64) bool {
	from = max(from, 0)
	if from >= int64(len(win)) {
		return false
	}
	return bytes.Contains(win[from:], marker)
}

// scanSeq notes the highest "seq=N" in win. A row draws the line's text as one run, but
// an escape sequence between "seq=" and the digits is skipped all the same.
func (t *term) scanSeq(win []byte, at time.Time) {
	key := []byte("seq=")
	for i := 0; ; {
		j := bytes.Index(win[i:], key)
		if j < 0 {
			return
		}
		i += j + len(key)
		k := skipCSI(win, i)
		n, digits := 0, 0
		for ; k < len(win) && win[k] >= '0' && win[k] <= '9' && digits < 9; k++ {
			n = n*10 + int(win[k]-'0')
			digits++
		}
		if digits == 0 || k == len(win) {
			continue // no number, or one the next read may continue
		}
		if n > t.maxSeq {
			t.maxSeq, t.maxSeqAt = n, at
		}
	}
}

// skipCSI returns the index past any CSI sequences starting at i.
func skipCSI(b []byte, i int) int {
	for i+1 < len(b) && b[i] == 0x1b && b[i+1] == '[' {
		k := i + 2
		for k < len(b) && (b[k] < 0x40 || b[k] > 0x7e) {
			k++
		}
		if k == len(b) {
			return k
		}
		i = k + 1
	}
	return i
}

// register arms a waiter for marker in the bytes read from now on.
func (t *term) register(marker []byte) *waiter {
	w := &waiter{marker: marker, seen: make(chan time.Time, 1)}
	t.mu.Lock()
	w.after = t.total
	t.waiters = append(t.waiters, w)
	t.mu.Unlock()
	return w
}

func (t *term) unregister(w *waiter) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.waiters = slices.DeleteFunc(t.waiters, func(x *waiter) bool { return x == w })
}

func (t *term) wait(w *waiter, timeout time.Duration) (time.Time, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case at := <-w.seen:
		return at, nil
	case <-timer.C:
		t.unregister(w)
		return time.Time{}, fmt.Errorf("%q not seen within %v", w.marker, timeout)
	case <-t.exited:
		return time.Time{}, fmt.Errorf("the console exited: %v", t.cmd.ProcessState)
	}
}

// press writes key to the console and returns the time until marker appeared after it.
func (t *term) press(key, marker []byte, timeout time.Duration) (time.Duration, error) {
	w := t.register(marker)
	start := time.Now()
	if _, err := t.master.Write(key); err != nil {
		t.unregister(w)
		return 0, err
	}
	at, err := t.wait(w, timeout)
	if err != nil {
		return 0, err
	}
	keyLog.note(start, at, marker)
	return at.Sub(start), nil
}

// keyLog, with OPSCONSOLE_BENCH_KEYLOG=FILE, records every press as "<key written>
// <frame seen> <marker>", in CLOCK_MONOTONIC nanoseconds: the clock perf stamps its
// samples with under -k CLOCK_MONOTONIC, so that a press can be followed through the
// console's functions with uprobes.
var keyLog = openKeyLog(os.Getenv("OPSCONSOLE_BENCH_KEYLOG"))

type pressLog struct {
	mu    sync.Mutex
	f     *os.File
	mono0 int64 // CLOCK_MONOTONIC at now0
	now0  time.Time
}

func openKeyLog(path string) *pressLog {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		fatalf("%v", err)
	}
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return &pressLog{f: f, mono0: ts.Nano(), now0: time.Now()}
}

func (l *pressLog) note(start, seen time.Time, marker []byte) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.f, "%d %d %s\n", l.mono0+int64(start.Sub(l.now0)), l.mono0+int64(seen.Sub(l.now0)),
		strings.ReplaceAll(string(marker), " ", "_"))
}

func (t *term) maxSeqSeen() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.maxSeq
}

// awaitSeq waits until a sequence number of at least seq has been drawn, and returns
// when the highest one drawn was first seen.
func (t *term) awaitSeq(seq int, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		t.mu.Lock()
		n, at := t.maxSeq, t.maxSeqAt
		t.mu.Unlock()
		if n >= seq {
			return at, nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("seq=%d not drawn within %v of the writers' end (highest drawn: %d)", seq, timeout, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sampleLag samples every 100 ms how far the newest line drawn is behind the writers:
// the time since the writers were due to write the highest seq= on screen. It returns a
// function that stops and returns the samples.
func (t *term) sampleLag(w *writers, rate int) func() []time.Duration {
	var lags []time.Duration
	stop := proc.Every(100*time.Millisecond, func(now time.Time) {
		due := w.start.Add(time.Duration(int64(t.maxSeqSeen()) * int64(time.Second) / int64(rate)))
		lags = append(lags, max(now.Sub(due), 0))
	})
	return func() []time.Duration {
		stop()
		return lags
	}
}

// quit asks the console to quit and waits for it (and the reader) to finish.
func (t *term) quit() {
	t.master.Write([]byte("q"))
	select {
	case <-t.exited:
	case <-time.After(10 * time.Second):
		fmt.Fprintln(os.Stderr, "the console did not quit on q; killing it")
		t.cmd.Process.Kill()
		<-t.exited
	}
	t.stop()
}

// stop kills the console if it still runs and closes the terminal.
func (t *term) stop() { t.stopOnce.Do(t.stop1) }

func (t *term) stop1() {
	select {
	case <-t.exited:
	default:
		t.cmd.Process.Kill()
		<-t.exited
	}
	select {
	case <-t.done:
	case <-time.After(2 * time.Second):
	}
	t.master.Close()
	if t.raw != nil {
		t.mu.Lock()
		t.raw.Flush()
		t.mu.Unlock()
		t.rawF.Close()
		t.raw = nil
	}
}

// schedIdle puts every process this one has started so far (the fleet's sshd daemons)
// under SCHED_IDLE; the sessions they fork later inherit it. A task of the normal policy
// that wakes preempts them at once, so the fleet's work stays out of the console's way
// (a nice level would not: two hundred niced sshd and tail processes still add up to
// more weight than the console's threads).
func schedIdle() error {
	pids := proc.Descendants(os.Getpid())
	if len(pids) == 0 {
		return fmt.Errorf("no fleet process found")
	}
	for _, pid := range pids {
		attr := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_IDLE}
		if err := unix.SchedSetAttr(pid, &attr, 0); err != nil {
			return fmt.Errorf("pid %d: %w", pid, err)
		}
	}
	return nil
}

// snapshot is the console's and the machine's counters at one moment, from /proc.
type snapshot struct {
	at        time.Time
	cpu       time.Duration // the console's user+system time (stat)
	runWait   time.Duration // time its threads were runnable but not running (schedstat)
	self      time.Duration // this command's own CPU time: the writers and the reader
	busy, all uint64        // the machine's busy and total CPU ticks
	pressure  int64         // the machine's CPU pressure, "some" total in µs; -1 unknown
	hwm       int64         // the console's VmHWM, bytes
}

func (t *term) snap() snapshot {
	pid := t.cmd.Process.Pid
	s := snapshot{at: time.Now(), cpu: proc.CPUTime(pid), runWait: runWaitOf(pid), self: selfCPU(), pressure: cpuPressure()}
	for _, o := range t.others {
		s.cpu += proc.CPUTime(o)
		s.runWait += runWaitOf(o)
	}
	s.busy, s.all = machineTicks()
	m, _ := proc.ReadMemory(pid)
	s.hwm = m.HWM
	return s
}

// usage is what the console and the machine used between two snapshots.
type usage struct {
	wall     time.Duration
	cpu      time.Duration
	runWait  time.Duration
	self     time.Duration
	busyCPUs float64 // CPUs busy on average, every process counted
	pressure float64 // share of the time some task waited for a CPU; -1 unknown
	hwm      int64   // VmHWM at the end
	rss      int64   // peak sampled RSS, when sampled
}

func (s snapshot) to(e snapshot) usage {
	u := usage{wall: e.at.Sub(s.at), cpu: e.cpu - s.cpu, runWait: e.runWait - s.runWait, self: e.self - s.self,
		pressure: -1, hwm: e.hwm}
	if e.all > s.all {
		u.busyCPUs = float64(e.busy-s.busy) / float64(e.all-s.all) * float64(runtime.NumCPU())
	}
	if s.pressure >= 0 && e.pressure >= 0 && u.wall > 0 {
		u.pressure = float64(e.pressure-s.pressure) * float64(time.Microsecond) / float64(u.wall)
	}
	return u
}

// runWaitOf sums the run-queue wait of a process's threads (the second field of each
// /proc/PID/task/TID/schedstat, in ns). Threads that ended are not counted.
func runWaitOf(pid int) time.Duration {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, _ := os.ReadDir(dir)
	var sum int64
	for _, task := range tasks {
		b, err := os.ReadFile(filepath.Join(dir, task.Name(), "schedstat"))
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) >= 2 {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			sum += n
		}
	}
	return time.Duration(sum)
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// machineTicks is the machine's busy and total CPU time from /proc/stat, in ticks.
func machineTicks() (busy, all uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0
	}
	for i, v := range f[1:min(len(f), 9)] { // user nice system idle iowait irq softirq steal
		n, _ := strconv.ParseUint(v, 10, 64)
		all += n
		if i != 3 && i != 4 {
			busy += n
		}
	}
	return busy, all
}

// cpuPressure is the "some" total of /proc/pressure/cpu in µs: the time in which at
// least one runnable task waited for a CPU. -1 when the kernel does not tell.
func cpuPressure() int64 {
	b, err := os.ReadFile("/proc/pressure/cpu")
	if err != nil {
		return -1
	}
	line, _, _ := strings.Cut(string(b), "\n")
	_, tot, ok := strings.Cut(line, "total=")
	if !ok {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSpace(tot), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

// sampleRSS samples the console's resident set every 100 ms and returns a function that
// stops and returns the peak, in bytes.
func (t *term) sampleRSS() func() int64 {
	var peak int64
	stop := proc.Poll(100*time.Millisecond, func(time.Time) {
		m, _ := proc.ReadMemory(t.cmd.Process.Pid)
		peak = max(peak, m.RSS)
	})
	return func() int64 {
		stop()
		return peak
	}
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

type report struct {
	hosts, rate   int
	fleetIdle     bool
	control       bool
	commit        string
	duration      time.Duration
	cols, rows    int
	firstFrame    time.Duration
	streamsUp     time.Duration
	idle, stream  phase
	hwmBefore     int64
	written, last int
	maxSeq        int
	drain         time.Duration
	drainErr      error
	lags          []time.Duration
	loads         [3]string // at the idle phase's start, the streaming phase's start and end
}

func (r report) print() {
	sched := "the fleet's sshd and tail share the CPUs with the console"
	if r.fleetIdle {
		sched = "the fleet's sshd and tail under SCHED_IDLE"
	}
	fmt.Printf("\nkeys while streaming: %d hosts × %d lines/s for %v; terminal %dx%d; %d CPUs, %s; console at %s\n%s\n",
		r.hosts, r.rate, r.duration, r.cols, r.rows, runtime.NumCPU(), runtime.Version(), r.commit, sched)
	if r.control {
		fmt.Println("CONTROL: the program timed is a minimal Bubble Tea program, not the console; `opsconsole logs --follow`" +
			" consumes the stream\n(to /dev/null); the console's CPU columns below sum both processes")
	}
	fmt.Printf("console: first frame %v; all %d streams up %v after launch\n",
		r.firstFrame.Round(time.Millisecond), r.hosts, r.streamsUp.Round(time.Millisecond))
	fmt.Printf("frame budget %.1f ms (one frame of a 60 Hz display)\n\n",
		ms(frameBudget))
	fmt.Printf("%-17s %6s %8s %8s %8s %8s %9s %9s\n", "key → frame", "count", "p50", "p90", "p99", "max", "≤1 frame", "≤2 frames")
	for _, p := range []phase{r.idle, r.stream} {
		all := append(slices.Clone(p.open), p.close...)
		row(p.name, all)
		row("  help opens", p.open)
		row("  help closes", p.close)
	}
	fmt.Println()
	fmt.Printf("%-10s %7s %16s %15s %13s %12s %12s %13s\n", "CPU", "wall", "console CPU", "console waited",
		"bench's own", "the rest", "machine busy", "CPU pressure")
	for _, p := range []phase{r.idle, r.stream} {
		u := p.usage
		pressure := "?"
		if u.pressure >= 0 {
			pressure = fmt.Sprintf("%.0f%%", 100*u.pressure)
		}
		// /proc/stat counts at ticks, the processes exactly: at light load the difference can
		// come out below zero.
		rest := max(u.busyCPUs*u.wall.Seconds()-u.cpu.Seconds()-u.self.Seconds(), 0)
		fmt.Printf("%-10s %6.1fs %8.2fs (%3.0f%%) %14.2fs %12.2fs %11.2fs %7.2f CPUs %13s\n", p.name, u.wall.Seconds(),
			u.cpu.Seconds(), 100*u.cpu.Seconds()/u.wall.Seconds(), u.runWait.Seconds(), u.self.Seconds(), rest,
			u.busyCPUs, pressure)
	}
	fmt.Printf("memory: console peak RSS while streaming %.1f MB sampled, VmHWM %.1f MB (%.1f MB before streaming)\n",
		mb(r.stream.usage.rss), mb(r.stream.usage.hwm), mb(r.hwmBefore))
	fmt.Printf("lines written: %d (%d hosts × seq 1..%d)\n", r.written, r.hosts, r.last)
	if len(r.lags) > 0 && !r.control {
		s := slices.Clone(r.lags)
		slices.Sort(s)
		fmt.Printf("pane behind the writers while keys were timed (newest seq= drawn): p50 %v, p90 %v, max %v (%d samples)\n",
			pct(s, 0.5).Round(time.Millisecond), pct(s, 0.9).Round(time.Millisecond), s[len(s)-1].Round(time.Millisecond), len(s))
	}
	if r.control {
		fmt.Println("stream check: none (the control draws no line)")
	} else if r.drainErr != nil {
		fmt.Printf("stream check: FAILED: %v\n", r.drainErr)
	} else {
		fmt.Printf("stream check: the last line (seq=%d) was drawn %v after the writers stopped (highest seq drawn %d)\n",
			r.last, r.drain.Round(time.Millisecond), r.maxSeq)
	}
	fmt.Printf("load average (1, 5, 15 min): %s before the idle phase, %s before streaming, %s after\n", r.loads[0], r.loads[1], r.loads[2])
	fmt.Println("\nA press's latency runs from the key written to the terminal to the frame's bytes read back;" +
		" it includes the wait for the renderer's next tick (up to one frame).\n" +
		"console CPU is its user+system time (% of one core); console waited is the time its threads were" +
		" runnable but had no CPU (schedstat);\nbench's own is this command's (the writers, the reader); the rest" +
		" is every other process: the fleet's sshd and tail, the fleet pane's polls, other jobs;\nCPU pressure is" +
		" the share of the time some task waited for a CPU (PSI).")
}

func row(name string, ds []time.Duration) {
	if len(ds) == 0 {
		fmt.Printf("%-17s %6d\n", name, 0)
		return
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	in1, in2 := 0, 0
	for _, d := range s {
		if d <= frameBudget {
			in1++
		}
		if d <= 2*frameBudget {
			in2++
		}
	}
	fmt.Printf("%-17s %6d %6.1fms %6.1fms %6.1fms %6.1fms %8.0f%% %8.0f%%\n", name, len(s),
		ms(pct(s, 0.5)), ms(pct(s, 0.9)), ms(pct(s, 0.99)), ms(s[len(s)-1]),
		100*float64(in1)/float64(len(s)), 100*float64(in2)/float64(len(s)))
}

// pct is the nearest-rank percentile of sorted s.
func pct(s []time.Duration, q float64) time.Duration {
	i := int(float64(len(s))*q+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mb(b int64) float64         { return float64(b) / (1 << 20) }

// thousands formats n as the console counts: with thousands separators.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// commit names the tree the console was built from.
func commit() string {
	out, err := exec.Command("git", "describe", "--always", "--dirty").Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

// floorEnv runs this command as the control's minimal program; its value is the stream
// count the status line claims.
const floorEnv = "OPSCONSOLE_BENCH_KEYS_FLOOR"

// floor is the control's program: Bubble Tea with the console's program options and
// nothing else, drawing the markers where the console does (the header, the Logs
// pane's status bar, the help line), so that a press costs it one small Update and View.
type floor struct {
	streams    string
	w, h       int
	pane, help bool
}

func runFloor(streams string) {
	if _, err := tea.NewProgram(floor{streams: streams}, tea.WithAltScreen()).Run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func (f floor) Init() tea.Cmd { return nil }

func (f floor) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		f.w, f.h = msg.Width, msg.Height
	case tea.KeyMsg:
		switch msg.String() {
		case "3":
			f.pane = true
		case "?":
			f.help = !f.help
		case "q", "ctrl+c":
			return f, tea.Quit
		}
	}
	return f, nil
}

func (f floor) View() string {
	if f.h < 4 {
		return ""
	}
	rows := make([]string, f.h)
	rows[0] = string(consoleUp)
	switch {
	case f.pane && f.help:
		rows[f.h/2] = "Global keys"
		rows[f.h-2] = "esc " + string(helpShown)
	case f.pane:
		rows[f.h-3] = fmt.Sprintf("● %s streaming%s%s", f.streams, strings.Repeat(" ", 40), paneShown)
		rows[f.h-2] = "? help"
	}
	return strings.Join(rows, "\n")
}

var (
	exitMu   sync.Mutex
	cleanups []func()
)

// atExit registers f to run at exit, fatal or not, last registered first.
func atExit(f func()) {
	exitMu.Lock()
	defer exitMu.Unlock()
	cleanups = append(cleanups, f)
}

func runExit() {
	exitMu.Lock()
	fs := cleanups
	cleanups = nil
	exitMu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench/keys: "+format+"\n", args...)
	runExit()
	os.Exit(1)
}
