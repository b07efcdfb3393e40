// Package audit is opsconsole's append-only record of every Action (DESIGN.md §4): one
// JSON object per line in $XDG_STATE_HOME/opsconsole/audit.jsonl (or `[audit] path`).
//
// Every Action leaves three kinds of record, all carrying the Action's id:
//
//	{"type":"intent","id":"…","time":"…","intent":{"who":{…},"kind":"runbook","name":"restart-app","hosts":[…],"steps":[…],"reason":"…"}}
//	{"type":"result","id":"…","time":"…","result":{"host":"web-1","step":1,"phase":"run","outcome":"ok","exit_code":0,…}}
//	{"type":"done","id":"…","time":"…","done":{"outcome":"ok","counts":{"ok":5}}}
//
// The intent is written and fsync'd before the caller may run anything, so that a crash,
// a kill -9 or a power cut after the first host changed can never leave a change nobody
// recorded. Results and the done record are fsync'd too (concurrent hosts share one fsync).
// An intent without a done record is a run that was interrupted; Interrupted finds them
// and says which hosts reported and which did not.
//
// Secrets are removed (package redact) from every command, reason, variable, error and
// output line before it is written.
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"time"
	"unicode/utf8"

	"github.com/opsconsole/opsconsole/sessions"
)

// ActionID names one Action across its intent, result and done records. It sorts by the
// time the intent was written.
type ActionID string

// Record types.
const (
	TypeIntent = "intent"
	TypeResult = "result"
	TypeDone   = "done"
)

// Record is one line of the log. Exactly one of Intent, Result and Done is set, as Type
// says.
type Record struct {
	Type   string    `json:"type"`
	ID     ActionID  `json:"id"`
	Time   time.Time `json:"time"`
	Intent *Intent   `json:"intent,omitempty"`
	Result *Result   `json:"result,omitempty"`
	Done   *Done     `json:"done,omitempty"`

	// Offset is where the record's line starts in the file; set by Read, not written.
	Offset int64 `json:"-"`
}

// Who is the person (and the machine) behind an Action.
type Who struct {
	// User is the OS account opsconsole runs as.
	User string `json:"user"`
	// SudoUser is $SUDO_USER: the person behind a shared account reached through sudo.
	SudoUser string `json:"sudo_user,omitempty"`
	// SSHClient and SSHConnection are the variables sshd sets, which name the address the
	// operator came from when opsconsole runs on a bastion.
	SSHClient     string `json:"ssh_client,omitempty"`
	SSHConnection string `json:"ssh_connection,omitempty"`
	// Machine is the host name of the machine opsconsole runs on.
	Machine string `json:"machine,omitempty"`
	// PID is opsconsole's process id, so that an intent without a done record can be told
	// apart from a run still in progress on the same machine.
	PID int `json:"pid"`
}

// Intent is what an Action is about to do, exactly as the gate showed it.
type Intent struct {
	// Who is filled in by Log.Intent.
	Who Who `json:"who"`
	// Kind names the source: "exec", "runbook", "rollout".
	Kind string `json:"kind"`
	// Name is the runbook or rollout name, or the command of an ad-hoc exec.
	Name   string `json:"name"`
	Reason string `json:"reason,omitempty"`
	// Version is opsconsole's version; filled in by Log.Intent when empty.
	Version string `json:"version"`
	// Hosts is every host the Action may touch, in plan order; derived from Steps and
	// When when empty.
	Hosts []string          `json:"hosts"`
	Vars  map[string]string `json:"vars,omitempty"`
	// When lists the preconditions evaluated on each host before the first step.
	When []Step `json:"when,omitempty"`
	// Steps are the commands in the order they run. One runbook step whose rendered
	// command differs between hosts appears once per distinct command, with the same
	// Step number.
	Steps []Step `json:"steps"`
}

// Step is one command of a plan on the hosts it runs on.
type Step struct {
	// Step numbers the runbook step from 1 (0 for a precondition).
	Step     int      `json:"step"`
	Name     string   `json:"name,omitempty"`
	Hosts    []string `json:"hosts"`
	Command  string   `json:"command"`
	Check    string   `json:"check,omitempty"`
	Rollback string   `json:"rollback,omitempty"`
	// Policy says how the step runs and fails, e.g. "batch 2, on_failure rollback".
	Policy string `json:"policy,omitempty"`
}

// Phases of a result.
const (
	PhaseWhen     = "when"
	PhaseRun      = "run"
	PhaseCheck    = "check"
	PhaseRollback = "rollback"
)

// OutcomeSkipped marks a host that did not run a step, with the reason in Note.
const OutcomeSkipped = "skipped"

// Result is how one command ended on one host.
type Result struct {
	Host string `json:"host"`
	// Step numbers the runbook step from 1 (0 for a precondition or an ad-hoc exec).
	Step  int    `json:"step"`
	Phase string `json:"phase,omitempty"`
	// Command is the command as run (redacted).
	Command string `json:"command,omitempty"`
	// Outcome is a sessions.Outcome ("ok", "failed", "timeout", "error", "cancelled") or
	// "skipped".
	Outcome  string    `json:"outcome"`
	ExitCode int       `json:"exit_code"`
	Started  time.Time `json:"started"`
	// DurationMS is how long the command took, in milliseconds.
	DurationMS float64 `json:"duration_ms"`
	// OutputSHA256 and OutputBytes identify the output kept (stdout then stderr) without
	// storing it: an investigator holding a copy of the output can prove it is the one.
	OutputSHA256 string `json:"output_sha256,omitempty"`
	OutputBytes  int64  `json:"output_bytes"`
	// OutputDropped counts bytes past the output limit, not covered by the digest.
	OutputDropped int64 `json:"output_dropped,omitempty"`
	// FirstLine is the first non-blank line of the output, truncated and redacted.
	FirstLine string `json:"first_line,omitempty"`
	Error     string `json:"error,omitempty"`
	// Note explains an outcome that needs words: "precondition not met", "stopped: host-003
	// failed step 1".
	Note string `json:"note,omitempty"`
}

// Done closes an Action.
type Done struct {
	// Outcome is "ok", "failed", "cancelled", "error", or "interrupted" for a run closed
	// after a crash by Log.Abandon.
	Outcome string `json:"outcome"`
	// Counts tallies the hosts' final states.
	Counts map[string]int `json:"counts,omitempty"`
	// Hosts is each host's final state, so that a reader need not replay the results.
	Hosts      map[string]string `json:"hosts,omitempty"`
	DurationMS float64           `json:"duration_ms,omitempty"`
	Error      string            `json:"error,omitempty"`
}

// firstLineMax bounds Result.FirstLine: enough to recognise an error message, not enough
// to turn the audit log into a copy of every output.
const firstLineMax = 200

// FromSession turns a command's sessions.Result into an audit Result: the output is
// reduced to its digest, size and first line. Redaction happens when the Log writes it.
func FromSession(r sessions.Result, step int, phase, command string) Result {
	out := Result{
		Host: r.Host, Step: step, Phase: phase, Command: command,
		Outcome: string(r.Outcome), ExitCode: r.ExitCode, Started: r.Start,
		DurationMS:  Millis(r.Duration()),
		OutputBytes: int64(len(r.Stdout) + len(r.Stderr)), OutputDropped: r.Dropped,
	}
	if out.OutputBytes > 0 {
		h := sha256.New()
		h.Write(r.Stdout)
		h.Write(r.Stderr)
		out.OutputSHA256 = hex.EncodeToString(h.Sum(nil))
	}
	out.FirstLine = firstLine(r.Stdout)
	if out.FirstLine == "" {
		out.FirstLine = firstLine(r.Stderr)
	}
	if r.Err != nil {
		out.Error = r.Err.Error()
	}
	return out
}

// Millis is d in milliseconds with microsecond precision.
func Millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func firstLine(b []byte) string {
	for len(b) > 0 {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		if len(line) > firstLineMax {
			line = line[:firstLineMax]
			// Do not cut a UTF-8 sequence in half: the log must stay valid JSON text.
			for len(line) > 0 && !utf8.Valid(line) {
				line = line[:len(line)-1]
			}
			return string(line) + "…"
		}
		return string(line)
	}
	return ""
}
