package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kevinburke/ssh_config"
)

// SSHSettings are the ssh_config values opsconsole honours for one host alias. Zero
// fields were not set by the file.
type SSHSettings struct {
	HostName      string
	User          string
	Port          int
	IdentityFiles []string
	// ProxyJump is as written in ssh_config; "none" is reported as "".
	ProxyJump string
}

// SSHConfigLookup reads the ssh_config at path and returns what it sets for alias, with
// OpenSSH's first-match-wins order (IdentityFile accumulates) and %h/%n/%r/%u/%d/%% and ~
// expanded. A missing file sets nothing and is not an error.
//
// Precedence, applied by Load and expected of any other caller: a value written in the
// opsconsole inventory ([[hosts]], an inventory file) wins over ssh_config, and ssh_config
// wins over [defaults], as ssh -o would win over ~/.ssh/config.
func SSHConfigLookup(path, alias string) (SSHSettings, error) {
	sc, err := readSSHConfig(path, os.ReadFile, nil)
	if err != nil || sc == nil {
		return SSHSettings{}, err
	}
	return sc.lookup(alias)
}

// ImportSSHConfig lists the hosts ssh_config at path names explicitly: each Host pattern
// without wildcards or negation becomes a host, with its settings looked up as
// SSHConfigLookup does. Match blocks and wildcard Host blocks only contribute settings.
// Files pulled in with Include are listed too.
func ImportSSHConfig(path string) ([]Host, error) {
	sc, err := readSSHConfig(path, os.ReadFile, nil)
	if err != nil {
		return nil, err
	}
	if sc == nil {
		return nil, fmt.Errorf("%s: %w", path, fs.ErrNotExist)
	}
	return sc.hosts()
}

// sshConfig is one parsed ssh_config file.
type sshConfig struct {
	path string
	cfg  *ssh_config.Config
	env  Env
}

// readSSHConfig parses path; it returns nil, nil when the file does not exist.
func readSSHConfig(path string, read func(string) ([]byte, error), env Env) (*sshConfig, error) {
	b, err := read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cfg, err := ssh_config.DecodeBytes(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &sshConfig{path: path, cfg: cfg, env: env}, nil
}

func (s *sshConfig) lookup(alias string) (SSHSettings, error) {
	var st SSHSettings
	get := func(key string) string {
		v, _ := s.cfg.Get(alias, key)
		return v
	}
	st.User = get("User")
	st.HostName = s.expand(get("HostName"), alias, alias, st.User)
	if p := get("Port"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			// Not naming the alias lets Load report a bad Host * Port once, not per host.
			return st, &Error{File: s.path, Msg: fmt.Sprintf("Port %q: must be 1-65535", p)}
		}
		st.Port = n
	}
	host := st.HostName
	if host == "" {
		host = alias
	}
	ids, _ := s.cfg.GetAll(alias, "IdentityFile")
	for _, id := range ids {
		st.IdentityFiles = append(st.IdentityFiles, s.expand(id, host, alias, st.User))
	}
	if pj := get("ProxyJump"); !strings.EqualFold(pj, "none") {
		st.ProxyJump = pj
	}
	return st, nil
}

// expand applies the ssh_config tokens that make sense outside ssh itself.
func (s *sshConfig) expand(v, host, alias, remoteUser string) string {
	if !strings.Contains(v, "%") && !strings.HasPrefix(v, "~") {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] != '%' || i+1 == len(v) {
			b.WriteByte(v[i])
			continue
		}
		i++
		switch v[i] {
		case '%':
			b.WriteByte('%')
		case 'h':
			b.WriteString(host)
		case 'n':
			b.WriteString(alias)
		case 'r':
			b.WriteString(remoteUser)
		case 'u':
			b.WriteString(currentUser(s.env))
		case 'd':
			b.WriteString(s.env.home())
		default:
			b.WriteByte('%')
			b.WriteByte(v[i])
		}
	}
	return expandPath(b.String(), s.env, "")
}

func (s *sshConfig) hosts() ([]Host, error) {
	var aliases []string
	seen := map[string]bool{}
	collectAliases(s.cfg, s.env, 0, seen, &aliases)
	hosts := make([]Host, 0, len(aliases))
	for _, alias := range aliases {
		st, err := s.lookup(alias)
		if err != nil {
			return nil, err
		}
		hosts = append(hosts, Host{
			Name:          alias,
			Address:       st.HostName,
			Port:          st.Port,
			User:          st.User,
			Transport:     TransportSSH,
			IdentityFiles: st.IdentityFiles,
			ProxyJump:     st.ProxyJump,
			Source:        s.path,
		})
	}
	return hosts, nil
}

// maxIncludeDepth matches the ssh_config package's own limit.
const maxIncludeDepth = 5

// collectAliases appends the concrete Host patterns of cfg and of the files it Includes,
// in file order. The ssh_config package parses included files but keeps them private, so
// they are found again here with its rules: absolute, ~/…, else relative to ~/.ssh.
func collectAliases(cfg *ssh_config.Config, env Env, depth int, seen map[string]bool, out *[]string) {
	for _, h := range cfg.Hosts {
		if !isMatchBlock(h) {
			for _, p := range h.Patterns {
				alias := p.String()
				if !strings.ContainsAny(alias, "*?!") && !seen[alias] {
					seen[alias] = true
					*out = append(*out, alias)
				}
			}
		}
		if depth >= maxIncludeDepth {
			continue
		}
		for _, n := range h.Nodes {
			inc, ok := n.(*ssh_config.Include)
			if !ok {
				continue
			}
			for _, file := range includedFiles(inc, env) {
				b, err := os.ReadFile(file)
				if err != nil {
					continue
				}
				if sub, err := ssh_config.DecodeBytes(b); err == nil {
					collectAliases(sub, env, depth+1, seen, out)
				}
			}
		}
	}
}

// isMatchBlock tells Match blocks from Host blocks; the flag is private to the package,
// but its String form starts with the keyword.
func isMatchBlock(h *ssh_config.Host) bool {
	line, _, _ := strings.Cut(strings.TrimSpace(h.String()), "\n")
	return len(line) >= 5 && strings.EqualFold(line[:5], "match")
}

func includedFiles(inc *ssh_config.Include, env Env) []string {
	fields := strings.Fields(inc.String())
	var files []string
	for _, d := range fields[min(1, len(fields)):] {
		if d == "=" {
			continue
		}
		if strings.HasPrefix(d, "#") {
			break
		}
		p := expandPath(d, env, filepath.Join(env.home(), ".ssh"))
		matches, _ := filepath.Glob(p)
		files = append(files, matches...)
	}
	return files
}
