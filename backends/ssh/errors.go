package ssh

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/crypto/ssh"
)

// ErrConnectionLost is wrapped by Exec's error when the connection died before the
// command's exit status arrived.
var ErrConnectionLost = errors.New("connection lost")

// HostKeyError means the host's key could not be verified against known_hosts: the host
// is not listed (Changed false), it is listed with another key (Changed true: possibly
// an attack, never retry blindly), or its key is revoked. Err is set when the check
// itself could not run (an unreadable known_hosts file).
type HostKeyError struct {
	Host        string // inventory name
	Addr        string // host:port dialled
	KeyType     string // offered key, as OpenSSH names it: ED25519, RSA, ECDSA
	Fingerprint string // offered key, SHA256:…
	Changed     bool
	Revoked     bool
	// File and Line locate the known_hosts entry the offered key contradicts (Changed)
	// or that revokes it (Revoked); KnownFingerprint is that entry's key.
	File             string
	Line             int
	KnownFingerprint string
	// Files are the known_hosts files consulted.
	Files []string
	Err   error
}

func (e *HostKeyError) Error() string {
	switch {
	case e.Err != nil:
		return fmt.Sprintf("cannot check host key for %s (%s): %v", e.Host, e.Addr, e.Err)
	case e.Revoked:
		return fmt.Sprintf("host key for %s (%s) is REVOKED: %s key %s is marked @revoked at %s:%d",
			e.Host, e.Addr, e.KeyType, e.Fingerprint, displayPath(e.File), e.Line)
	case e.Changed:
		return fmt.Sprintf("REMOTE HOST IDENTIFICATION HAS CHANGED for %s (%s): server offered %s %s, %s:%d has %s",
			e.Host, e.Addr, e.KeyType, e.Fingerprint, displayPath(e.File), e.Line, e.KnownFingerprint)
	case len(e.Files) == 0:
		return fmt.Sprintf("host key for %s (%s) is not known: %s key %s, and no known_hosts file is configured",
			e.Host, e.Addr, e.KeyType, e.Fingerprint)
	default:
		shown := make([]string, len(e.Files))
		for i, f := range e.Files {
			shown[i] = displayPath(f)
		}
		return fmt.Sprintf("host key for %s (%s) is not known: %s key %s is not in %s",
			e.Host, e.Addr, e.KeyType, e.Fingerprint, strings.Join(shown, ", "))
	}
}

func (e *HostKeyError) Unwrap() error { return e.Err }

// AuthError means the server refused every credential offered.
type AuthError struct {
	Host string
	User string
	// Tried lists the keys offered, each as "source TYPE SHA256:…" (source is "agent" or
	// the identity file).
	Tried []string
	// Skipped lists identity files that could not be offered and why (missing, needs a
	// passphrase, unreadable), and an agent that could not be reached.
	Skipped []string
	// Allowed lists the methods the server would still accept (e.g. "password"), when
	// it said so.
	Allowed []string
	// Err is set when the server hung up during authentication instead of refusing
	// (sshd's MaxAuthTries: too many keys offered).
	Err error
}

func (e *AuthError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "authentication failed for %s@%s", e.User, e.Host)
	if len(e.Tried) == 0 {
		b.WriteString(": no key to offer")
	} else {
		fmt.Fprintf(&b, ": tried %s", strings.Join(e.Tried, ", "))
	}
	if len(e.Skipped) > 0 {
		fmt.Fprintf(&b, "; skipped %s", strings.Join(e.Skipped, "; "))
	}
	if len(e.Allowed) > 0 {
		fmt.Fprintf(&b, "; server allows %s", strings.Join(e.Allowed, ","))
	}
	if e.Err != nil {
		fmt.Fprintf(&b, "; %v", e.Err)
	}
	return b.String()
}

func (e *AuthError) Unwrap() error { return e.Err }

// ConnectError means the connection could not be set up: TCP refused or unreachable,
// no SSH banner or handshake within the connect timeout, a jump host that failed, or
// the caller's context ending. Err tells which; errors.Is(err, context.DeadlineExceeded)
// holds for timeouts and errors.Is(err, context.Canceled) for cancellation.
type ConnectError struct {
	Host string
	Addr string
	Err  error
}

func (e *ConnectError) Error() string {
	msg := e.Err.Error()
	var op *net.OpError
	if errors.As(e.Err, &op) && op.Err != nil {
		// "dial tcp 127.0.0.1:22: connect: connection refused" repeats the address.
		msg = op.Err.Error()
	}
	return fmt.Sprintf("connect to %s (%s): %s", e.Host, e.Addr, msg)
}

func (e *ConnectError) Unwrap() error { return e.Err }

// Timeout reports whether the connection failed for lack of time.
func (e *ConnectError) Timeout() bool {
	var t interface{ Timeout() bool }
	return errors.Is(e.Err, context.DeadlineExceeded) || (errors.As(e.Err, &t) && t.Timeout())
}

// timeoutError says which phase ran out of time; it matches context.DeadlineExceeded.
type timeoutError struct{ msg string }

func (e *timeoutError) Error() string        { return e.msg }
func (e *timeoutError) Timeout() bool        { return true }
func (e *timeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// keyTypeName names a key type as OpenSSH prints it in its warnings.
func keyTypeName(k ssh.PublicKey) string {
	t := k.Type()
	cert := strings.Contains(t, "-cert-")
	var name string
	switch {
	case strings.HasPrefix(t, ssh.KeyAlgoED25519):
		name = "ED25519"
	case strings.HasPrefix(t, ssh.KeyAlgoSKED25519):
		name = "ED25519-SK"
	case strings.HasPrefix(t, ssh.KeyAlgoSKECDSA256):
		name = "ECDSA-SK"
	case strings.HasPrefix(t, "ecdsa-"):
		name = "ECDSA"
	case strings.HasPrefix(t, ssh.KeyAlgoRSA):
		name = "RSA"
	case strings.HasPrefix(t, ssh.InsecureKeyAlgoDSA):
		name = "DSA"
	default:
		return t
	}
	if cert {
		name += "-CERT"
	}
	return name
}

// describeKey is "TYPE SHA256:…", how keys appear in our messages.
func describeKey(k ssh.PublicKey) string {
	return keyTypeName(k) + " " + ssh.FingerprintSHA256(k)
}

// displayPath shortens the home directory to ~ as OpenSSH's messages do.
func displayPath(p string) string {
	home, err := os.UserHomeDir()
	if err != nil || home == "" || home == "/" {
		return p
	}
	if rel, err := filepath.Rel(home, p); err == nil && !strings.HasPrefix(rel, "..") && !filepath.IsAbs(rel) {
		return filepath.Join("~", rel)
	}
	return p
}
