package sessions

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/opsconsole/opsconsole/backends/local"
	sshb "github.com/opsconsole/opsconsole/backends/ssh"
	"github.com/opsconsole/opsconsole/config"
)

// NewDialer returns the Dialer for an inventory: each host's transport picks the backend,
// and ProxyJump names resolve against the inventory first (so a bastion listed as a host
// brings its own user, port and keys), then as OpenSSH's [user@]host[:port].
func NewDialer(inv []config.Host, defaults config.Defaults) Dialer {
	byName := make(map[string]config.Host, len(inv))
	for _, h := range inv {
		byName[h.Name] = h
	}
	return func(ctx context.Context, h config.Host) (Session, error) {
		switch h.Transport {
		case config.TransportLocal:
			return local.New(), nil
		case config.TransportSSH, "":
			t, err := SSHTarget(h, byName, defaults)
			if err != nil {
				return nil, err
			}
			c, err := sshb.Dial(ctx, t)
			if err != nil {
				return nil, err
			}
			return c, nil
		default:
			return nil, fmt.Errorf("%s: transport %q is not supported yet", h.Name, h.Transport)
		}
	}
}

// SSHTarget turns an inventory host into the SSH backend's plain dial target.
func SSHTarget(h config.Host, byName map[string]config.Host, d config.Defaults) (sshb.Target, error) {
	t := target(h)
	if h.ProxyJump == "" || strings.EqualFold(h.ProxyJump, "none") {
		return t, nil
	}
	seen := map[string]bool{h.Name: true}
	for _, hop := range strings.Split(h.ProxyJump, ",") {
		hop = strings.TrimSpace(hop)
		if hop == "" {
			continue
		}
		if jh, ok := byName[hop]; ok {
			if seen[hop] {
				return t, fmt.Errorf("%s: proxy_jump loops through %s", h.Name, hop)
			}
			seen[hop] = true
			jt := target(jh)
			// A jump host's own jumps are not followed, as in OpenSSH's -J.
			t.Jumps = append(t.Jumps, jt)
			continue
		}
		jt, err := parseHop(hop, d)
		if err != nil {
			return t, fmt.Errorf("%s: proxy_jump %q: %w", h.Name, hop, err)
		}
		t.Jumps = append(t.Jumps, jt)
	}
	return t, nil
}

func target(h config.Host) sshb.Target {
	port := h.Port
	if port == 0 {
		port = 22
	}
	addr := h.Address
	if addr == "" {
		addr = h.Name
	}
	return sshb.Target{
		Name:           h.Name,
		Address:        addr,
		Port:           port,
		User:           h.User,
		IdentityFiles:  h.IdentityFiles,
		KnownHosts:     h.KnownHosts,
		Agent:          os.Getenv("SSH_AUTH_SOCK") != "",
		ConnectTimeout: h.ConnectTimeout,
		Keepalive:      h.Keepalive,
	}
}

// parseHop reads OpenSSH's [user@]host[:port] jump syntax.
func parseHop(s string, d config.Defaults) (sshb.Target, error) {
	user := d.User
	if i := strings.LastIndex(s, "@"); i >= 0 {
		user, s = s[:i], s[i+1:]
	}
	host, port := s, d.Port
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return sshb.Target{}, fmt.Errorf("bad port %q", p)
		}
		host, port = h, n
	}
	if host == "" {
		return sshb.Target{}, fmt.Errorf("no host")
	}
	if port == 0 {
		port = 22
	}
	return sshb.Target{
		Name: s, Address: host, Port: port, User: user,
		IdentityFiles: d.IdentityFiles, KnownHosts: d.KnownHosts,
		Agent:          os.Getenv("SSH_AUTH_SOCK") != "",
		ConnectTimeout: d.ConnectTimeout, Keepalive: d.Keepalive,
	}, nil
}
