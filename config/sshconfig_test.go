package config

import (
	"path/filepath"
	"reflect"
	"testing"
)

// sshFixture writes an ssh_config with concrete, wildcard, negated and Match entries and
// an Include, and returns its path.
func sshFixture(t *testing.T, dir string) string {
	t.Helper()
	extra := writeFile(t, filepath.Join(dir, "conf.d", "extra"), `
Host included
  HostName 10.9.9.9
`)
	return writeFile(t, filepath.Join(dir, "ssh_config"), `
Include `+filepath.Dir(extra)+`/*

Host bastion
  HostName bastion.example.com
  User jump
  Port 2200

Host web-1 web-2 !web-3
  HostName %h.internal
  ProxyJump bastion
  IdentityFile ~/.ssh/web_key

Host db-?
  User dba

Match host db-1
  Port 5432

Host *.example.com web-*
  IdentityFile %d/.ssh/fleet_%r

Host *
  User default
  IdentityFile ~/.ssh/id_all
`)
}

func TestSSHConfigLookup(t *testing.T) {
	dir := t.TempDir()
	path := sshFixture(t, dir)
	home := Env(nil).home()
	tests := []struct {
		alias string
		want  SSHSettings
	}{
		{"bastion", SSHSettings{HostName: "bastion.example.com", User: "jump", Port: 2200,
			IdentityFiles: []string{home + "/.ssh/id_all"}}},
		{"web-1", SSHSettings{HostName: "web-1.internal", User: "default", ProxyJump: "bastion",
			IdentityFiles: []string{home + "/.ssh/web_key", home + "/.ssh/fleet_default", home + "/.ssh/id_all"}}},
		{"db-1", SSHSettings{User: "dba", Port: 5432, IdentityFiles: []string{home + "/.ssh/id_all"}}},
		{"included", SSHSettings{HostName: "10.9.9.9", User: "default", IdentityFiles: []string{home + "/.ssh/id_all"}}},
	}
	for _, tt := range tests {
		got, err := SSHConfigLookup(path, tt.alias)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tt.alias, got, tt.want)
		}
	}
	if got, err := SSHConfigLookup(filepath.Join(dir, "missing"), "x"); err != nil || !reflect.DeepEqual(got, SSHSettings{}) {
		t.Errorf("missing file: %+v, %v", got, err)
	}
}

func TestImportSSHConfig(t *testing.T) {
	path := sshFixture(t, t.TempDir())
	hosts, err := ImportSSHConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, h := range hosts {
		names = append(names, h.Name)
		if h.Transport != TransportSSH || h.Source != path {
			t.Errorf("%s: transport %q source %q", h.Name, h.Transport, h.Source)
		}
	}
	// Wildcards, negations and Match blocks name no host; included files do.
	if want := []string{"included", "bastion", "web-1", "web-2"}; !reflect.DeepEqual(names, want) {
		t.Errorf("names = %v, want %v", names, want)
	}
	if b := hosts[1]; b.Address != "bastion.example.com" || b.User != "jump" || b.Port != 2200 {
		t.Errorf("bastion = %+v", b)
	}
	if w := hosts[2]; w.Address != "web-1.internal" || w.ProxyJump != "bastion" {
		t.Errorf("web-1 = %+v", w)
	}
	if _, err := ImportSSHConfig(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("importing a missing file: no error")
	}
}

func TestLoadHonoursSSHConfig(t *testing.T) {
	env, home := testEnv(t)
	sshPath := sshFixture(t, filepath.Join(home, ".ssh"))
	cfgPath := writeFile(t, filepath.Join(home, "c.toml"), `
[defaults]
user = "ops"
port = 22
ssh_config = "`+sshPath+`"
import_ssh_config = true

[[hosts]]
name = "web-1"
user = "deploy"

[[hosts]]
name = "plain"
`)
	cfg, err := Load(LoadOptions{ConfigFile: cfgPath, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Host{}
	var names []string
	for _, h := range cfg.Hosts {
		byName[h.Name] = h
		names = append(names, h.Name)
	}
	// Config hosts first; imported hosts fill only names not taken.
	if want := []string{"web-1", "plain", "included", "bastion", "web-2"}; !reflect.DeepEqual(names, want) {
		t.Errorf("names = %v, want %v", names, want)
	}
	web := byName["web-1"]
	// [[hosts]] beats ssh_config (user), ssh_config beats [defaults] (address, jump).
	if web.User != "deploy" || web.Address != "web-1.internal" || web.ProxyJump != "bastion" || web.Port != 22 {
		t.Errorf("web-1 = %+v", web)
	}
	// ssh_config's Host * User beats [defaults] user.
	if p := byName["plain"]; p.User != "default" || p.Address != "plain" {
		t.Errorf("plain = %+v", p)
	}
	if len(cfg.Files) != 2 || cfg.Files[1] != sshPath {
		t.Errorf("Files = %v", cfg.Files)
	}
}

func TestSSHConfigProblems(t *testing.T) {
	env, home := testEnv(t)
	// The implicit ~/.ssh/config may use what the parser lacks: a warning, not a failure.
	writeFile(t, filepath.Join(home, ".ssh", "config"), "Match exec \"true\"\n  User x\n")
	cfg, err := Load(LoadOptions{Env: env})
	if err != nil || len(cfg.Warnings) != 1 {
		t.Errorf("implicit broken ssh_config: err %v, warnings %v", err, cfg.Warnings)
	}
	// Named explicitly, it must parse.
	c := writeFile(t, filepath.Join(home, "c.toml"), "[defaults]\nssh_config = \"~/.ssh/config\"\n")
	_, err = Load(LoadOptions{ConfigFile: c, Env: env})
	if got := positions(t, err); len(got) != 1 || got[0][:24] != "2:1 defaults.ssh_config:" {
		t.Errorf("explicit broken ssh_config: %v", got)
	}
	// A bad Port is reported once, against the ssh_config file.
	bad := writeFile(t, filepath.Join(home, "bad_port"), "Host *\n  Port many\n")
	c = writeFile(t, filepath.Join(home, "c2.toml"), "[defaults]\nssh_config = \""+bad+"\"\n[[hosts]]\nname = \"a\"\n[[hosts]]\nname = \"b\"\n")
	_, err = Load(LoadOptions{ConfigFile: c, Env: env})
	if want := bad + `: Port "many": must be 1-65535`; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}
