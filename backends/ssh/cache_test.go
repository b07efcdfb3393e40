package ssh

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

func newKey(t *testing.T) (ssh.PublicKey, any) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	k, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return k, priv
}

func TestKnownHostsParsedOncePerVersion(t *testing.T) {
	edKey, _ := newKey(t)
	rsaPriv, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := ssh.NewPublicKey(&rsaPriv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "known_hosts")
	content := knownhosts.Line([]string{"[10.0.0.1]:2222"}, edKey) + "\n" +
		knownhosts.Line([]string{"10.0.0.2"}, rsaKey) + "\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "absent")
	files := []string{path, missing}

	db1, err := loadKnownHosts(files)
	if err != nil {
		t.Fatal(err)
	}
	db2, _ := loadKnownHosts(files)
	if db1 != db2 {
		t.Fatal("unchanged known_hosts parsed twice")
	}

	if got := db1.hostKeyAlgorithms("10.0.0.1:2222"); len(got) == 0 || got[0] != ssh.KeyAlgoED25519 {
		t.Errorf("ed25519-only host: algorithms %v, want ssh-ed25519 first", got)
	}
	if got := db1.hostKeyAlgorithms("10.0.0.2:22"); len(got) < 2 || got[0] != ssh.KeyAlgoRSASHA512 || got[1] != ssh.KeyAlgoRSASHA256 {
		t.Errorf("RSA-only host: algorithms %v, want rsa-sha2-512, rsa-sha2-256 first", got)
	}
	if got := db1.hostKeyAlgorithms("10.0.0.3:22"); got != nil {
		t.Errorf("unknown host: algorithms %v, want the default (nil)", got)
	}

	// A changed file (new size and mtime) is parsed again.
	later := time.Now().Add(time.Second)
	if err := os.WriteFile(path, []byte(content+"# more\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(path, later, later)
	db3, err := loadKnownHosts(files)
	if err != nil {
		t.Fatal(err)
	}
	if db3 == db1 {
		t.Fatal("changed known_hosts not parsed again")
	}
}

func TestIdentityParsedOnce(t *testing.T) {
	_, priv := newKey(t)
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "id")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	s1, skip := loadIdentity(path)
	if s1 == nil {
		t.Fatal(skip)
	}
	s2, _ := loadIdentity(path)
	if s1 != s2 {
		t.Fatal("identity parsed twice")
	}
}

func TestKeyTypeNames(t *testing.T) {
	k, _ := newKey(t)
	if got := describeKey(k); got != "ED25519 "+ssh.FingerprintSHA256(k) {
		t.Fatal(got)
	}
}
