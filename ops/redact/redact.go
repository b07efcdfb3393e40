// Package redact removes secrets from text before opsconsole writes it anywhere that
// outlives the moment: the audit log, session recordings, debug logs. A command line such
// as `mysql -p'hunter2'` or `curl -H 'Authorization: Bearer …'` is exactly what an
// operator types during an incident, and exactly what must not land in a file that many
// people read afterwards.
//
// A Redactor is a list of regular expressions. Where an expression has capture groups,
// only what the groups matched is replaced, so the text keeps its shape
// (`PASSWORD=***`, `https://deploy:***@git.example`); an expression without groups has
// its whole match replaced. The built-in rules err on the side of hiding too much: an
// audit entry that reads `token_file=***` costs a reader a moment, a leaked token costs a
// rotation and an incident of its own.
package redact

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/opsconsole/opsconsole/config"
)

// Mask is what replaces a secret.
const Mask = "***"

// Redactor replaces secrets in text. It is immutable after construction and safe for
// concurrent use. The nil *Redactor applies the defaults, so a caller that forgot to
// configure one still never writes a default-shaped secret.
type Redactor struct {
	rules []rule
}

// secretKey is a name that says its value is secret. It may be part of a longer name
// (DB_PASSWORD, X-Auth-Token, aws_secret_access_key), which is why the rules below do not
// anchor it at a word boundary.
const secretKey = `(?:passw(?:or)?d|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credentials?|auth[_-]?key|session[_-]?key)`

// value is a shell-ish value: quoted (the quotes stay, the inside goes) or bare up to
// whitespace, a quote, or a separator of query strings and shell lists.
const value = `(?:'([^']*)'|"([^"]*)"|([^\s'"&;,|]+))`

// rule is a pattern and the words (lower case) of which at least one must occur in the
// text for the pattern to possibly match. Checking the words first keeps redaction cheap
// on the long outputs and log lines recordings carry, where the regular expressions
// alone cost about a microsecond per byte.
type rule struct {
	re    *regexp.Regexp
	words []string
}

// defaultRules are always applied, before any configured rule.
var defaultRules = []struct {
	expr  string
	words []string
}{
	// PEM private keys, whole block (or the rest of the text when the block is cut off).
	{`-----BEGIN [A-Z ]*PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z ]*PRIVATE KEY-----|$)`, []string{"private key"}},
	// Authorization and Proxy-Authorization headers, with or without a scheme word, in
	// curl -H arguments, HTTP dumps and JSON alike. The credential runs to the end of the
	// header value (a closing quote or the end of the line), since Digest and AWS
	// signatures contain spaces and commas.
	{`(?i)(?:proxy-)?authorization["']?\s*[:=]\s*["']?(?:(?:bearer|basic|token|digest|negotiate|ntlm|aws4-hmac-sha256)\s+)?([^'"\r\n]+)`, []string{"authorization"}},
	// A bare bearer token anywhere else (log lines, error messages).
	{`(?i)\bbearer\s+([A-Za-z0-9\-._~+/]+=*)`, []string{"bearer"}},
	// key=value and key: value where the key names a secret: PASSWORD=x, --password=x,
	// DB_PASSWORD=x, token=abc in a query string, "api_key": "x" in JSON, X-Auth-Token: x.
	// The key may be part of a longer name, and only the value is masked, so the match
	// can start at the secret word itself.
	{`(?i)` + secretKey + `[\w.-]*["']?\s*[=:]\s*` + value, secretWords},
	// --password x, --token x (a separate argument).
	{`(?i)--[\w-]*` + secretKey + `[\w-]*\s+` + value, secretWords},
	// The MySQL family's -pSECRET / -p'SECRET' (the password glued to the flag). -p means
	// something else to most commands (mkdir -p, ssh -p 22), so the rule applies only
	// after a mysql/mariadb client name on the same command.
	{`(?i)\b(?:mysql|mysqldump|mysqladmin|mysqlcheck|mysqlimport|mysqlshow|mariadb|mariadb-dump)\b[^|;&\n]*?\s-p` + value, []string{"mysql", "mariadb"}},
	// sshpass -p SECRET.
	{`\bsshpass\b[^|;&\n]*?\s-p\s*` + value, []string{"sshpass"}},
	// URL userinfo (scheme://user:password@host) keeps the user and hides the password.
	{`(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@'"]*:([^@\s/'"]+)@`, []string{"://"}},
	// AWS access key ids, GitHub and Slack tokens, recognisable without a key name.
	{`\b((?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16})\b`, []string{"akia", "asia", "agpa", "aida", "aroa", "anpa", "anva", "aipa"}},
	{`\b(gh[pousr]_[A-Za-z0-9]{30,})\b`, []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"}},
	{`\b(github_pat_[A-Za-z0-9_]{30,})\b`, []string{"github_pat_"}},
	{`\b(xox[abposr]-[A-Za-z0-9-]{10,})\b`, []string{"xox"}},
}

// secretWords are the words secretKey cannot match without.
var secretWords = []string{"pass", "pwd", "secret", "token", "key", "credential"}

var defaultCompiled = func() []rule {
	out := make([]rule, len(defaultRules))
	for i, r := range defaultRules {
		out[i] = rule{re: regexp.MustCompile(r.expr), words: r.words}
	}
	return out
}()

// Default is the Redactor with the built-in rules only.
func Default() *Redactor { return &Redactor{rules: defaultCompiled} }

// New returns a Redactor applying the built-in rules, then patterns (Go regexp syntax).
// Configured patterns add to the defaults; they can never remove one.
func New(patterns ...string) (*Redactor, error) {
	r := &Redactor{rules: append([]rule(nil), defaultCompiled...)}
	for _, p := range patterns {
		re, err := compile(p)
		if err != nil {
			return nil, err
		}
		r.rules = append(r.rules, rule{re: re})
	}
	return r, nil
}

func compile(p string) (*regexp.Regexp, error) {
	if p == "" {
		return nil, fmt.Errorf("empty pattern")
	}
	re, err := regexp.Compile(p)
	if err != nil {
		return nil, err
	}
	if re.MatchString("") {
		// A pattern that matches nothing-at-all would match everywhere and mask nothing
		// useful; it is almost certainly a mistake such as "a*".
		return nil, fmt.Errorf("pattern %q matches the empty string", p)
	}
	return re, nil
}

// Redact returns s with every secret the rules find replaced by Mask.
func (r *Redactor) Redact(s string) string {
	rules := defaultCompiled
	if r != nil {
		rules = r.rules
	}
	// Masking only removes letters, so words absent from the original text stay absent.
	lower := strings.ToLower(s)
	for _, ru := range rules {
		if ru.words != nil && !containsAny(lower, ru.words) {
			continue
		}
		s = apply(ru.re, s)
	}
	return s
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// apply masks the participating capture groups of every match of re, or whole matches
// when re has no groups.
func apply(re *regexp.Regexp, s string) string {
	matches := re.FindAllStringSubmatchIndex(s, -1)
	if matches == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range matches {
		spans := [][2]int{{m[0], m[1]}}
		if len(m) > 2 {
			spans = spans[:0]
			for g := 2; g < len(m); g += 2 {
				// Skip groups that did not take part, and empty ones: an empty value
				// (password=) has nothing to hide, and masking it would invent a secret.
				if m[g] >= 0 && m[g+1] > m[g] {
					spans = append(spans, [2]int{m[g], m[g+1]})
				}
			}
		}
		for _, sp := range spans {
			if sp[0] < last {
				continue // overlapping groups: the earlier one already covered it
			}
			b.WriteString(s[last:sp[0]])
			b.WriteString(Mask)
			last = sp[1]
		}
	}
	b.WriteString(s[last:])
	return b.String()
}

// Strings redacts every element of ss into a new slice.
func (r *Redactor) Strings(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = r.Redact(s)
	}
	return out
}

// FromConfig builds the Redactor a configuration asks for: the defaults plus the
// patterns of `[audit] redact = ["regexp", …]`. A bad pattern is an error positioned at
// its key, like every other configuration problem. The recorder and the debug log use the
// same Redactor as the audit log, so one list of patterns covers every file written.
func FromConfig(cfg *config.Config) (*Redactor, error) {
	if cfg == nil {
		return Default(), nil
	}
	sec, ok := cfg.Raw["audit"].(map[string]any)
	if !ok {
		return Default(), nil
	}
	raw, ok := sec["redact"]
	if !ok {
		return Default(), nil
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, cfg.Errorf("audit.redact", "must be an array of regular expressions")
	}
	var errs config.ErrorList
	var patterns []string
	for i, v := range list {
		key := fmt.Sprintf("audit.redact[%d]", i)
		p, ok := v.(string)
		if !ok {
			errs = append(errs, cfg.Errorf(key, "must be a string (a regular expression)"))
			continue
		}
		if _, err := compile(p); err != nil {
			errs = append(errs, cfg.Errorf(key, "%v", err))
			continue
		}
		patterns = append(patterns, p)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return New(patterns...)
}
