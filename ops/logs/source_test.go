package logs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opsconsole/opsconsole/config"
)

func loadConfig(t *testing.T, text string) *config.Config {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	home := t.TempDir()
	os.WriteFile(path, []byte(text), 0o600)
	cfg, err := config.Load(config.LoadOptions{ConfigFile: path, Env: func(k string) string { return map[string]string{"HOME": home}[k] }})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

const inventory = `
[[hosts]]
name = "web-1"
tags = ["web"]
[[hosts]]
name = "web-2"
tags = ["web"]
[[hosts]]
name = "db-1"
`

func TestParseSources(t *testing.T) {
	cfg := loadConfig(t, inventory+`
[[logs]]
name = "app"
hosts = "tag:web"
path = "/var/log/{{.Name}}/app.log"
format = "json"
message_field = "text"
markers = [{ pattern = "Out of memory|oom-killer", name = "oom" }, { pattern = "^panic: ", name = "panic" }]

[[logs]]
name = "journal"
hosts = "all"
command = "journalctl -f -o json"
format = "json"
`)
	srcs, err := Parse(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(srcs) != 2 {
		t.Fatalf("%d sources", len(srcs))
	}
	app := srcs[0]
	if app.Format != FormatJSON || app.Keys.Message != "text" || len(app.Markers) != 2 || !app.IsFile() || !strings.Contains(app.Where, "config.toml:") {
		t.Fatalf("app: %+v", app)
	}
	if p, err := app.PathFor(cfg.Hosts[1]); err != nil || p != "/var/log/web-2/app.log" {
		t.Fatalf("PathFor = %q, %v", p, err)
	}
	targets := Targets(srcs, cfg.Hosts)
	var got []string
	for _, tg := range targets {
		got = append(got, tg.Host.Name+"/"+tg.Source.Name)
	}
	if strings.Join(got, " ") != "web-1/app web-1/journal web-2/app web-2/journal db-1/journal" {
		t.Fatalf("targets %v", got)
	}
	// No [[logs]] at all is no error.
	if srcs, err := Parse(loadConfig(t, inventory)); err != nil || srcs != nil {
		t.Fatalf("no sources: %v %v", srcs, err)
	}
}

func TestParseSourcesErrors(t *testing.T) {
	cfg := loadConfig(t, inventory+`
[[logs]]
name = "a"
hosts = "tag:nope"
path = "/x"
colour = "red"

[[logs]]
name = "a"
hosts = "all"
path = "/y"
command = "z"

[[logs]]
hosts = "all"
format = "yaml"

[[logs]]
name = "b"
hosts = "all"
path = "/{{.Nope}}"
markers = [{ pattern = "(", name = "bad" }, { pattern = "x" }]

[[logs]]
name = "c"
hosts = "all"
command = "tail -f x"
time_field = "ts"
`)
	_, err := Parse(cfg)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{
		`pattern "tag:nope" matches no host`,
		"logs[0].colour", "unknown key",
		"duplicate log source name",
		"a path or a command, not both",
		"a log source needs a name",
		"want text, json or logfmt",
		"a log source needs a path",
		"host web-1: path template",
		"bad regular expression: missing closing )",
		"a marker needs a non-empty name",
		"applies to json and logfmt sources only",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("errors lack %q:\n%s", want, msg)
		}
	}
	if !strings.Contains(msg, "config.toml:") {
		t.Errorf("errors are not positioned:\n%s", msg)
	}
}

func TestRemoteScripts(t *testing.T) {
	if got := shellQuote("/var/log/app.log"); got != "/var/log/app.log" {
		t.Errorf("plain path quoted: %s", got)
	}
	if got := shellQuote("it's here"); got != `'it'\''s here'` {
		t.Errorf("quote: %s", got)
	}
	if got := quotePath("~/logs/a b.log"); got != `"$HOME"/'logs/a b.log'` {
		t.Errorf("home path: %s", got)
	}
	if cmd, ok := journalResume("journalctl -fu app -o json", "s=1;i=2"); !ok || cmd != "journalctl -fu app -o json --after-cursor='s=1;i=2'" {
		t.Errorf("journal resume: %q %v", cmd, ok)
	}
	if _, ok := journalResume("journalctl -f | grep x", "c"); ok {
		t.Error("a pipeline must not get --after-cursor")
	}
	for _, tt := range []struct {
		line, content string
		kind          diagKind
	}{
		{"tail: '/l/a.log' has been replaced;  following new file", "", diagReplaced},
		{"partialtail: '/l/a.log' has become inaccessible: No such file or directory", "partial", diagGone},
		{"tail: '/l/a.log' has appeared;  following new file", "", diagAppeared},
		{"tail: /l/a.log: file truncated", "", diagTruncated},
		{"tail: cannot open '/l/a.log' for reading: Permission denied", "", diagOther},
		{"tail: inotify cannot be used, reverting to polling", "", diagOther},
		{"tail: '/other.log' has been replaced;  following new file", "tail: '/other.log' has been replaced;  following new file", diagNone},
		{"user ran tail: nothing to see", "user ran tail: nothing to see", diagNone},
	} {
		content, kind, _ := tailNotice(tt.line, "/l/a.log")
		if kind != tt.kind || content != tt.content {
			t.Errorf("tailNotice(%q) = %q, %v; want %q, %v", tt.line, content, kind, tt.content, tt.kind)
		}
	}
	h, ok := parseHeader("\x1eopsconsole-logs file 120 100 ok /var/log/my app.log")
	if !ok || h.size != 120 || h.start != 100 || h.result != resOK || h.path != "/var/log/my app.log" {
		t.Errorf("header %+v %v", h, ok)
	}
}
