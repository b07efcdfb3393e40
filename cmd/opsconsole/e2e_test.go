package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/internal/testfleet"
)

// tmuxSession drives the real binary in a real terminal: keys go in with send-keys, the
// screen comes back with capture-pane, and every step waits for what it expects.
type tmuxSession struct {
	t    *testing.T
	name string
	sock string
}

func (s tmuxSession) tmux(args ...string) (string, error) {
	out, err := exec.Command("tmux", append([]string{"-S", s.sock}, args...)...).CombinedOutput()
	return string(out), err
}

func (s tmuxSession) send(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		// One key per call: tmux would otherwise send ESC and the next key as one alt chord.
		if out, err := s.tmux("send-keys", "-t", s.name, k); err != nil {
			s.t.Fatalf("send-keys %q: %v %s", k, err, out)
		}
	}
}

func (s tmuxSession) typeText(text string) {
	s.t.Helper()
	if out, err := s.tmux("send-keys", "-t", s.name, "-l", text); err != nil {
		s.t.Fatalf("send-keys: %v %s", err, out)
	}
}

func (s tmuxSession) screen() string {
	out, _ := s.tmux("capture-pane", "-p", "-t", s.name)
	return out
}

// waitFor polls the screen until every want is on it.
func (s tmuxSession) waitFor(timeout time.Duration, want ...string) string {
	s.t.Helper()
	var scr string
	ok := testfleet.WaitFor(context.Background(), timeout, func() bool {
		scr = s.screen()
		for _, w := range want {
			if !strings.Contains(scr, w) {
				return false
			}
		}
		return true
	})
	if !ok {
		s.t.Fatalf("waited %s for %q; screen:\n%s", timeout, want, scr)
	}
	return scr
}

func TestConsoleEndToEndInTmux(t *testing.T) {
	testfleet.Require(t, "tmux")
	f := testfleet.Start(t, testfleet.Options{Hosts: 3})
	dir := t.TempDir()
	bin := filepath.Join(t.TempDir(), "opsconsole")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	// The judgement thresholds are switched off: this machine's load while the suite runs
	// is not what the test is about, reachability is.
	inv, err := os.ReadFile(f.InventoryPath)
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "config.toml")
	thresholds := "\n[thresholds]\ncpu_warn = 0\ncpu_crit = 0\nmem_warn = 0\nmem_crit = 0\ndisk_warn = 0\ndisk_crit = 0\nload_warn = 0\nload_crit = 0\n"
	if err := os.WriteFile(cfgPath, append(inv, thresholds...), 0o600); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, "ran")
	s := tmuxSession{t: t, name: "e2e", sock: filepath.Join(dir, "tmux.sock")}
	script := fmt.Sprintf("HOME=%s XDG_STATE_HOME=%s %s --config %s --interval 1s; echo \"EXITED rc=$?\"; sleep 60",
		dir, dir, bin, cfgPath)
	if out, err := s.tmux("new-session", "-d", "-s", s.name, "-x", "120", "-y", "36", script); err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	t.Cleanup(func() { s.tmux("kill-server") })

	// The fleet comes up: all three hosts polled over SSH.
	s.waitFor(30*time.Second, "▲ 3 up", "host-001", "host-002", "host-003", "REC")

	// The exec pane runs a command that changes hosts: the gate asks, y confirms.
	s.send("2")
	s.waitFor(5*time.Second, "[2 Exec]", "→ 3 hosts")
	s.typeText(fmt.Sprintf("echo gathered; touch %s-$(hostname -s 2>/dev/null || echo h)-$$", marker))
	s.send("Enter")
	s.waitFor(5*time.Second, "CONFIRM", "Blast radius: 3 hosts", "host-001, host-002, host-003")
	if matches, _ := filepath.Glob(marker + "*"); len(matches) != 0 {
		t.Fatalf("the command ran before it was confirmed: %v", matches)
	}
	s.send("y")
	s.waitFor(15*time.Second, "3/3 hosts done: 3 ok", "host-[001-003] (3)", "gathered")
	if matches, _ := filepath.Glob(marker + "*"); len(matches) != 3 {
		t.Fatalf("after confirm, %d hosts ran the command, want 3", len(matches))
	}

	// Quit: the program exits 0 and gives the terminal back (alternate screen off).
	s.send("Escape")
	s.send("q")
	s.waitFor(10*time.Second, "EXITED rc=0")
	if out, _ := s.tmux("display-message", "-p", "-t", s.name, "#{alternate_on}"); strings.TrimSpace(out) != "0" {
		t.Fatalf("alternate screen still on after quit: %q", out)
	}
	recs, _ := filepath.Glob(filepath.Join(dir, "opsconsole", "recordings", "*.jsonl"))
	if len(recs) != 1 {
		t.Fatalf("recordings: %v, want one journal", recs)
	}
	if st, err := os.Stat(recs[0]); err != nil || st.Size() == 0 {
		t.Fatalf("journal empty: %v", err)
	}
}
