package prom

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsconsole/opsconsole/config"
)

// DefaultTimeout bounds one API request when the config sets no timeout. An on-call
// console would rather show stale data than wait on a slow server.
const DefaultTimeout = 10 * time.Second

// DefaultHostLabel is the label whose host part names a series' host.
const DefaultHostLabel = "instance"

// Config is the [prometheus] section:
//
//	[prometheus]
//	url = "https://prom.example.com"     # may include a path prefix, e.g. Mimir's /prometheus
//	bearer_token_env = "PROM_TOKEN"      # or bearer_token, or basic_user + basic_password(_env)
//	ca_file = "/etc/ssl/internal-ca.pem"
//	timeout = "10s"
//	host_label = "instance"
//
// Secrets (the token, the password, credentials in the URL) are never printed: String,
// GoString, Format and LogValue redact them, and JSON leaves them out.
type Config struct {
	URL              string
	BearerToken      string `json:"-"`
	BearerTokenEnv   string
	BasicUser        string
	BasicPassword    string `json:"-"`
	BasicPasswordEnv string
	CAFile           string
	// InsecureSkipVerify turns off TLS certificate checks, for a lab server only.
	InsecureSkipVerify bool
	// Timeout bounds each API request (default DefaultTimeout).
	Timeout time.Duration
	// HostLabel names the label whose host part maps a series to an inventory host
	// (default DefaultHostLabel).
	HostLabel string
}

var configKeys = []string{"url", "bearer_token", "bearer_token_env", "basic_user", "basic_password",
	"basic_password_env", "ca_file", "insecure_skip_verify", "timeout", "host_label"}

// Parse decodes cfg's [prometheus] section. It returns nil and no error when the section
// is absent: no Prometheus is configured, and metrics come from the hosts themselves.
// Every problem is reported at once, positioned at its key, as a config.ErrorList.
func Parse(cfg *config.Config) (*Config, error) {
	raw, ok := cfg.Raw["prometheus"]
	if !ok {
		return nil, nil
	}
	s := &config.Section{Cfg: cfg}
	c := parse(s, raw)
	if len(s.Errs) > 0 {
		return nil, s.Errs
	}
	return c, nil
}

func parse(s *config.Section, raw any) *Config {
	const key = "prometheus"
	t, ok := raw.(map[string]any)
	if !ok {
		s.Errorf(key, "must be a table ([prometheus])")
		return nil
	}
	s.Known(t, key, configKeys)

	c := &Config{Timeout: DefaultTimeout, HostLabel: DefaultHostLabel}
	// A value of the wrong type is named by its type only, never quoted back: it may be
	// a secret typed in the wrong place.
	s.Str(t, key, "url", &c.URL)
	s.Str(t, key, "bearer_token", &c.BearerToken)
	s.Str(t, key, "bearer_token_env", &c.BearerTokenEnv)
	s.Str(t, key, "basic_user", &c.BasicUser)
	s.Str(t, key, "basic_password", &c.BasicPassword)
	s.Str(t, key, "basic_password_env", &c.BasicPasswordEnv)
	s.Str(t, key, "ca_file", &c.CAFile)
	s.Bool(t, key, "insecure_skip_verify", &c.InsecureSkipVerify)
	s.Span(t, key, "timeout", false, &c.Timeout)
	if s.Str(t, key, "host_label", &c.HostLabel) && !model.LabelName(c.HostLabel).IsValidLegacy() {
		// PromQL's "by (label)" needs a plain label name.
		s.Errorf(key+".host_label", "%q is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)", c.HostLabel)
	}
	if c.CAFile != "" {
		c.CAFile = resolvePath(c.CAFile, s.Cfg)
	}

	if _, ok := t["url"]; !ok {
		s.Errorf(key+".url", "missing: the Prometheus (or Thanos, Mimir, VictoriaMetrics) base URL, e.g. \"http://127.0.0.1:9090\"")
	} else if err := checkURL(c.URL); err != nil {
		s.Errorf(key+".url", "%v", err)
	}
	if c.BearerToken != "" && c.BearerTokenEnv != "" {
		s.Errorf(key+".bearer_token_env", "set bearer_token or bearer_token_env, not both")
	}
	if c.BasicPassword != "" && c.BasicPasswordEnv != "" {
		s.Errorf(key+".basic_password_env", "set basic_password or basic_password_env, not both")
	}
	if (c.BasicPassword != "" || c.BasicPasswordEnv != "") && c.BasicUser == "" {
		s.Errorf(key+".basic_user", "missing: a basic_password needs a basic_user")
	}
	if (c.BearerToken != "" || c.BearerTokenEnv != "") && c.BasicUser != "" {
		s.Errorf(key+".basic_user", "set a bearer token or basic auth, not both")
	}
	if u, err := url.Parse(c.URL); err == nil && u.User != nil && (c.BasicUser != "" || c.BearerToken != "" || c.BearerTokenEnv != "") {
		s.Errorf(key+".url", "the url holds credentials and so does the config: keep one")
	}
	return c
}

// checkURL validates a base URL without ever quoting it: it may hold credentials.
func checkURL(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the whole URL, credentials included
		}
		return fmt.Errorf("not a URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("must start with http:// or https://")
	}
	if u.Host == "" {
		return errors.New("has no host")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("must not have a query or fragment (API paths are appended to it)")
	}
	return nil
}

// resolvePath expands ~ and makes a relative path relative to the config file, as the
// config package does for its own paths.
func resolvePath(p string, cfg *config.Config) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return h + p[1:]
		}
	}
	if !filepath.IsAbs(p) && len(cfg.Files) > 0 {
		return filepath.Join(filepath.Dir(cfg.Files[0]), p)
	}
	return p
}

// RedactedURL is the base URL without any credentials it holds. url.URL.Redacted keeps
// the user name, but a token is often passed as the user name alone.
func (c Config) RedactedURL() string {
	return redactURL(c.URL)
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable url)"
	}
	if u.User == nil {
		return u.String()
	}
	u.User = nil
	return u.String() + " (credentials from url)"
}

// String describes the config with every secret left out: where the server is, how we
// authenticate, and with what limits.
func (c Config) String() string {
	var b strings.Builder
	b.WriteString("prometheus " + c.RedactedURL())
	switch {
	case c.BearerTokenEnv != "":
		b.WriteString(", bearer token from $" + c.BearerTokenEnv)
	case c.BearerToken != "":
		b.WriteString(", bearer token from config")
	case c.BasicUser != "":
		b.WriteString(", basic auth as " + c.BasicUser)
		if c.BasicPasswordEnv != "" {
			b.WriteString(" (password from $" + c.BasicPasswordEnv + ")")
		}
	}
	if c.CAFile != "" {
		b.WriteString(", CA " + c.CAFile)
	}
	if c.InsecureSkipVerify {
		b.WriteString(", TLS verification OFF")
	}
	fmt.Fprintf(&b, ", timeout %v, host label %q", cmp.Or(c.Timeout, DefaultTimeout), cmp.Or(c.HostLabel, DefaultHostLabel))
	return b.String()
}

// GoString keeps %#v from printing the secret fields.
func (c Config) GoString() string { return "prom.Config{" + c.String() + "}" }

// Format makes every fmt verb (%v, %+v, %d…) print String: without it %+v and the
// non-string verbs would walk the fields and print the token.
func (c Config) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, c.GoString())
		return
	}
	io.WriteString(f, c.String())
}

// LogValue keeps structured logs from printing the secret fields.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }
