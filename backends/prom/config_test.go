package prom

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/config"
)

// load writes src as a config file and loads it with a throwaway home.
func load(t *testing.T, src string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "cfg.toml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.LoadOptions{ConfigFile: path, Env: func(k string) string {
		return map[string]string{"HOME": dir}[k]
	}})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestParseAbsentIsNoServer(t *testing.T) {
	c, err := Parse(load(t, "[[hosts]]\nname = \"a\"\n"))
	if c != nil || err != nil {
		t.Fatalf("Parse = %v, %v; want nil, nil", c, err)
	}
}

func TestParseDefaultsAndFields(t *testing.T) {
	c, err := Parse(load(t, `[prometheus]
url = "https://prom.example.com/prometheus"
bearer_token_env = "PROM_TOKEN"
ca_file = "ca.pem"
insecure_skip_verify = true
timeout = "3s"
host_label = "host"
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.URL != "https://prom.example.com/prometheus" || c.BearerTokenEnv != "PROM_TOKEN" || !c.InsecureSkipVerify ||
		c.Timeout != 3*time.Second || c.HostLabel != "host" || !filepath.IsAbs(c.CAFile) || filepath.Base(c.CAFile) != "ca.pem" {
		t.Fatalf("parsed %#v / %+v", c, *c)
	}
	c, err = Parse(load(t, "[prometheus]\nurl = \"http://127.0.0.1:9090\"\n"))
	if err != nil || c.Timeout != DefaultTimeout || c.HostLabel != "instance" {
		t.Fatalf("defaults: %v %v", c, err)
	}
}

func TestParseErrorsArePositioned(t *testing.T) {
	cfg := load(t, `[[hosts]]
name = "a"

[prometheus]
url = "ftp://prom:9090"
timeout = "soon"
bogus = 1
host_label = "not-a-label"
basic_password = "pw"
`)
	_, err := Parse(cfg)
	var list config.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error %T %v, want a config.ErrorList", err, err)
	}
	file := cfg.Files[0]
	for _, want := range []string{
		file + ":5:1: prometheus.url: must start with http:// or https://",
		file + ":6:1: prometheus.timeout: bad duration \"soon\"",
		file + ":7:1: prometheus.bogus: unknown key",
		file + ":8:1: prometheus.host_label: \"not-a-label\" is not a label name",
		"prometheus.basic_user: missing: a basic_password needs a basic_user",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("errors lack %q:\n%v", want, err)
		}
	}
	if _, err := Parse(load(t, "[prometheus]\ntimeout = \"1s\"\n")); err == nil || !strings.Contains(err.Error(), ":1:1: prometheus.url: missing") {
		t.Errorf("missing url: %v", err)
	}
	if _, err := Parse(load(t, "prometheus = 3\n")); err == nil || !strings.Contains(err.Error(), "must be a table") {
		t.Errorf("not a table: %v", err)
	}
	_, err = Parse(load(t, "[prometheus]\nurl = \"http://h:9090\"\nbearer_token = \"x\"\nbearer_token_env = \"Y\"\n"))
	if err == nil || !strings.Contains(err.Error(), ":4:1: prometheus.bearer_token_env: set bearer_token or bearer_token_env, not both") {
		t.Errorf("token twice: %v", err)
	}
}

// secretConfigs hold a secret in every place one can go.
const (
	urlUser   = "tok-user-7f3a"
	urlPass   = "url-pass-91c2"
	token     = "hdr-token-5be8"
	password  = "basic-pass-0d4e"
	envSecret = "env-token-c77a"
)

func leaks(s string) string {
	for _, secret := range []string{urlUser, urlPass, token, password, envSecret} {
		if strings.Contains(s, secret) {
			return secret
		}
	}
	return ""
}

func TestSecretsNeverPrinted(t *testing.T) {
	cfgs := []Config{
		{URL: "http://" + urlUser + ":" + urlPass + "@127.0.0.1:9090/"},
		{URL: "http://" + urlUser + "@127.0.0.1:9090/"},
		{URL: "https://prom:9090", BearerToken: token},
		{URL: "https://prom:9090", BasicUser: "ops", BasicPassword: password},
	}
	for _, c := range cfgs {
		var log strings.Builder
		slog.New(slog.NewTextHandler(&log, nil)).Info("cfg", "prometheus", c)
		slog.New(slog.NewJSONHandler(&log, nil)).Info("cfg", "prometheus", c)
		for _, s := range []string{c.String(), fmt.Sprint(c), fmt.Sprintf("%+v %#v %d %s %q %x", c, c, c, c, c, c),
			fmt.Sprintf("%v", &c), c.RedactedURL(), log.String()} {
			if l := leaks(s); l != "" {
				t.Errorf("%q leaks %s", s, l)
			}
		}
		cl, err := New(&c, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{cl.String(), fmt.Sprintf("%v %+v %#v %s", cl, cl, cl, cl), cl.URL()} {
			if l := leaks(s); l != "" {
				t.Errorf("client %q leaks %s", s, l)
			}
		}
	}
	// A wrongly typed or unparsable value is not echoed: it may be a secret in the
	// wrong place.
	_, err := Parse(load(t, "[prometheus]\nurl = \"http://"+urlUser+":"+urlPass+"@h:port/\"\nbearer_token = 12345987\n"))
	if err == nil || leaks(err.Error()) != "" || strings.Contains(err.Error(), "12345987") {
		t.Errorf("parse error leaks: %v", err)
	}
	// An unset variable is named, and nothing else.
	_, err = New(&Config{URL: "http://h:9090", BearerTokenEnv: "PROM_TOKEN"}, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "PROM_TOKEN") {
		t.Errorf("unset env: %v", err)
	}
}
