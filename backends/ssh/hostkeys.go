package ssh

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// knownHostsDB is one parsed set of known_hosts files. A fan-out dials hundreds of
// hosts against the same files, so a set is parsed once per process and reused until
// one of its files changes (path, mtime and size are the cache key).
type knownHostsDB struct {
	files []string // as configured, for messages
	sig   string   // path, mtime and size of each file

	once sync.Once
	cb   ssh.HostKeyCallback
	err  error

	// algos caches, per address, the host key algorithms to ask for (see
	// hostKeyAlgorithms): computing them walks every known_hosts line, which for hashed
	// entries means an HMAC per line.
	algos sync.Map // string -> []string
}

var knownHostsCache = struct {
	sync.Mutex
	m map[string]*knownHostsDB // key: the file list
}{m: map[string]*knownHostsDB{}}

// loadKnownHosts returns the parsed database for files, from the cache when no file has
// changed. A missing file counts as empty, as in OpenSSH, so that every host is reported
// as unknown rather than the whole fan-out failing on one absent path.
func loadKnownHosts(files []string) (*knownHostsDB, error) {
	key := strings.Join(files, "\x00")
	var sig strings.Builder
	present := make([]string, 0, len(files))
	for _, f := range files {
		st, err := os.Stat(f)
		if errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(&sig, "%s\x00-\x00", f)
			continue
		}
		if err != nil {
			return nil, err
		}
		present = append(present, f)
		fmt.Fprintf(&sig, "%s\x00%d\x00%d\x00", f, st.ModTime().UnixNano(), st.Size())
	}
	knownHostsCache.Lock()
	db := knownHostsCache.m[key]
	if db == nil || db.sig != sig.String() {
		// Replace rather than add: only the current version of a file set is kept.
		db = &knownHostsDB{files: files, sig: sig.String()}
		knownHostsCache.m[key] = db
	}
	knownHostsCache.Unlock()
	db.once.Do(func() { db.cb, db.err = knownhosts.New(present...) })
	return db, db.err
}

// probeKey is a key no known_hosts entry holds. Checking it for an address makes
// knownhosts list, in KeyError.Want, every key it knows for that address.
var probeKey = sync.OnceValue(func() ssh.PublicKey {
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		panic(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		panic(err)
	}
	return k
})

// knownFor returns the known_hosts entries for addr (host:port).
func (db *knownHostsDB) knownFor(addr string) []knownhosts.KnownKey {
	err := db.cb(addr, probeAddr, probeKey())
	if ke, ok := errors.AsType[*knownhosts.KeyError](err); ok {
		return ke.Want
	}
	return nil
}

// probeAddr stands in for the remote address: knownhosts prefers the dialled name.
var probeAddr = &net.TCPAddr{IP: net.IPv4zero}

// hostKeyAlgorithms orders the host key algorithms we ask for by what known_hosts holds
// for addr, as OpenSSH does. Without it x/crypto prefers ECDSA and RSA over ed25519, so a
// host known only by its ed25519 key that also has an RSA key would show its RSA key
// and be refused as changed. The algorithms known_hosts has no key for follow, so a
// server that really lost its known key type still gets the "changed" verdict rather
// than an opaque negotiation failure. nil (x/crypto's default) for unknown hosts.
func (db *knownHostsDB) hostKeyAlgorithms(addr string) []string {
	if v, ok := db.algos.Load(addr); ok {
		return v.([]string)
	}
	var algos []string
	if want := db.knownFor(addr); len(want) > 0 {
		supported := append(ssh.SupportedAlgorithms().HostKeys, ssh.InsecureAlgorithms().HostKeys...)
		for _, k := range want {
			for _, a := range algorithmsForKey(k.Key.Type()) {
				if slices.Contains(supported, a) && !slices.Contains(algos, a) {
					algos = append(algos, a)
				}
			}
		}
		for _, a := range ssh.SupportedAlgorithms().HostKeys {
			if !slices.Contains(algos, a) {
				algos = append(algos, a)
			}
		}
	}
	db.algos.Store(addr, algos)
	return algos
}

// algorithmsForKey maps a known_hosts key type to the host key algorithms that present
// it: an RSA key can be shown with SHA-2 signatures (preferred) or SHA-1.
func algorithmsForKey(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

// hostKeyError turns a knownhosts verdict into a HostKeyError.
func (db *knownHostsDB) hostKeyError(host, addr string, key ssh.PublicKey, err error) *HostKeyError {
	e := &HostKeyError{
		Host:        host,
		Addr:        addr,
		KeyType:     keyTypeName(key),
		Fingerprint: ssh.FingerprintSHA256(key),
		Files:       db.files,
	}
	if ke, ok := errors.AsType[*knownhosts.KeyError](err); ok {
		if len(ke.Want) > 0 {
			e.Changed = true
			// Report the entry of the same key type if there is one: that is the key
			// the server replaced.
			k := ke.Want[0]
			for _, w := range ke.Want {
				if w.Key.Type() == key.Type() {
					k = w
					break
				}
			}
			e.File, e.Line, e.KnownFingerprint = k.Filename, k.Line, ssh.FingerprintSHA256(k.Key)
		}
		return e
	}
	if re, ok := errors.AsType[*knownhosts.RevokedError](err); ok {
		e.Revoked = true
		e.File, e.Line, e.KnownFingerprint = re.Revoked.Filename, re.Revoked.Line, ssh.FingerprintSHA256(re.Revoked.Key)
		return e
	}
	// Certificates: unknown authority, expired, wrong principal.
	e.Err = err
	return e
}
