package ssh

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// identity is one parsed identity file, or the reason it cannot be used.
type identity struct {
	sig    string
	once   sync.Once
	signer ssh.Signer
	skip   string
}

var identityCache = struct {
	sync.Mutex
	m map[string]*identity // key: path
}{m: map[string]*identity{}}

// loadIdentity parses a private key file once per process (again only if the file
// changes): parsing costs far more than the stat, and a fan-out uses the same key for
// every host. Encrypted keys are skipped, with the reason kept for the AuthError:
// opsconsole never prompts; such keys belong in ssh-agent.
func loadIdentity(path string) (ssh.Signer, string) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, path + ": no such file"
		}
		return nil, fmt.Sprintf("%s: %v", path, err)
	}
	sig := fmt.Sprintf("%d\x00%d", st.ModTime().UnixNano(), st.Size())
	identityCache.Lock()
	id := identityCache.m[path]
	if id == nil || id.sig != sig {
		id = &identity{sig: sig}
		identityCache.m[path] = id
	}
	identityCache.Unlock()
	id.once.Do(func() {
		data, err := os.ReadFile(path)
		if err != nil {
			id.skip = fmt.Sprintf("%s: %v", path, err)
			return
		}
		id.signer, err = ssh.ParsePrivateKey(data)
		if _, ok := errors.AsType[*ssh.PassphraseMissingError](err); ok {
			id.skip = path + ": encrypted (needs a passphrase; load it into ssh-agent)"
		} else if err != nil {
			id.skip = fmt.Sprintf("%s: %v", path, err)
		}
	})
	return id.signer, id.skip
}

// authState collects, during one handshake, what was offered to the server, for the
// AuthError. The handshake calls back from one goroutine, one call at a time.
type authState struct {
	target Target
	files  []ssh.Signer
	names  []string // source of each file signer
	tried  []string
	skip   []string

	agentConn net.Conn
	allowed   []string // methods the server accepts, as of its last answer
}

func newAuthState(t Target) *authState {
	a := &authState{target: t}
	for _, p := range t.IdentityFiles {
		s, skip := loadIdentity(p)
		if s == nil {
			a.skip = append(a.skip, skip)
			continue
		}
		a.files = append(a.files, s)
		a.names = append(a.names, p)
	}
	return a
}

// signers lists the agent's keys first, then the identity files', as OpenSSH does. The
// agent is asked only now, when the server wants a key: a host that fails earlier
// never touches it.
func (a *authState) signers(ctx context.Context) []ssh.Signer {
	var out []ssh.Signer
	if a.target.Agent {
		if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" {
			var d net.Dialer
			conn, err := d.DialContext(ctx, "unix", sock)
			if err != nil {
				a.skip = append(a.skip, fmt.Sprintf("agent: %v", err))
			} else {
				a.agentConn = conn
				keys, err := agent.NewClient(conn).Signers()
				if err != nil {
					a.skip = append(a.skip, fmt.Sprintf("agent: %v", err))
				}
				for _, s := range keys {
					out = append(out, s)
					a.tried = append(a.tried, "agent "+describeKey(s.PublicKey()))
				}
			}
		}
	}
	for i, s := range a.files {
		// A key both in the agent and on disk is offered once.
		if slices.ContainsFunc(out, func(o ssh.Signer) bool { return keysEqual(o.PublicKey(), s.PublicKey()) }) {
			continue
		}
		out = append(out, s)
		a.tried = append(a.tried, a.names[i]+" "+describeKey(s.PublicKey()))
	}
	return out
}

// callback records what the server still accepts. It does not end authentication
// itself: x/crypto also calls it after a method failed on a transport error, which must
// come back as that error, not as refused credentials.
func (a *authState) callback(ac *ssh.ClientAuthContext) (ssh.AuthMethod, error) {
	a.allowed = ac.AllowedMethods
	return nil, nil
}

// authError returns the AuthError for a handshake that failed with err, or nil when err
// is not a refusal of our credentials. x/crypto's refusal is untyped; its message has
// been stable for years and TestWrongClientKeyFailsOnlyThatHost pins it.
func (a *authState) authError(err error) *AuthError {
	if !strings.Contains(err.Error(), "ssh: unable to authenticate") {
		return nil
	}
	e := &AuthError{Host: a.target.Name, User: a.target.User, Tried: a.tried, Skipped: a.skip}
	if !slices.Contains(a.allowed, "publickey") {
		e.Allowed = a.allowed
	}
	return e
}

func (a *authState) close() {
	if a.agentConn != nil {
		a.agentConn.Close()
	}
}

func keysEqual(x, y ssh.PublicKey) bool {
	return x.Type() == y.Type() && string(x.Marshal()) == string(y.Marshal())
}
