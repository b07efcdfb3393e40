package probes_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/backends/probe"
	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/ops/probes"
)

const inventory = `
[[hosts]]
name = "web-1"
address = "10.0.0.11"
tags = ["web"]

[[hosts]]
name = "web-2"
address = "10.0.0.12"
port = 2222
tags = ["web"]

[[hosts]]
name = "db-1"
address = "10.0.0.21"
tags = ["db"]
`

// load writes src (after the inventory) into a config file in a fresh directory and loads
// it, with a home of its own so that no real ~/.ssh/config takes part.
func load(t *testing.T, src string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(inventory+src), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		if k == "HOME" {
			return dir
		}
		return ""
	}
	cfg, err := config.Load(config.LoadOptions{ConfigFile: path, Env: env})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return cfg
}

// lineOf is where the config's probe section starts, so that tests can state positions
// relative to the text they wrote.
var lineOf = strings.Count(inventory, "\n")

func TestParseAppliesDefaultsAndOptions(t *testing.T) {
	cfg := load(t, `
[[probes]]
name = "web-health"
hosts = "tag:web"
type = "http"
target = "https://{{.Address}}:8443/healthz"
interval = "10s"
jitter = "1s"
method = "head"
expect_status = [200, "3xx", "401-403"]
body_match = "ok|ready"
headers = { Authorization = "env:WEB_TOKEN", x-probe = "opsconsole" }
insecure_skip_verify = true
warn_days = 30
keep_alive = false

[[probes]]
name = "ssh"
hosts = "all"
type = "tcp"
target = "{{.Address}}:{{.Port}}"

[[probes]]
name = "orders"
hosts = "db-1"
type = "grpc"
target = "{{.Address}}:9090"
service = "orders.v1.Orders"
interval = "1s"

[[probes]]
name = "disk"
hosts = "tag:db"
type = "exec"
command = "df --output=pcent / | tail -1"
expect_exit = 0
output_match = "^ *[0-8]?[0-9]%"
timeout = "3s"
flap_changes = 0
`)
	specs, err := probes.Parse(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 4 {
		t.Fatalf("%d specs", len(specs))
	}
	web := specs[0]
	if web.Interval != 10*time.Second || web.Jitter != time.Second || web.Timeout != probes.DefaultTimeout ||
		web.Method != "HEAD" || web.BodyMatch.String() != "ok|ready" || !web.TLS.InsecureSkipVerify ||
		web.WarnDays != 30 || !web.NoKeepAlive || web.CritDays != probes.DefaultCritDays || web.FlapChanges != probes.DefaultFlapChanges ||
		web.FlapWindow != 100*time.Second {
		t.Errorf("web-health: %+v", web)
	}
	if want := []probe.StatusRange{{Lo: 200, Hi: 200}, {Lo: 300, Hi: 399}, {Lo: 401, Hi: 403}}; !reflect.DeepEqual(web.ExpectStatus, want) {
		t.Errorf("expect_status %v", web.ExpectStatus)
	}
	if want := map[string]string{"Authorization": "env:WEB_TOKEN", "X-Probe": "opsconsole"}; !reflect.DeepEqual(web.Headers, want) {
		t.Errorf("headers %v", web.Headers)
	}
	if !strings.HasSuffix(web.Source, fmt.Sprintf("config.toml:%d:1", lineOf+2)) {
		t.Errorf("source %q", web.Source)
	}
	if specs[1].Interval != probes.DefaultInterval || specs[1].Timeout != probes.DefaultTimeout {
		t.Errorf("ssh: %+v", specs[1])
	}
	if orders := specs[2]; orders.Timeout != time.Second || orders.Service != "orders.v1.Orders" {
		t.Errorf("orders: the timeout defaults to the interval when shorter: %+v", orders)
	}
	if disk := specs[3]; disk.Command == "" || disk.Timeout != 3*time.Second || disk.FlapChanges != 0 || disk.OutputMatch == nil {
		t.Errorf("disk: %+v", disk)
	}
}

func TestParseErrorsArePositioned(t *testing.T) {
	cfg := load(t, `
[[probes]]
name = "web"
hosts = "tag:web"
type = "http"
target = "http://{{.Adress}}/healthz"
interval = "10 s"
body_match = "(unclosed"
service = "orders"
retries = 3

[[probes]]
name = "web"
hosts = "tag:nope"
type = "ping"

[[probes]]
name = "api"
hosts = "web-1"
type = "http"
target = "{{.Address}}:80"
timeout = "20s"
interval = "10s"
expect_status = [200, 999]
headers = { Authorization = "env:1TOKEN" }

[[probes]]
name = "tcp"
hosts = "all"
type = "tcp"
target = "{{.Name}}"
jitter = "-1s"
flap_changes = "four"

[[probes]]
name = "cmd"
hosts = "db-1"
type = "exec"
target = "x:1"

[[probes]]
hosts = "all"
type = "tls"
target = "{{.Address}}:443"
warn_days = 3
crit_days = 5
ca_file = "missing.pem"

[[probes]]
name = "web"
hosts = "all"
type = "grpc"
target = "{{.Address}}:9090"
server_name = "x"
`)
	_, err := probes.Parse(cfg)
	if err == nil {
		t.Fatal("no error")
	}
	var list config.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("%T is not a config.ErrorList", err)
	}
	var got []string
	for _, e := range list {
		if !strings.HasSuffix(e.File, "config.toml") {
			t.Errorf("error without its file: %v", e)
		}
		got = append(got, fmt.Sprintf("%d:%d %s: %s", e.Line-lineOf, e.Col, e.Key, e.Msg))
	}
	want := []string{
		`6:1 probes[0].target: host web-1: target template: can't evaluate field Adress in type config.Host`,
		`7:1 probes[0].interval: bad duration "10 s" (want e.g. "10s", "1m30s")`,
		"8:1 probes[0].body_match: bad regular expression: missing closing ): `(unclosed`",
		`9:1 probes[0].service: not a key of http probes (only grpc)`,
		`10:1 probes[0].retries: unknown key`,
		`13:1 probes[1].name: duplicate probe name "web" (first defined at ` + cfg.Files[0] + fmt.Sprintf(":%d:1)", lineOf+2),
		`14:1 probes[1].hosts: pattern "tag:nope" matches no host`,
		`15:1 probes[1].type: "ping": must be one of http, tcp, grpc, exec, tls`,
		`21:1 probes[2].target: host web-1: "10.0.0.11:80" is not an http:// or https:// URL`,
		`22:1 probes[2].timeout: 20s is longer than the interval (10s): runs would overlap and every other one be skipped`,
		`24:23 probes[2].expect_status[1]: 999 is not an HTTP status (100-599)`,
		`25:13 probes[2].headers.Authorization: "1TOKEN" is not an environment variable name`,
		`31:1 probes[3].target: host web-1: "web-1": want host:port`,
		`32:1 probes[3].jitter: must be positive, not "-1s"`,
		`33:1 probes[3].flap_changes: must be an integer, not a string`,
		`35:1 probes[4]: an exec probe needs a command`,
		`39:1 probes[4].target: not a key of exec probes (only http, tcp, grpc, tls)`,
		`41:1 probes[5]: a probe needs a name`,
		`46:1 probes[5].crit_days: 5 is more than warn_days (3)`,
		`47:1 probes[5].ca_file: stat ` + filepath.Join(filepath.Dir(cfg.Files[0]), "missing.pem") + `: no such file or directory`,
		`50:1 probes[6].name: duplicate probe name "web" (first defined at ` + cfg.Files[0] + fmt.Sprintf(":%d:1)", lineOf+2),
		`54:1 probes[6].server_name: needs tls = true`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParsePatternMatchingNoHost(t *testing.T) {
	cfg := load(t, `
[[probes]]
name = "x"
hosts = "tag:web,tag:cache"
type = "tcp"
target = "{{.Address}}:6379"
`)
	_, err := probes.Parse(cfg)
	if err == nil || !strings.Contains(err.Error(), `probes[0].hosts: pattern "tag:cache" matches no host`) {
		t.Fatalf("err %v", err)
	}
}

func TestParseNoProbes(t *testing.T) {
	specs, err := probes.Parse(load(t, ""))
	if specs != nil || err != nil {
		t.Fatalf("%v %v", specs, err)
	}
}

func TestExpandTemplatesPerHost(t *testing.T) {
	cfg := load(t, `
[[probes]]
name = "health"
hosts = "tag:web,db-1"
type = "http"
target = "http://{{.Address}}:8080/healthz?host={{.Name}}&ssh={{.Port}}"

[[probes]]
name = "disk"
hosts = "db-1"
type = "exec"
command = "docker ps --format '{{.Names}}'"
`)
	specs, err := probes.Parse(cfg)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := probes.Expand(specs, cfg.Hosts)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range jobs {
		got = append(got, j.Key()+" "+j.Target)
	}
	want := []string{
		"health@web-1 http://10.0.0.11:8080/healthz?host=web-1&ssh=22",
		"health@web-2 http://10.0.0.12:8080/healthz?host=web-2&ssh=2222",
		"health@db-1 http://10.0.0.21:8080/healthz?host=db-1&ssh=22",
		"disk@db-1 docker ps --format '{{.Names}}'", // commands are not templates
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("jobs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A selection (check -H web-2) narrows the jobs; the pattern's db-1 term matching
	// nothing in it is no error.
	sel, err := config.Resolve(cfg.Hosts, "web-2")
	if err != nil {
		t.Fatal(err)
	}
	jobs, err = probes.Expand(specs, sel)
	if err != nil || len(jobs) != 1 || jobs[0].Key() != "health@web-2" {
		t.Fatalf("selection: %v %v", jobs, err)
	}

	// Specs built by hand resolve their pattern against the hosts given.
	hand := []probes.Spec{{Name: "h", Hosts: "web-*", Type: probe.TypeTCP, Target: "{{.Address}}:22", Timeout: time.Second, Interval: time.Second}}
	jobs, err = probes.Expand(hand, cfg.Hosts)
	if err != nil || len(jobs) != 2 || jobs[1].Target != "10.0.0.12:22" {
		t.Fatalf("hand-built: %v %v", jobs, err)
	}
	hand[0].Target = "{{.Nope}}:22"
	if _, err := probes.Expand(hand, cfg.Hosts); err == nil || !strings.Contains(err.Error(), "probe h: host web-1: target template: can't evaluate field Nope") {
		t.Fatalf("bad template: %v", err)
	}
}

func TestParseExample(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "testdata", "probes", "example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.LoadOptions{ConfigFile: path, Env: func(k string) string {
		if k == "HOME" {
			return dir
		}
		return ""
	}})
	if err != nil {
		t.Fatal(err)
	}
	specs, err := probes.Parse(cfg)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := probes.Expand(specs, cfg.Hosts)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, j := range jobs {
		keys = append(keys, j.Key())
	}
	want := "web-health@web-1 web-health@web-2 web-tls@web-1 web-tls@web-2 postgres@db-1 orders-grpc@web-1 " +
		"orders-grpc@web-2 cert-expiry@db-1 app-unit@web-1 app-unit@web-2 app-unit@db-1"
	if got := strings.Join(keys, " "); got != want {
		t.Errorf("jobs %s\nwant %s", got, want)
	}
}

// FuzzParse feeds arbitrary [[probes]] sections through Load and Parse: whatever the
// text, Parse returns specs or positioned errors, and never panics.
func FuzzParse(f *testing.F) {
	src, err := os.ReadFile(filepath.Join("..", "..", "testdata", "probes", "example.toml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(src))
	f.Add("[[probes]]\nname = \"x\"\nhosts = \"all\"\ntype = \"http\"\ntarget = \"http://{{.Address}}/\"\nexpect_status = \"200-204\"\n")
	f.Add("probes = [{ name = \"t\", hosts = \"all\", type = \"tcp\", target = \"{{.Address}}:1\" }, 3]\n")
	f.Add("probes = 1\n")
	f.Fuzz(func(t *testing.T, src string) {
		dir := t.TempDir()
		path := filepath.Join(dir, "config.toml")
		if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(config.LoadOptions{ConfigFile: path, Env: func(k string) string {
			if k == "HOME" {
				return dir
			}
			return ""
		}})
		if err != nil {
			return
		}
		specs, err := probes.Parse(cfg)
		if err != nil {
			var list config.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %v is not a positioned list", err)
			}
			return
		}
		if _, err := probes.Expand(specs, cfg.Hosts); err != nil {
			t.Fatalf("Parse accepted what Expand rejects: %v", err)
		}
	})
}
