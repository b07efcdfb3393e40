package config

import (
	"os"
	"os/user"
	"path/filepath"
	"strings"
)

// Env looks up an environment variable. Loading reads the environment only through it,
// so tests can run against a throwaway home; nil means os.Getenv.
type Env func(key string) string

func (e Env) get(key string) string {
	if e == nil {
		return os.Getenv(key)
	}
	return e(key)
}

// home is $HOME, falling back to the OS's idea only when the environment has none.
func (e Env) home() string {
	if h := e.get("HOME"); h != "" {
		return h
	}
	h, _ := os.UserHomeDir()
	return h
}

// xdgDir applies the XDG rule that a relative base directory is ignored.
func (e Env) xdgDir(variable, fallback string) string {
	if d := e.get(variable); filepath.IsAbs(d) {
		return filepath.Join(d, "opsconsole")
	}
	return filepath.Join(e.home(), fallback, "opsconsole")
}

// ConfigDir is $XDG_CONFIG_HOME/opsconsole, by default ~/.config/opsconsole.
func ConfigDir(env Env) string { return env.xdgDir("XDG_CONFIG_HOME", ".config") }

// StateDir is $XDG_STATE_HOME/opsconsole, by default ~/.local/state/opsconsole: the audit
// log, recordings and rollout state live there.
func StateDir(env Env) string { return env.xdgDir("XDG_STATE_HOME", filepath.Join(".local", "state")) }

// DefaultConfigFile is where Load looks when no --config is given.
func DefaultConfigFile(env Env) string { return filepath.Join(ConfigDir(env), "config.toml") }

// expandPath expands a leading ~ and makes a relative path relative to dir (the
// directory of the file that named it), so a config means the same from any cwd.
func expandPath(p string, env Env, dir string) string {
	if p == "" {
		return ""
	}
	if p == "~" || strings.HasPrefix(p, "~/") {
		return filepath.Join(env.home(), p[1:])
	}
	if dir != "" && !filepath.IsAbs(p) {
		return filepath.Join(dir, p)
	}
	return p
}

// currentUser is the login name ssh itself would use: the account, then $USER.
func currentUser(env Env) string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return env.get("USER")
}
