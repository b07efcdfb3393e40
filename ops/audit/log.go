package audit

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/user"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/gate"
	"github.com/opsconsole/opsconsole/ops/redact"
)

// FileName is the log's name inside the state directory.
const FileName = "audit.jsonl"

// DefaultPath is $XDG_STATE_HOME/opsconsole/audit.jsonl.
func DefaultPath(env config.Env) string { return filepath.Join(config.StateDir(env), FileName) }

// Options configure a Log.
type Options struct {
	// Redactor cleans every string written; nil applies redact's defaults.
	Redactor *redact.Redactor
	// Env reads USER, SUDO_USER, SSH_CLIENT and SSH_CONNECTION; nil means os.Getenv.
	Env func(string) string
	// Now stamps records; nil means time.Now.
	Now func() time.Time
	// Version is opsconsole's version for intents; empty means Version().
	Version string
}

// Log appends records to the audit file. It is safe for concurrent use: many hosts
// report results at once. Each record is one write(2) on a file opened O_APPEND, so lines
// never interleave, not even with another opsconsole process appending to the same file.
type Log struct {
	path    string
	red     *redact.Redactor
	now     func() time.Time
	who     Who
	version string

	// mu orders writes, so that a write's sequence number is also its place in the file.
	mu      sync.Mutex
	f       *os.File
	written uint64 // sequence number of the last write
	closed  bool

	// sync implements group commit: a writer waits until a sync that started after its
	// write has finished; concurrent writers share one fsync instead of queueing for one
	// each.
	smu     sync.Mutex
	scond   *sync.Cond
	synced  uint64
	syncing bool
	syncErr error
}

// Open opens (creating it, and its directory, when needed) the log at path for appending.
// The directory is made 0700 and the file 0600: the log names hosts, commands and people.
//
// A file that ends in the middle of a line (a write torn by a crash) gets a newline first,
// so the torn fragment stays on a line of its own and the next record is not glued to it.
func Open(path string, opt Options) (*Log, error) {
	if path == "" {
		return nil, errors.New("audit: no log path")
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, os.ErrNotExist)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	if err := terminateTornLine(f, path); err != nil {
		f.Close()
		return nil, fmt.Errorf("audit: %w", err)
	}
	if created {
		// The file's directory entry must survive a crash as surely as the intent in it.
		if err := syncDir(dir); err != nil {
			f.Close()
			return nil, fmt.Errorf("audit: %w", err)
		}
	}
	l := &Log{path: path, red: opt.Redactor, now: opt.Now, version: opt.Version, f: f}
	l.scond = sync.NewCond(&l.smu)
	if l.now == nil {
		l.now = time.Now
	}
	if l.red == nil {
		l.red = redact.Default()
	}
	if l.version == "" {
		l.version = Version()
	}
	l.who = currentWho(opt.Env)
	return l, nil
}

func terminateTornLine(f *os.File, path string) error {
	r, err := os.Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	st, err := r.Stat()
	if err != nil || st.Size() == 0 {
		return err
	}
	last := make([]byte, 1)
	if _, err := r.ReadAt(last, st.Size()-1); err != nil {
		return err
	}
	if last[0] == '\n' {
		return nil
	}
	if _, err := f.Write([]byte("\n")); err != nil {
		return err
	}
	return f.Sync()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Path is the file the log appends to.
func (l *Log) Path() string { return l.path }

// Who is the person the log attributes Actions to.
func (l *Log) Who() Who { return l.who }

// Intent records what an Action is about to do and returns its id. It returns only
// after the record is on disk (fsync'd): a caller must not run anything until Intent has
// returned without error, and must refuse the Action when it errors.
func (l *Log) Intent(in Intent) (ActionID, error) {
	now := l.now()
	id := newID(now)
	in.Who = l.who
	if in.Version == "" {
		in.Version = l.version
	}
	if len(in.Hosts) == 0 {
		in.Hosts = planHosts(in.When, in.Steps)
	}
	in.Reason = l.red.Redact(in.Reason)
	in.Name = l.red.Redact(in.Name)
	in.When = l.redactSteps(in.When)
	in.Steps = l.redactSteps(in.Steps)
	if in.Vars != nil {
		vars := make(map[string]string, len(in.Vars))
		for k, v := range in.Vars {
			// The value is judged with its name, so that a variable called password is
			// hidden whatever it holds.
			vars[k] = strings.TrimPrefix(l.red.Redact(k+"="+v), k+"=")
		}
		in.Vars = vars
	}
	if err := l.append(Record{Type: TypeIntent, ID: id, Time: now, Intent: &in}); err != nil {
		return "", err
	}
	return id, nil
}

// Result records how one command ended on one host. It returns once the record is on
// disk.
func (l *Log) Result(id ActionID, r Result) error {
	r.Command = l.red.Redact(r.Command)
	r.FirstLine = l.red.Redact(r.FirstLine)
	r.Error = l.red.Redact(r.Error)
	r.Note = l.red.Redact(r.Note)
	return l.append(Record{Type: TypeResult, ID: id, Time: l.now(), Result: &r})
}

// Done closes an Action. It returns once the record is on disk.
func (l *Log) Done(id ActionID, d Done) error {
	d.Error = l.red.Redact(d.Error)
	if d.Counts == nil && d.Hosts != nil {
		d.Counts = map[string]int{}
		for _, st := range d.Hosts {
			d.Counts[st]++
		}
	}
	return l.append(Record{Type: TypeDone, ID: id, Time: l.now(), Done: &d})
}

// Abandon closes a run found interrupted (see Interrupted) once someone has looked at it,
// with outcome "interrupted", so it is not reported again. Hosts that reported keep the
// state of their last result; the others are "unknown".
func (l *Log) Abandon(run Run, note string) error {
	hosts := map[string]string{}
	for _, p := range run.Started {
		hosts[p.Host] = p.Last.Outcome
	}
	for _, h := range run.NotStarted {
		hosts[h] = "unknown"
	}
	return l.Done(run.ID, Done{Outcome: "interrupted", Hosts: hosts, Error: note})
}

// Close closes the file. Records written before Close are on disk.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	return l.f.Close()
}

func (l *Log) redactSteps(steps []Step) []Step {
	if steps == nil {
		return nil
	}
	out := make([]Step, len(steps))
	for i, s := range steps {
		s.Hosts = slices.Clone(s.Hosts)
		s.Name = l.red.Redact(s.Name)
		s.Command = l.red.Redact(s.Command)
		s.Check = l.red.Redact(s.Check)
		s.Rollback = l.red.Redact(s.Rollback)
		out[i] = s
	}
	return out
}

// append writes one record as one line with one write call, then waits for it to be
// fsync'd.
func (l *Log) append(rec Record) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	line = append(line, '\n')
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return errors.New("audit: log closed")
	}
	_, err = l.f.Write(line)
	l.written++
	seq := l.written
	l.mu.Unlock()
	if err != nil {
		return fmt.Errorf("audit: write %s: %w", l.path, err)
	}
	return l.syncTo(seq)
}

// syncTo returns once a fsync that began after write seq has completed.
func (l *Log) syncTo(seq uint64) error {
	l.smu.Lock()
	defer l.smu.Unlock()
	for l.synced < seq {
		if l.syncing {
			l.scond.Wait()
			continue
		}
		l.syncing = true
		l.mu.Lock()
		target := l.written
		l.mu.Unlock()
		l.smu.Unlock()
		err := l.f.Sync()
		l.smu.Lock()
		l.syncing = false
		if err == nil {
			l.synced = max(l.synced, target)
		}
		l.scond.Broadcast()
		if err != nil {
			return fmt.Errorf("audit: fsync %s: %w", l.path, err)
		}
	}
	return nil
}

func planHosts(groups ...[]Step) []string {
	seen := map[string]bool{}
	var out []string
	for _, steps := range groups {
		for _, s := range steps {
			for _, h := range s.Hosts {
				if !seen[h] {
					seen[h] = true
					out = append(out, h)
				}
			}
		}
	}
	return out
}

// ActionIntent is the Intent of a gate.Action as it stands (an ad-hoc exec, say): one
// Step per gate step, numbered from 1.
func ActionIntent(a gate.Action) Intent {
	in := Intent{Kind: a.Kind, Name: a.Name, Reason: a.Reason, Hosts: a.Hosts()}
	for i, s := range a.Steps {
		in.Steps = append(in.Steps, Step{Step: i + 1, Hosts: slices.Clone(s.Hosts), Command: s.Command, Rollback: s.Rollback})
	}
	return in
}

// newID is the intent's UTC time to the second, then random bits: sortable, and unique
// without coordinating with other opsconsole processes writing the same file.
func newID(t time.Time) ActionID {
	var b [5]byte
	rand.Read(b[:])
	return ActionID(t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:]))
}

func currentWho(env func(string) string) Who {
	if env == nil {
		env = os.Getenv
	}
	w := Who{
		SudoUser:      env("SUDO_USER"),
		SSHClient:     env("SSH_CLIENT"),
		SSHConnection: env("SSH_CONNECTION"),
		PID:           os.Getpid(),
	}
	// The account is the kernel's idea, not $USER, which anyone can set.
	if u, err := user.Current(); err == nil && u.Username != "" {
		w.User = u.Username
	} else {
		w.User = env("USER")
	}
	w.Machine, _ = os.Hostname()
	return w
}

// Version is opsconsole's version as the Go toolchain stamped it into the binary: the
// module version, or the VCS revision (with "+dirty" for uncommitted changes).
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" && (v == "" || v == "(devel)") {
		v = rev[:min(12, len(rev))]
		if settings["vcs.modified"] == "true" {
			v += "+dirty"
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return v
}

// Settings is the `[audit]` configuration section.
type Settings struct {
	// Path is the log file: `[audit] path`, or DefaultPath.
	Path     string
	Redactor *redact.Redactor
}

// auditKeys are the keys `[audit]` may hold.
var auditKeys = []string{"path", "redact"}

// FromConfig reads `[audit]`: path (~ expands to $HOME; a relative path is relative to
// the config file) and redact (extra patterns, see redact.FromConfig). Unknown keys are
// errors positioned at the key.
func FromConfig(cfg *config.Config, env config.Env) (Settings, error) {
	s := Settings{Path: DefaultPath(env)}
	if cfg == nil {
		s.Redactor = redact.Default()
		return s, nil
	}
	var errs config.ErrorList
	if raw, ok := cfg.Raw["audit"]; ok {
		sec, ok := raw.(map[string]any)
		if !ok {
			return s, cfg.Errorf("audit", "must be a table")
		}
		for _, k := range slices.Sorted(maps.Keys(sec)) {
			if !slices.Contains(auditKeys, k) {
				errs = append(errs, cfg.Errorf("audit."+k, "unknown key (known: %s)", strings.Join(auditKeys, ", ")))
			}
		}
		if v, ok := sec["path"]; ok {
			p, ok := v.(string)
			switch {
			case !ok || p == "":
				errs = append(errs, cfg.Errorf("audit.path", "must be a non-empty string"))
			default:
				s.Path = expand(p, env, cfg.Files)
			}
		}
	}
	red, err := redact.FromConfig(cfg)
	if err != nil {
		var list config.ErrorList
		var one *config.Error
		switch {
		case errors.As(err, &list):
			errs = append(errs, list...)
		case errors.As(err, &one):
			errs = append(errs, one)
		default:
			return s, err
		}
	}
	if len(errs) > 0 {
		return s, errs
	}
	s.Redactor = red
	return s, nil
}

func expand(p string, env config.Env, files []string) string {
	get := os.Getenv
	if env != nil {
		get = env
	}
	switch {
	case p == "~" || strings.HasPrefix(p, "~/"):
		home := get("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		return filepath.Join(home, p[1:])
	case !filepath.IsAbs(p) && len(files) > 0:
		return filepath.Join(filepath.Dir(files[0]), p)
	}
	return p
}
