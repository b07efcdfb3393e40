package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"github.com/BurntSushi/toml"
)

// LoadOptions say where Load looks.
type LoadOptions struct {
	// ConfigFile is --config: it must exist. Empty means DefaultConfigFile, which may not.
	ConfigFile string
	// InventoryFile is --inventory; it overrides the config's inventory key.
	InventoryFile string
	// Env reads HOME, XDG_CONFIG_HOME and USER; nil means the process environment.
	Env Env
}

// Load reads the configuration and the inventory and resolves every host.
//
// Hosts come from the config's [[hosts]], the inventory file, and, with
// [defaults] import_ssh_config, the hosts ssh_config names; a name defined twice in the
// first two is an error, and an ssh_config host only fills a name not already taken.
// Each host's settings are its own, then ssh_config's for its name, then [defaults].
// When the config names no hosts and no inventory, the fleet is LocalHost alone.
//
// An inventory file is TOML (only [[hosts]]) or an Ansible INI inventory: .toml means
// TOML, .ini and .cfg mean INI, and any other name is TOML when it holds a [[ line or
// parses as TOML with a hosts key, INI otherwise. Relative paths in a file are relative
// to that file's directory.
//
// Every problem found is returned at once as an ErrorList of positioned *Error values.
func Load(opts LoadOptions) (*Config, error) {
	l := &loader{env: opts.Env, read: os.ReadFile}
	return l.load(opts)
}

// rawSections are the top-level keys kept undecoded in Config.Raw for later features.
var rawSections = map[string]bool{
	"prometheus": true, "probes": true, "logs": true, "runbooks": true, "rollouts": true,
	"keys": true, "theme": true, "heal": true, "audit": true, "recording": true,
}

var (
	defaultsKeys = []string{"user", "port", "identity_files", "known_hosts", "connect_timeout",
		"command_timeout", "keepalive", "concurrency", "output_limit", "ssh_config", "import_ssh_config"}
	hostKeys = []string{"name", "address", "port", "user", "transport", "tags", "groups",
		"identity_files", "known_hosts", "proxy_jump", "connect_timeout", "command_timeout", "keepalive",
		"node_exporter"}
	thresholdKeys = []string{"cpu_warn", "cpu_crit", "mem_warn", "mem_crit", "disk_warn",
		"disk_crit", "load_warn", "load_crit"}
)

type loader struct {
	env Env
	// read is os.ReadFile, replaced in fuzzing so that input cannot name device files.
	read func(string) ([]byte, error)

	cfg     *Config
	errs    ErrorList
	entries []*entry

	hostsDefined      bool   // the config has a hosts key
	inventory         string // from the config's inventory key
	sshConfigExplicit bool   // [defaults] ssh_config was written
}

// entry is a host on its way to being resolved, with where to report problems about it.
type entry struct {
	h    Host
	loc  *located // TOML hosts: positions by key path
	key  string   // TOML hosts: the host's path, e.g. hosts[2]
	file string   // other hosts: where they came from
	line int
}

func (e *entry) errorf(field, format string, args ...any) *Error {
	if e.loc != nil {
		return e.loc.errorf(joinKey(e.key, field), format, args...)
	}
	return newError(e.file, e.line, 0, "", "host %s: "+format, append([]any{e.h.Name}, args...)...)
}

func (l *loader) load(opts LoadOptions) (*Config, error) {
	l.cfg = &Config{
		Defaults:         DefaultDefaults(l.env),
		Thresholds:       DefaultThresholds(),
		ReadOnlyCommands: DefaultReadOnlyCommands(),
		Raw:              map[string]any{},
	}
	// Flags like --config=~/x reach us unexpanded: the shell expands ~ only at a word's start.
	opts.ConfigFile = expandPath(opts.ConfigFile, l.env, "")
	opts.InventoryFile = expandPath(opts.InventoryFile, l.env, "")
	path := opts.ConfigFile
	if path == "" {
		path = DefaultConfigFile(l.env)
	}
	src, err := l.read(path)
	switch {
	case err == nil:
		l.cfg.Files = append(l.cfg.Files, path)
		if !l.parseConfig(path, src) {
			return nil, l.errs.sorted(l.cfg.Files)
		}
	case opts.ConfigFile != "" || !errors.Is(err, fs.ErrNotExist):
		return nil, fileError(path, err)
	}

	inv := opts.InventoryFile
	if inv == "" {
		inv = l.inventory
	}
	if inv != "" {
		l.loadInventory(inv, opts.InventoryFile == "")
	}
	sc := l.loadSSHConfig()
	if !l.hostsDefined && inv == "" && !l.cfg.Defaults.ImportSSHConfig {
		local := LocalHost()
		l.entries = append(l.entries, &entry{h: local, file: local.Source})
	}
	l.resolveHosts(sc)
	if err := l.errs.sorted(l.cfg.Files); err != nil {
		return nil, err
	}
	return l.cfg, nil
}

func fileError(path string, err error) *Error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &Error{File: path, Msg: err.Error()}
}

// parseConfig decodes the config file into l.cfg. It reports false on a syntax error,
// after which nothing else is worth checking; other problems are collected and loading
// goes on, so that one run reports them all.
func (l *loader) parseConfig(path string, src []byte) bool {
	var m map[string]any
	if _, err := toml.Decode(string(src), &m); err != nil {
		l.errs = append(l.errs, tomlError(path, err))
		return false
	}
	l.cfg.loc = locateKeys(path, string(src))
	d := &decoder{loc: l.cfg.loc, errs: &l.errs, env: l.env, dir: filepath.Dir(path)}
	cfg := l.cfg
	for k, v := range m {
		switch {
		case k == "defaults":
			l.sshConfigExplicit = d.defaults(v, &cfg.Defaults)
		case k == "thresholds":
			d.thresholds(v, &cfg.Thresholds)
		case k == "hosts":
			l.hostsDefined = true
			l.entries = append(l.entries, d.hosts(v, "hosts")...)
		case k == "read_only":
			d.boolean(m, "", k, &cfg.ReadOnly)
		case k == "read_only_commands":
			d.strings(m, "", k, &cfg.ReadOnlyCommands, false)
		case k == "inventory":
			var p string
			if d.str(m, "", k, &p) {
				l.inventory = expandPath(p, l.env, d.dir)
			}
		case rawSections[k]:
			cfg.Raw[k] = v
		default:
			d.errorf(joinKey("", k), "unknown key")
		}
	}
	return true
}

func (l *loader) loadInventory(path string, fromConfig bool) {
	fail := func(err error) {
		if fromConfig {
			l.errs = append(l.errs, l.cfg.loc.errorf("inventory", "%s: %v", path, fileError(path, err).Msg))
		} else {
			l.errs = append(l.errs, fileError(path, err))
		}
	}
	src, err := l.read(path)
	if err != nil {
		fail(err)
		return
	}
	l.cfg.Files = append(l.cfg.Files, path)
	ini, err := isINI(path, src)
	if err != nil {
		fail(err)
		return
	}
	if ini {
		hosts, err := ImportAnsibleINI(bytes.NewReader(src), path)
		if err != nil {
			l.errs.add(path, err)
			return
		}
		for _, h := range hosts {
			for i, id := range h.IdentityFiles {
				h.IdentityFiles[i] = expandPath(id, l.env, filepath.Dir(path))
			}
			n, _ := strconv.Atoi(h.Source[strings.LastIndexByte(h.Source, ':')+1:])
			l.entries = append(l.entries, &entry{h: h, file: path, line: n})
		}
		return
	}
	var m map[string]any
	if _, err := toml.Decode(string(src), &m); err != nil {
		l.errs = append(l.errs, tomlError(path, err))
		return
	}
	d := &decoder{loc: locateKeys(path, string(src)), errs: &l.errs, env: l.env, dir: filepath.Dir(path)}
	for k, v := range m {
		if k != "hosts" {
			d.errorf(joinKey("", k), "unknown key (an inventory file holds only [[hosts]])")
			continue
		}
		l.entries = append(l.entries, d.hosts(v, "hosts")...)
	}
}

// isINI applies the inventory format rule documented on Load.
func isINI(path string, src []byte) (bool, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".toml":
		return false, nil
	case ".ini", ".cfg":
		return true, nil
	case ".yml", ".yaml", ".json":
		return false, errors.New("YAML and JSON inventories are not supported; use TOML or Ansible INI")
	}
	for _, line := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "[[") {
			return false, nil
		}
	}
	var m map[string]any
	if _, err := toml.Decode(string(src), &m); err == nil && m["hosts"] != nil {
		return false, nil
	}
	return true, nil
}

// loadSSHConfig reads [defaults] ssh_config when it exists. A file the user named (or
// asked to import) must parse; the implicit ~/.ssh/config only warns, because it may
// use directives the parser lacks and that should not keep opsconsole from starting.
func (l *loader) loadSSHConfig() *sshConfig {
	d := &l.cfg.Defaults
	if d.SSHConfig == "" {
		return nil // ssh_config = "" turns the lookup off
	}
	sc, err := readSSHConfig(d.SSHConfig, l.read, l.env)
	must := l.sshConfigExplicit || d.ImportSSHConfig
	switch {
	case err != nil && must:
		l.errs = append(l.errs, l.cfg.loc.errorf("defaults.ssh_config", "%v", err))
		return nil
	case err != nil:
		l.cfg.Warnings = append(l.cfg.Warnings, fmt.Sprintf("ssh_config not used: %v", err))
		return nil
	case sc == nil && d.ImportSSHConfig:
		l.errs = append(l.errs, l.cfg.loc.errorf("defaults.import_ssh_config", "%s does not exist", d.SSHConfig))
		return nil
	case sc == nil:
		return nil
	}
	l.cfg.Files = append(l.cfg.Files, d.SSHConfig)
	if d.ImportSSHConfig {
		taken := map[string]bool{}
		for _, e := range l.entries {
			taken[e.h.Name] = true
		}
		hosts, err := sc.hosts()
		if err != nil {
			l.errs.add(d.SSHConfig, err)
		}
		for _, h := range hosts {
			if !taken[h.Name] {
				l.entries = append(l.entries, &entry{h: h, file: d.SSHConfig})
			}
		}
	}
	return sc
}

// resolveHosts fills every host from ssh_config and [defaults], then checks the
// inventory as a whole: unique names and proxy_jump targets.
func (l *loader) resolveHosts(sc *sshConfig) {
	d := l.cfg.Defaults
	sshErrs := map[string]bool{}
	for _, e := range l.entries {
		h := &e.h
		if h.Transport == "" {
			h.Transport = TransportSSH
		}
		if h.Transport == TransportSSH && sc != nil {
			st, err := sc.lookup(h.Name)
			if err != nil && !sshErrs[err.Error()] {
				sshErrs[err.Error()] = true
				l.errs.add(sc.path, err)
			}
			h.Address = cmp.Or(h.Address, st.HostName)
			h.User = cmp.Or(h.User, st.User)
			h.Port = cmp.Or(h.Port, st.Port)
			h.ProxyJump = cmp.Or(h.ProxyJump, st.ProxyJump)
			if len(h.IdentityFiles) == 0 {
				h.IdentityFiles = st.IdentityFiles
			}
		}
		if strings.EqualFold(h.ProxyJump, "none") {
			h.ProxyJump = ""
		}
		h.Address = cmp.Or(h.Address, h.Name)
		h.User = cmp.Or(h.User, d.User)
		h.ConnectTimeout = cmp.Or(h.ConnectTimeout, d.ConnectTimeout)
		h.CommandTimeout = cmp.Or(h.CommandTimeout, d.CommandTimeout)
		h.Keepalive = cmp.Or(h.Keepalive, d.Keepalive)
		// Port, keys and known_hosts are SSH's; a WinRM host's port 0 leaves the choice
		// of 5985 or 5986 to its backend.
		if h.Transport == TransportSSH || h.Transport == TransportLocal {
			h.Port = cmp.Or(h.Port, d.Port)
			if len(h.IdentityFiles) == 0 {
				h.IdentityFiles = d.IdentityFiles
			}
			if len(h.KnownHosts) == 0 {
				h.KnownHosts = d.KnownHosts
			}
		}
	}

	byName := map[string]*entry{}
	for _, e := range l.entries {
		name := e.h.Name
		if name == "" {
			l.errs = append(l.errs, e.errorf("name", "a host needs a non-empty name"))
			continue
		}
		// Patterns split on commas and spaces and negate with !, so such a name could
		// never be selected on its own.
		if strings.ContainsFunc(name, unicode.IsSpace) || strings.Contains(name, ",") || name[0] == '!' {
			l.errs = append(l.errs, e.errorf("name", "%q: a name cannot hold spaces or commas or start with !", name))
			continue
		}
		if first, ok := byName[e.h.Name]; ok {
			l.errs = append(l.errs, e.errorf("name", "duplicate host name %q (first defined at %s)", e.h.Name, first.h.Source))
			continue
		}
		byName[e.h.Name] = e
	}
	for _, e := range l.entries {
		if e.h.ProxyJump == "" {
			continue
		}
		for _, hop := range strings.Split(e.h.ProxyJump, ",") {
			hop = strings.TrimSpace(hop)
			switch {
			case hop == e.h.Name:
				l.errs = append(l.errs, e.errorf("proxy_jump", "host %q cannot jump through itself", hop))
			case byName[hop] != nil:
			default:
				if err := checkJump(hop); err != nil {
					l.errs = append(l.errs, e.errorf("proxy_jump", "%q is neither an inventory host nor [user@]host[:port]: %v", hop, err))
				}
			}
		}
	}
	l.cfg.Hosts = make([]Host, len(l.entries))
	for i, e := range l.entries {
		l.cfg.Hosts[i] = e.h
	}
}

// checkJump validates OpenSSH's [user@]host[:port] jump syntax.
func checkJump(hop string) error {
	if hop == "" {
		return errors.New("empty jump host")
	}
	host := hop
	if i := strings.LastIndexByte(hop, '@'); i >= 0 {
		if i == 0 {
			return errors.New("empty user")
		}
		host = hop[i+1:]
	}
	if h, p, err := net.SplitHostPort(host); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q must be 1-65535", p)
		}
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	if net.ParseIP(host) != nil {
		return nil
	}
	if host == "" {
		return errors.New("empty host")
	}
	for i := 0; i < len(host); i++ {
		if c := host[i]; !isBareKeyChar(c) && c != '.' {
			return fmt.Errorf("host %q has invalid character %q", host, c)
		}
	}
	return nil
}

// Errorf makes an *Error positioned at key in the config file, a path such as
// "probes[1].interval" (a missing key falls back to its nearest table), so that the
// owners of the Raw sections report problems as precisely as Load does.
func (c *Config) Errorf(key, format string, args ...any) *Error {
	return c.loc.errorf(key, format, args...)
}
