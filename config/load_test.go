package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const fixtures = "../testdata/config"

// testEnv is an environment whose home is a fresh temporary directory.
func testEnv(t *testing.T, vars ...string) (Env, string) {
	t.Helper()
	home := t.TempDir()
	m := map[string]string{"HOME": home}
	for i := 0; i+1 < len(vars); i += 2 {
		m[vars[i]] = vars[i+1]
	}
	return func(k string) string { return m[k] }, home
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// positions renders every *Error in err as "line:col key: msg", in order.
func positions(t *testing.T, err error) []string {
	t.Helper()
	var list ErrorList
	if !errors.As(err, &list) {
		var one *Error
		if !errors.As(err, &one) {
			t.Fatalf("error %v (%T) is not a config error", err, err)
		}
		list = ErrorList{one}
	}
	var out []string
	for _, e := range list {
		s := fmt.Sprintf("%d:%d %s: %s", e.Line, e.Col, e.Key, e.Msg)
		out = append(out, strings.Replace(s, " : ", " ", 1))
	}
	return out
}

func TestLoadDefaults(t *testing.T) {
	env, home := testEnv(t)
	writeFile(t, filepath.Join(home, ".ssh", "id_ed25519"), "key")
	writeFile(t, filepath.Join(home, ".ssh", "id_rsa"), "key")
	cfg, err := Load(LoadOptions{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	d := cfg.Defaults
	if d.User != currentUser(env) || d.User == "" {
		t.Errorf("User = %q, want the current user", d.User)
	}
	wantIDs := []string{filepath.Join(home, ".ssh", "id_ed25519"), filepath.Join(home, ".ssh", "id_rsa")}
	if !reflect.DeepEqual(d.IdentityFiles, wantIDs) {
		t.Errorf("IdentityFiles = %v, want the existing %v", d.IdentityFiles, wantIDs)
	}
	if d.KnownHosts[0] != filepath.Join(home, ".ssh", "known_hosts") {
		t.Errorf("KnownHosts = %v", d.KnownHosts)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Port", d.Port, 22},
		{"ConnectTimeout", d.ConnectTimeout, 5 * time.Second},
		{"CommandTimeout", d.CommandTimeout, 30 * time.Second},
		{"Keepalive", d.Keepalive, 15 * time.Second},
		{"Concurrency", d.Concurrency, 256},
		{"OutputLimit", d.OutputLimit, int64(1 << 20)},
		{"SSHConfig", d.SSHConfig, filepath.Join(home, ".ssh", "config")},
		{"Thresholds", cfg.Thresholds, Thresholds{80, 95, 85, 95, 85, 95, 1.5, 3}},
		{"ReadOnly", cfg.ReadOnly, false},
		{"ReadOnlyCommands has journalctl", strings.Contains(strings.Join(cfg.ReadOnlyCommands, ","), "journalctl"), true},
		{"ReadOnlyCommands lacks env", strings.Contains(","+strings.Join(cfg.ReadOnlyCommands, ",")+",", ",env,"), false},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLoadFull(t *testing.T) {
	env, home := testEnv(t)
	cfg, err := Load(LoadOptions{ConfigFile: filepath.Join(fixtures, "full.toml"), Env: env})
	if err != nil {
		t.Fatal(err)
	}
	abs := func(p string) string { return filepath.Join(home, p) }
	wantDefaults := Defaults{
		User: "ops", Port: 2222,
		IdentityFiles:  []string{abs(".ssh/id_ops"), filepath.Join(fixtures, "keys/extra")},
		KnownHosts:     []string{abs(".ssh/known_hosts_ops")},
		ConnectTimeout: 3 * time.Second, CommandTimeout: time.Minute, Keepalive: 20 * time.Second,
		Concurrency: 64, OutputLimit: 512 << 10, SSHConfig: abs(".ssh/ops_config"),
	}
	if !reflect.DeepEqual(cfg.Defaults, wantDefaults) {
		t.Errorf("Defaults =\n%+v\nwant\n%+v", cfg.Defaults, wantDefaults)
	}
	wantTh := Thresholds{CPUWarn: 70, CPUCrit: 90.5, MemWarn: 85, MemCrit: 95, DiskWarn: 85, DiskCrit: 95, LoadWarn: 2, LoadCrit: 4}
	if cfg.Thresholds != wantTh {
		t.Errorf("Thresholds = %+v, want %+v", cfg.Thresholds, wantTh)
	}
	if !reflect.DeepEqual(cfg.ReadOnlyCommands, []string{"uptime", "df -h"}) {
		t.Errorf("ReadOnlyCommands = %v", cfg.ReadOnlyCommands)
	}

	web := cfg.Hosts[1]
	wantWeb := Host{
		Name: "web-1", Address: "10.0.0.11", Port: 22, User: "deploy", Transport: TransportSSH,
		Tags: []string{"web", "prod"}, Groups: []string{"frontend"},
		IdentityFiles: wantDefaults.IdentityFiles, KnownHosts: []string{"/etc/opsconsole/known_hosts"},
		ProxyJump: "bastion", ConnectTimeout: 3 * time.Second, CommandTimeout: 5 * time.Minute,
		Keepalive: 20 * time.Second, Source: filepath.Join(fixtures, "full.toml") + ":33:1",
	}
	if !reflect.DeepEqual(web, wantWeb) {
		t.Errorf("web-1 =\n%+v\nwant\n%+v", web, wantWeb)
	}
	if win := cfg.Hosts[2]; win.Address != "win-1" || win.Port != 0 || win.User != "ops" {
		t.Errorf("win-1: Address defaults to Name, Port stays 0 for WinRM: %+v", win)
	}
	if me := cfg.Hosts[3]; me.Transport != TransportLocal {
		t.Errorf("me = %+v", me)
	}
}

func TestRawSectionsKept(t *testing.T) {
	env, _ := testEnv(t)
	cfg, err := Load(LoadOptions{ConfigFile: filepath.Join(fixtures, "full.toml"), Env: env})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"prometheus", "probes", "runbooks", "keys", "theme"} {
		if _, ok := cfg.Raw[k]; !ok {
			t.Errorf("Raw[%q] missing; Raw = %v", k, cfg.Raw)
		}
	}
	if got := cfg.Raw["prometheus"].(map[string]any)["url"]; got != "http://127.0.0.1:9090" {
		t.Errorf("prometheus.url = %v", got)
	}
	probes := cfg.Raw["probes"].([]map[string]any)
	if probes[0]["options"].(map[string]any)["anything"] != "goes" {
		t.Errorf("probes not kept whole: %v", probes)
	}
	if cfg.Raw["theme"] != "dark" {
		t.Errorf("theme = %v", cfg.Raw["theme"])
	}
	// Owners of raw sections report their own errors at the right place.
	e := cfg.Errorf("probes[0].interval", "too short")
	if e.Line != 56 || e.Col != 1 || !strings.HasSuffix(e.File, "full.toml") {
		t.Errorf("Errorf = %v", e)
	}
}

func TestConfigLookup(t *testing.T) {
	const minimal = "[defaults]\nuser = \"found\"\n"
	tests := []struct {
		name     string
		xdg      bool   // set XDG_CONFIG_HOME
		at       string // where the config file is written, relative to home
		explicit string // --config, relative to home
		wantUser string
		wantErr  string
	}{
		{name: "xdg", xdg: true, at: "xdg/opsconsole/config.toml", wantUser: "found"},
		{name: "home fallback", at: ".config/opsconsole/config.toml", wantUser: "found"},
		{name: "xdg set ignores ~/.config", xdg: true, at: ".config/opsconsole/config.toml"},
		{name: "explicit", at: "elsewhere.toml", explicit: "elsewhere.toml", wantUser: "found"},
		{name: "explicit missing", explicit: "missing.toml", wantErr: "missing.toml: no such file or directory"},
		{name: "none", at: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, home := testEnv(t)
			if tt.xdg {
				env, home = testEnv(t, "XDG_CONFIG_HOME", "")
				xdg := filepath.Join(home, "xdg")
				env = func(k string) string {
					return map[string]string{"HOME": home, "XDG_CONFIG_HOME": xdg}[k]
				}
			}
			if tt.at != "" {
				writeFile(t, filepath.Join(home, tt.at), minimal)
			}
			opts := LoadOptions{Env: env}
			if tt.explicit != "" {
				opts.ConfigFile = filepath.Join(home, tt.explicit)
			}
			cfg, err := Load(opts)
			if tt.wantErr != "" {
				if err == nil || !strings.HasSuffix(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want …%s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantUser != "" && cfg.Defaults.User != tt.wantUser {
				t.Errorf("User = %q, want %q (config not found?)", cfg.Defaults.User, tt.wantUser)
			}
			if tt.wantUser == "" && len(cfg.Files) != 0 {
				t.Errorf("Files = %v, want none read", cfg.Files)
			}
		})
	}
}

func TestNoConfigIsLocalFleet(t *testing.T) {
	env, home := testEnv(t)
	cfg, err := Load(LoadOptions{Env: env})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Hosts) != 1 {
		t.Fatalf("Hosts = %+v, want the local machine alone", cfg.Hosts)
	}
	h := cfg.Hosts[0]
	if h.Name != "local" || h.Transport != TransportLocal || h.Address != "localhost" {
		t.Errorf("host = %+v", h)
	}

	// A config with settings but no hosts still means this machine…
	writeFile(t, DefaultConfigFile(env), "[thresholds]\ncpu_warn = 50\n")
	if cfg, err = Load(LoadOptions{Env: env}); err != nil || len(cfg.Hosts) != 1 || cfg.Hosts[0].Name != "local" {
		t.Errorf("settings-only config: hosts %+v, err %v", cfg.Hosts, err)
	}
	// …but an inventory, even an empty one, is the fleet.
	inv := writeFile(t, filepath.Join(home, "empty.toml"), "")
	if cfg, err = Load(LoadOptions{Env: env, InventoryFile: inv}); err != nil || len(cfg.Hosts) != 0 {
		t.Errorf("empty inventory: hosts %+v, err %v", cfg.Hosts, err)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"malformed.toml", []string{"5:14 strings cannot contain newlines"}},
		{"unknown_keys.toml", []string{
			"3:3 colour: unknown key",
			"7:1 defaults.usr: unknown key",
			"14:3 hosts[1].adress: unknown key",
			"15:1 hosts[1].extra: unknown key",
			"19:1 thresholds.cpu_wrn: unknown key",
			"21:1 bogus: unknown key",
		}},
		{"bad_values.toml", []string{
			`2:1 defaults.connect_timeout: bad duration "5 seconds" (want e.g. "5s", "1m30s")`,
			`3:1 defaults.keepalive: must be positive, not "-1s"`,
			`4:1 defaults.output_limit: bad size "lots" (want bytes or e.g. "512KiB", "1MiB", "2MB")`,
			`5:1 defaults.concurrency: must be 1-1048576`,
			`8:1 thresholds.cpu_warn: cpu_warn (99) must not exceed cpu_crit (95)`,
			`12:1 hosts[0].port: must be 1-65535`,
			`13:1 hosts[0].command_timeout: bad duration "30" (want e.g. "5s", "1m30s")`,
			`15:1 hosts[1].name: a host needs a non-empty name`,
			`19:1 hosts[2].name: "web 3": a name cannot hold spaces or commas or start with !`,
			`20:1 hosts[2].transport: "telnet": must be ssh, winrm or local`,
			`21:15 hosts[2].tags[1]: must be a non-empty string`,
			`24:1 hosts[3].name: a host needs a non-empty name`,
			`25:1 hosts[3].port: must be an integer, not a string`,
		}},
		{"duplicate_hosts.toml", []string{
			`8:3 hosts[2].name: duplicate host name "web-1" (first defined at ` + filepath.Join(fixtures, "duplicate_hosts.toml") + `:1:1)`,
		}},
		{"proxy_jump.toml", []string{
			`14:1 hosts[3].proxy_jump: "jump host" is neither an inventory host nor [user@]host[:port]: host "jump host" has invalid character ' '`,
			`18:1 hosts[4].proxy_jump: "bastion:99999" is neither an inventory host nor [user@]host[:port]: port "99999" must be 1-65535`,
			`22:1 hosts[5].proxy_jump: host "e" cannot jump through itself`,
			`30:1 hosts[7].proxy_jump: "@nobody" is neither an inventory host nor [user@]host[:port]: empty user`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			env, _ := testEnv(t)
			path := filepath.Join(fixtures, tt.file)
			_, err := Load(LoadOptions{ConfigFile: path, Env: env})
			if err == nil {
				t.Fatal("no error")
			}
			if got := positions(t, err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if first := strings.SplitN(err.Error(), "\n", 2)[0]; !strings.HasPrefix(first, path+":") {
				t.Errorf("Error() = %q, want it to start with the file", first)
			}
		})
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		err  Error
		want string
	}{
		{Error{File: "config.toml", Line: 12, Col: 3, Key: "hosts[2].port", Msg: "must be 1-65535"}, "config.toml:12:3: hosts[2].port: must be 1-65535"},
		{Error{File: "hosts.ini", Line: 4, Msg: "bad"}, "hosts.ini:4: bad"},
		{Error{File: "c.toml", Msg: "no such file"}, "c.toml: no such file"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// TestErrorPositions covers positions in shapes the fixtures do not: inline tables,
// nested arrays, quoted keys and strings that look like syntax.
func TestErrorPositions(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"inline array of hosts", "hosts = [\n  { name = \"a\" },\n  { name = \"b\", bogus = 1 },\n]\n",
			[]string{"3:17 hosts[1].bogus: unknown key"}},
		{"quoted key", "[defaults]\n\"user name\" = \"x\"\n",
			[]string{`2:1 defaults."user name": unknown key`}},
		{"after multi-line string", "[[hosts]]\nname = \"a\"\naddress = '''\n[[hosts]]\nx = 1'''\nport = 0\n",
			[]string{"6:1 hosts[0].port: must be 1-65535"}},
		{"dotted top-level key", "defaults.port = 0\n",
			[]string{"1:10 defaults.port: must be 1-65535"}},
		{"wrong table type", "defaults = 3\nhosts = \"x\"\n", []string{
			"1:1 defaults: must be a table, not an integer",
			"2:1 hosts: must be an array of tables ([[hosts]]), not a string",
		}},
		{"duration in a later host", "[[hosts]]\nname = \"a\"\n[[hosts]]\nname = \"b\"\n    keepalive = \"soon\"\n",
			[]string{`5:5 hosts[1].keepalive: bad duration "soon" (want e.g. "5s", "1m30s")`}},
		{"syntax error", "[defaults]\nport = = 2\n", []string{"2:8 expected value but found '=' instead"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, home := testEnv(t)
			path := writeFile(t, filepath.Join(home, "c.toml"), tt.src)
			_, err := Load(LoadOptions{ConfigFile: path, Env: env})
			if err == nil {
				t.Fatal("no error")
			}
			if got := positions(t, err); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestLoadInventory(t *testing.T) {
	env, home := testEnv(t)
	t.Run("ini from config key", func(t *testing.T) {
		cfg, err := Load(LoadOptions{ConfigFile: filepath.Join(fixtures, "with_inventory.toml"), Env: env})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, h := range cfg.Hosts {
			names = append(names, h.Name)
		}
		want := "bastion mail.example.com web01.example.com web02.example.com web03.example.com " +
			"web-canary.example.com db-a.example.com db-b.example.com db-c.example.com control"
		if strings.Join(names, " ") != want {
			t.Errorf("hosts = %v", names)
		}
		if got := cfg.Hosts[0].User; got != "fallback" {
			t.Errorf("config host user = %q, want [defaults] user", got)
		}
		if id := cfg.Hosts[1].IdentityFiles; len(id) != 1 || id[0] != filepath.Join(home, ".ssh/ansible_key") {
			t.Errorf("ansible key = %v, want ~ expanded", id)
		}
		if len(cfg.Files) != 2 || cfg.Files[1] != filepath.Join(fixtures, "inventory.ini") {
			t.Errorf("Files = %v", cfg.Files)
		}
	})
	t.Run("flag overrides config key, toml inventory", func(t *testing.T) {
		cfg, err := Load(LoadOptions{
			ConfigFile:    filepath.Join(fixtures, "with_inventory.toml"),
			InventoryFile: filepath.Join(fixtures, "inventory.toml"), Env: env,
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.Hosts) != 3 || cfg.Hosts[1].Name != "inv-1" || cfg.Hosts[2].User != "other" {
			t.Errorf("hosts = %+v", cfg.Hosts)
		}
	})
	t.Run("format detection without extension", func(t *testing.T) {
		ini := writeFile(t, filepath.Join(home, "hosts"), "[web]\nw1 ansible_port=2200\n")
		cfg, err := Load(LoadOptions{InventoryFile: ini, Env: env})
		if err != nil || len(cfg.Hosts) != 1 || cfg.Hosts[0].Port != 2200 || cfg.Hosts[0].Groups[0] != "web" {
			t.Fatalf("ini sniffed: %+v, %v", cfg.Hosts, err)
		}
		tom := writeFile(t, filepath.Join(home, "inventory"), "[[hosts]]\nname = \"t1\"\n")
		cfg, err = Load(LoadOptions{InventoryFile: tom, Env: env})
		if err != nil || len(cfg.Hosts) != 1 || cfg.Hosts[0].Name != "t1" {
			t.Fatalf("toml sniffed: %+v, %v", cfg.Hosts, err)
		}
		// A broken TOML inventory gets TOML's error, not INI's.
		bad := writeFile(t, filepath.Join(home, "broken"), "[[hosts]]\nname = \n")
		_, err = Load(LoadOptions{InventoryFile: bad, Env: env})
		if got := positions(t, err); len(got) != 1 || !strings.HasPrefix(got[0], "2:8 ") {
			t.Errorf("broken toml inventory: %v", got)
		}
	})
	t.Run("duplicates across config and inventory", func(t *testing.T) {
		inv := writeFile(t, filepath.Join(home, "dup.ini"), "# comment\nbastion\n")
		_, err := Load(LoadOptions{ConfigFile: filepath.Join(fixtures, "with_inventory.toml"), InventoryFile: inv, Env: env})
		want := inv + `:2: host bastion: duplicate host name "bastion" (first defined at ` +
			filepath.Join(fixtures, "with_inventory.toml") + ":7:1)"
		if err == nil || err.Error() != want {
			t.Errorf("err = %v\nwant %s", err, want)
		}
	})
	t.Run("inventory only [[hosts]]", func(t *testing.T) {
		inv := writeFile(t, filepath.Join(home, "x.toml"), "[defaults]\nuser = \"x\"\n")
		_, err := Load(LoadOptions{InventoryFile: inv, Env: env})
		if got := positions(t, err); len(got) != 1 || !strings.HasPrefix(got[0], "1:1 defaults: unknown key") {
			t.Errorf("errors = %v", got)
		}
	})
	t.Run("missing inventory named by config", func(t *testing.T) {
		cfg := writeFile(t, filepath.Join(home, "c.toml"), "\ninventory = \"nope.ini\"\n")
		_, err := Load(LoadOptions{ConfigFile: cfg, Env: env})
		if got := positions(t, err); len(got) != 1 || !strings.HasPrefix(got[0], "2:1 inventory: ") {
			t.Errorf("errors = %v", got)
		}
	})
	t.Run("yaml refused", func(t *testing.T) {
		inv := writeFile(t, filepath.Join(home, "hosts.yml"), "all: {}\n")
		if _, err := Load(LoadOptions{InventoryFile: inv, Env: env}); err == nil || !strings.Contains(err.Error(), "YAML") {
			t.Errorf("err = %v", err)
		}
	})
}

func TestErrorsSortedAcrossFiles(t *testing.T) {
	env, home := testEnv(t)
	inv := writeFile(t, filepath.Join(home, "inv.toml"), "[[hosts]]\nname = \"x\"\nport = 0\n")
	cfg := writeFile(t, filepath.Join(home, "c.toml"), "inventory = \"inv.toml\"\n[[hosts]]\nname = \"y\"\nuser = 1\n\nbad = 1\n")
	_, err := Load(LoadOptions{ConfigFile: cfg, Env: env})
	lines := strings.Split(fmt.Sprint(err), "\n")
	want := []string{
		cfg + ":4:1: hosts[0].user: must be a string, not an integer",
		cfg + ":6:1: hosts[0].bad: unknown key",
		inv + ":3:1: hosts[0].port: must be 1-65535",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"1MiB", 1 << 20, true}, {"512KiB", 512 << 10, true}, {"2MB", 2e6, true},
		{"10", 10, true}, {"1.5 KiB", 1536, true}, {"1g", 1 << 30, true},
		{"lots", 0, false}, {"1 parsec", 0, false}, {"", 0, false}, {"-1KiB", 0, false},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v", tt.in, got, err)
		}
	}
}

func TestXDGDirs(t *testing.T) {
	env := Env(func(k string) string {
		return map[string]string{"HOME": "/home/op", "XDG_STATE_HOME": "/var/st", "XDG_CONFIG_HOME": "relative/ignored"}[k]
	})
	if got := StateDir(env); got != "/var/st/opsconsole" {
		t.Errorf("StateDir = %q", got)
	}
	if got := ConfigDir(env); got != "/home/op/.config/opsconsole" {
		t.Errorf("ConfigDir = %q (a relative XDG_CONFIG_HOME is ignored)", got)
	}
	home := Env(func(k string) string { return map[string]string{"HOME": "/home/op"}[k] })
	if got := StateDir(home); got != "/home/op/.local/state/opsconsole" {
		t.Errorf("StateDir default = %q", got)
	}
}
