package heal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/opsconsole/opsconsole/config"
)

// StateFile is the limiter's file inside the state directory.
const StateFile = "heal-state.json"

// DefaultStatePath is $XDG_STATE_HOME/opsconsole/heal-state.json.
func DefaultStatePath(env config.Env) string { return filepath.Join(config.StateDir(env), StateFile) }

// stateVersion is written into the file, so that a later format can tell old files.
const stateVersion = 1

type stateDoc struct {
	Version int `json:"version"`
	Limiter
}

// LoadState reads the limiter's state. A missing file is an empty limiter: nothing has
// run automatically yet.
func LoadState(path string) (Limiter, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Limiter{}, nil
	}
	if err != nil {
		return Limiter{}, err
	}
	var doc stateDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return Limiter{}, fmt.Errorf("%s: %w (move it aside to start over; the hourly limits then forget past runs)", path, err)
	}
	if doc.Version > stateVersion {
		return Limiter{}, fmt.Errorf("%s: written by a newer opsconsole (version %d)", path, doc.Version)
	}
	return doc.Limiter, nil
}

// SaveState writes l to path the way a crash cannot tear: a temporary file beside it,
// fsync'd, renamed over the old one, and the directory fsync'd so the rename itself is
// on disk. A reader sees the old state or the new one, never half of either.
func SaveState(path string, l Limiter) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(stateDoc{Version: stateVersion, Limiter: l}, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename there is nothing left to remove
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// UpdateState changes the state file under an exclusive lock: it reads the state, drops
// what can no longer limit anything (Prune with keep), applies fn and saves the result,
// which it returns. Two opsconsole processes (a cron `heal` and a console) updating at
// once take turns, so neither loses the other's runs and a group's share cannot be taken
// twice.
func UpdateState(path string, now time.Time, keep time.Duration, fn func(Limiter) Limiter) (Limiter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return Limiter{}, err
	}
	lock, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return Limiter{}, err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return Limiter{}, fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	l, err := LoadState(path)
	if err != nil {
		return Limiter{}, err
	}
	l = fn(l.Prune(now, keep))
	if err := SaveState(path, l); err != nil {
		return Limiter{}, err
	}
	return l, nil
}
