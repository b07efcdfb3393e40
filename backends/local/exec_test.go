package local

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestExec(t *testing.T) {
	tests := []struct {
		name           string
		cmd            string
		code           int
		stdout, stderr string
	}{
		{"stdout", "echo hello; printf 'two\\nlines\\n'", 0, "hello\ntwo\nlines\n", ""},
		{"stderr", "echo oops >&2", 0, "", "oops\n"},
		{"both", "echo out; echo err >&2; echo out2", 0, "out\nout2\n", "err\n"},
		{"exit code", "exit 3", 3, "", ""},
		{"false", "false", 1, "", ""},
		{"not found", "/no/such/command", 127, "", "/bin/sh: 1: /no/such/command: not found\n"},
		{"killed by signal", "kill -TERM $$", 128 + int(syscall.SIGTERM), "", ""},
		{"stdin is empty", "cat; echo done", 0, "done\n", ""},
		{"pipeline", "printf 'b\\na\\n' | sort", 0, "a\nb\n", ""},
	}
	s := New()
	defer s.Close()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code, err := s.Exec(context.Background(), tt.cmd, &out, &errOut)
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if code != tt.code {
				t.Errorf("code = %d, want %d", code, tt.code)
			}
			if out.String() != tt.stdout {
				t.Errorf("stdout = %q, want %q", out.String(), tt.stdout)
			}
			// The shell's own wording of "not found" differs between shells; only
			// check it when /bin/sh is dash, as on the machines we build on.
			if tt.name != "not found" || isDash() {
				if errOut.String() != tt.stderr {
					t.Errorf("stderr = %q, want %q", errOut.String(), tt.stderr)
				}
			}
		})
	}
}

func isDash() bool {
	target, err := os.Readlink("/bin/sh")
	return err == nil && strings.HasSuffix(target, "dash")
}

func TestExecSameWriter(t *testing.T) {
	var out bytes.Buffer
	code, err := New().Exec(context.Background(), "echo 1; echo 2 >&2; echo 3; echo 4 >&2", &out, &out)
	if code != 0 || err != nil || out.String() != "1\n2\n3\n4\n" {
		t.Errorf("Exec = %d, %v, %q", code, err, out.String())
	}
}

func TestExecToFile(t *testing.T) {
	f, err := os.Create(t.TempDir() + "/out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if code, err := New().Exec(context.Background(), "echo to file", f, nil); code != 0 || err != nil {
		t.Fatalf("Exec = %d, %v", code, err)
	}
	b, _ := os.ReadFile(f.Name())
	if string(b) != "to file\n" {
		t.Errorf("file = %q", b)
	}
}

func TestExecNilWriters(t *testing.T) {
	code, err := New().Exec(context.Background(), "echo discarded; echo too >&2; exit 4", nil, nil)
	if code != 4 || err != nil {
		t.Errorf("Exec = %d, %v", code, err)
	}
}

// TestExecCancel checks that cancelling kills the whole process tree and that Exec comes
// back promptly, including when a grandchild holds the output pipe.
func TestExecCancel(t *testing.T) {
	tests := []struct {
		name string
		cmd  string
	}{
		{"sleep", "sleep 60; echo not reached"},
		{"grandchild holds the pipe", "sh -c 'sleep 60 & wait'"},
		{"background job", "sleep 60 & sleep 60 & wait"},
		{"busy loop", "while :; do :; done"},
		{"ignores SIGTERM", "trap '' TERM; sleep 60"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pidFile := t.TempDir() + "/pids"
			ctx, cancel := context.WithCancel(context.Background())
			var out bytes.Buffer
			done := make(chan struct{})
			var code int
			var err error
			go func() {
				defer close(done)
				// Record the group so we can check afterwards that nothing in it lives.
				code, err = New().Exec(ctx, "echo $$ >"+pidFile+"; "+tt.cmd, &out, &out)
			}()
			pgid := waitPID(t, pidFile)
			start := time.Now()
			cancel()
			select {
			case <-done:
			case <-time.After(time.Second):
				t.Fatal("Exec did not return within 1s of cancel")
			}
			t.Logf("returned %v after cancel", time.Since(start).Round(time.Millisecond))
			if code != -1 || !errors.Is(err, context.Canceled) {
				t.Errorf("Exec = %d, %v; want -1, context.Canceled", code, err)
			}
			if out.Len() != 0 {
				t.Errorf("output %q", out.String())
			}
			waitGroupGone(t, pgid)
		})
	}
}

// TestExecEscapedGrandchild: a process that left our group (setsid) survives the kill
// and keeps the pipe open; Exec must still return, through the wait delay.
func TestExecEscapedGrandchild(t *testing.T) {
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("setsid not installed")
	}
	pidFile := t.TempDir() + "/pid"
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		_, err := New().Exec(ctx, "setsid sh -c 'echo $$ >"+pidFile+"; exec sleep 60' & wait", &out, &out)
		done <- err
	}()
	escaped := waitPID(t, pidFile)
	t.Cleanup(func() { syscall.Kill(escaped, syscall.SIGKILL) })
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Exec did not return within 1s of cancel")
	}
	t.Logf("returned %v after cancel", time.Since(start).Round(time.Millisecond))
}

// A command that finishes but leaves a background job holding stdout has completed:
// Exec reports its status after the wait delay instead of waiting for the job.
func TestExecBackgroundJobOutlivesShell(t *testing.T) {
	pidFile := t.TempDir() + "/pid"
	var out bytes.Buffer
	start := time.Now()
	code, err := New().Exec(context.Background(), "sh -c 'echo $$ >"+pidFile+"; exec sleep 60' & echo started; exit 5", &out, nil)
	if pid, perr := readPID(pidFile); perr == nil {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if code != 5 || err != nil {
		t.Errorf("Exec = %d, %v; want 5, nil", code, err)
	}
	if out.String() != "started\n" {
		t.Errorf("stdout = %q", out.String())
	}
	if d := time.Since(start); d > 2*waitDelay {
		t.Errorf("took %v", d)
	}
}

func TestExecContextDoneBeforeStart(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	code, err := New().Exec(ctx, "echo never", nil, nil)
	if code != -1 || !errors.Is(err, context.Canceled) {
		t.Errorf("Exec = %d, %v", code, err)
	}
}

func TestExecDeadline(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	code, err := New().Exec(ctx, "sleep 60", nil, nil)
	if code != -1 || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Exec = %d, %v", code, err)
	}
}

func TestClose(t *testing.T) {
	s := New()
	pidFile := t.TempDir() + "/pid"
	done := make(chan error, 1)
	go func() {
		_, err := s.Exec(context.Background(), "echo $$ >"+pidFile+"; sleep 60", nil, nil)
		done <- err
	}()
	waitPID(t, pidFile)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("in-flight Exec err = %v, want ErrClosed", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Close did not end the Exec in flight")
	}
	if _, err := s.Exec(context.Background(), "true", nil, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Exec after Close err = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestExecConcurrent(t *testing.T) {
	s := New()
	defer s.Close()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			var out bytes.Buffer
			code, err := s.Exec(context.Background(), "echo "+strconv.Itoa(i)+"; exit "+strconv.Itoa(i), &out, nil)
			if err != nil || code != i || out.String() != strconv.Itoa(i)+"\n" {
				t.Errorf("%d: Exec = %d, %v, %q", i, code, err, out.String())
			}
		})
	}
	wg.Wait()
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("capture full") }

// A writer that fails does not hang the command: the pipe closes and the shell gets
// SIGPIPE or EPIPE, as a reader that went away would give it.
func TestExecWriterFails(t *testing.T) {
	start := time.Now()
	code, err := New().Exec(context.Background(), "yes", failingWriter{}, nil)
	if code != -1 || err == nil || !strings.Contains(err.Error(), "capture full") {
		t.Errorf("Exec = %d, %v", code, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

func readPID(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

// waitPID waits for the command under test to write its pid: it has started.
func waitPID(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if pid, err := readPID(path); err == nil && pid > 0 {
			return pid
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("command did not start")
	return 0
}

// waitGroupGone waits until no live process is left in group pgid. Zombies are not
// counted: the orphans are reaped by init, on its own schedule (this machine's init
// never reaps them).
func waitGroupGone(t *testing.T, pgid int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		alive := liveInGroup(pgid)
		if len(alive) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes %v of group %d still alive", alive, pgid)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func liveInGroup(pgid int) []int {
	dirs, _ := os.ReadDir("/proc")
	var pids []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		f := strings.Fields(rest)
		if len(f) >= 3 && f[0] != "Z" && f[2] == strconv.Itoa(pgid) {
			pids = append(pids, pid)
		}
	}
	return pids
}
