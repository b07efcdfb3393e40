package redact

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opsconsole/opsconsole/config"
)

func TestDefaults(t *testing.T) {
	cases := []struct{ in, want string }{
		{`mysql -u root -p'hunter2' -e 'select 1'`, `mysql -u root -p'***' -e 'select 1'`},
		{`mysql -uroot -phunter2 app`, `mysql -uroot -p*** app`},
		{`mysqldump -p"s3cr et" db > x.sql`, `mysqldump -p"***" db > x.sql`},
		{`curl -H 'Authorization: Bearer abc.def-ghi' https://api`, `curl -H 'Authorization: Bearer ***' https://api`},
		{`curl -H "Authorization: Basic dXNlcjpwYXNz" x`, `curl -H "Authorization: Basic ***" x`},
		{`{"Authorization": "Bearer abc"}`, `{"Authorization": "Bearer ***"}`},
		{`got token Bearer eyJhbGciOi.x.y from cache`, `got token Bearer *** from cache`},
		{`PASSWORD=x ./deploy`, `PASSWORD=*** ./deploy`},
		{`DB_PASSWORD='a b' MYSQL_PWD=z run`, `DB_PASSWORD='***' MYSQL_PWD=*** run`},
		{`app --password=hunter2 --user bob`, `app --password=*** --user bob`},
		{`app --password hunter2 --user bob`, `app --password *** --user bob`},
		{`wget 'https://x/api?token=abc123&page=2'`, `wget 'https://x/api?token=***&page=2'`},
		{`{"api_key": "k-123", "name": "n"}`, `{"api_key": "***", "name": "n"}`},
		{`X-Auth-Token: tok`, `X-Auth-Token: ***`},
		{`secret=abc`, `secret=***`},
		{`passwd=abc`, `passwd=***`},
		{`git clone https://deploy:pa55@git.example/r.git`, `git clone https://deploy:***@git.example/r.git`},
		{`export AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP`, `export AWS_ACCESS_KEY_ID=***`},
		{`key AKIAABCDEFGHIJKLMNOP in log`, `key *** in log`},
		{`aws_secret_access_key = wJalrXUtnFEMI/K7MDENG`, `aws_secret_access_key = ***`},
		{`sshpass -p hunter2 ssh x`, `sshpass -p *** ssh x`},
		{"-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----\nrest", "***\nrest"},
		// Nothing secret: left alone.
		{`mkdir -p /tmp/x && ssh -p 22 host uptime`, `mkdir -p /tmp/x && ssh -p 22 host uptime`},
		{`systemctl restart app`, `systemctl restart app`},
		{`password=`, `password=`},
		{`https://example.com/path`, `https://example.com/path`},
	}
	r := Default()
	for _, c := range cases {
		if got := r.Redact(c.in); got != c.want {
			t.Errorf("Redact(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
		if got := r.Redact(r.Redact(c.in)); got != c.want {
			t.Errorf("Redact is not idempotent on %q: %q", c.in, got)
		}
	}
	var nilR *Redactor
	if got := nilR.Redact("PASSWORD=x"); got != "PASSWORD=***" {
		t.Errorf("nil Redactor must apply the defaults, got %q", got)
	}
}

func TestConfiguredPatterns(t *testing.T) {
	r, err := New(`internal-[0-9]{4}`, `pin (\d+)`)
	if err != nil {
		t.Fatal(err)
	}
	got := r.Redact("ticket internal-1234 pin 9876 PASSWORD=x")
	if want := "ticket *** pin *** PASSWORD=***"; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
	if _, err := New(`a*`); err == nil {
		t.Fatal("a pattern matching the empty string must be refused")
	}
	if _, err := New(`(`); err == nil {
		t.Fatal("a bad pattern must be refused")
	}
}

func TestFromConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) *config.Config {
		t.Helper()
		p := filepath.Join(dir, "config.toml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(config.LoadOptions{ConfigFile: p, Env: func(k string) string {
			if k == "HOME" {
				return dir
			}
			return ""
		}})
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	cfg := write("[audit]\nredact = [\"tick-[0-9]+\"]\n")
	r, err := FromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Redact("tick-42 token=x"); got != "*** token=***" {
		t.Fatalf("got %q", got)
	}
	cfg = write("[audit]\nredact = [\n  \"ok\",\n  \"(\",\n]\n")
	_, err = FromConfig(cfg)
	if err == nil || !strings.Contains(err.Error(), "config.toml:4:3") || !strings.Contains(err.Error(), "audit.redact[1]") {
		t.Fatalf("want a positioned error at audit.redact[1], got %v", err)
	}
}

func BenchmarkRedactCommand(b *testing.B) {
	r := Default()
	s := `curl -fsS -H 'Authorization: Bearer abc' https://api.example/v1/restart?service=app && systemctl restart app`
	for b.Loop() {
		r.Redact(s)
	}
}
