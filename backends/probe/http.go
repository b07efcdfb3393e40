package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/opsconsole/opsconsole/ops/health"
)

// StatusRange is an inclusive range of HTTP status codes: {200, 200} or {200, 299}.
type StatusRange struct{ Lo, Hi int }

func (s StatusRange) String() string {
	switch {
	case s.Lo == s.Hi:
		return strconv.Itoa(s.Lo)
	case s.Lo%100 == 0 && s.Hi == s.Lo+99:
		return strconv.Itoa(s.Lo/100) + "xx"
	}
	return fmt.Sprintf("%d-%d", s.Lo, s.Hi)
}

// DefaultExpectStatus accepts 2xx and 3xx: redirects are not followed by default, and a
// redirect is a live server answering.
var DefaultExpectStatus = []StatusRange{{200, 299}, {300, 399}}

// EnvPrefix marks a header value read from the environment at probe time:
// "env:TOKEN" sends $TOKEN. The value itself is never printed.
const EnvPrefix = "env:"

// BodyLimit is how much of a body is read to match it; a longer body is judged on its
// start, so that a probe of a large page costs a bounded read.
const BodyLimit = 1 << 20

// drainLimit is how much of an unmatched body is read so that its connection can be
// reused; past it, closing the connection is cheaper than reading on.
const drainLimit = 64 << 10

// HTTPSpec is one HTTP(S) probe.
type HTTPSpec struct {
	URL    string
	Method string // default GET
	// Headers are sent with the request; a value "env:NAME" is $NAME, read at probe time.
	// A "Host" header sets the request's host.
	Headers map[string]string
	// ExpectStatus lists the accepted status codes; empty means DefaultExpectStatus.
	ExpectStatus []StatusRange
	// BodyMatch, if set, must match the body's first BodyLimit bytes.
	BodyMatch *regexp.Regexp
	// FollowRedirects follows up to 10 redirects; by default the redirect is the answer.
	FollowRedirects bool
	TLS             TLSOptions
	// WarnDays and CritDays judge an HTTPS server's leaf certificate as TLSSpec does.
	WarnDays, CritDays int
	// NoKeepAlive opens a fresh connection for every attempt, so that each one also
	// proves the server still accepts connections; it costs a handshake per probe.
	NoKeepAlive bool
	// Getenv reads "env:" header values; nil means os.LookupEnv.
	Getenv func(string) (string, bool)
}

// transportKey names the settings a transport is built from; probes that agree on them
// share one transport and therefore its idle connections.
type transportKey struct {
	tls         TLSOptions
	noKeepAlive bool
}

var (
	transportsMu sync.Mutex
	transports   = map[transportKey]*http.Transport{}
)

// Transport limits. Connections in use are bounded by the callers' concurrency (one per
// probe in flight); idle ones by these, so ten thousand probes hold at most a thousand
// descriptors between runs instead of one each. Per host, as many stay idle as the
// default worker pool can use at once: a target probed on many paths (a load balancer)
// then reuses its connections instead of closing and reopening them every round.
const (
	maxIdleConns        = 1024
	maxIdleConnsPerHost = 256
	idleConnTimeout     = 90 * time.Second
)

// transport returns the shared transport for k, building it on first use.
func transport(k transportKey) (*http.Transport, error) {
	transportsMu.Lock()
	defer transportsMu.Unlock()
	if t := transports[k]; t != nil {
		return t, nil
	}
	conf, err := k.tls.clientConfig("")
	if err != nil {
		return nil, err
	}
	t := &http.Transport{
		// No Proxy: a health probe must reach the target itself, not whatever an
		// engineer's shell has in HTTPS_PROXY.
		DialContext:           (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       conf,
		TLSHandshakeTimeout:   10 * time.Second,
		ForceAttemptHTTP2:     true,
		DisableKeepAlives:     k.noKeepAlive,
		MaxIdleConns:          maxIdleConns,
		MaxIdleConnsPerHost:   maxIdleConnsPerHost,
		IdleConnTimeout:       idleConnTimeout,
		ExpectContinueTimeout: time.Second,
		// A probe reads at most BodyLimit bytes; compressed bodies would only cost CPU.
		DisableCompression: true,
	}
	transports[k] = t
	return t, nil
}

// CloseIdleConnections closes the idle connections of every probe transport, for a
// caller that stops probing or a test that checks for leaks.
func CloseIdleConnections() {
	transportsMu.Lock()
	defer transportsMu.Unlock()
	for _, t := range transports {
		t.CloseIdleConnections()
	}
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// HTTP sends one request and judges the answer: the status against ExpectStatus, the body
// against BodyMatch, and an HTTPS server's certificate against WarnDays and CritDays.
func HTTP(ctx context.Context, spec HTTPSpec) Result {
	r := start(TypeHTTP, redact(spec.URL))
	unknown := func(format string, args ...any) Result {
		r.done()
		r.Status, r.Reason = health.Unknown, fmt.Sprintf(format, args...)
		return r
	}
	method := spec.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, spec.URL, nil)
	if err != nil {
		return unknown("%v", err)
	}
	req.Header.Set("User-Agent", "opsconsole-probe")
	getenv := spec.Getenv
	if getenv == nil {
		getenv = os.LookupEnv
	}
	for k, v := range spec.Headers {
		if name, ok := strings.CutPrefix(v, EnvPrefix); ok {
			if v, ok = getenv(name); !ok {
				return unknown("header %s: environment variable %s is not set", k, name)
			}
		}
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	t, err := transport(transportKey{tls: spec.TLS, noKeepAlive: spec.NoKeepAlive})
	if err != nil {
		return unknown("%v", err)
	}
	client := http.Client{Transport: t, CheckRedirect: noRedirect}
	if spec.FollowRedirects {
		client.CheckRedirect = nil
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is the target, printed beside the reason already
		}
		if ctx.Err() == nil && isCertError(err) {
			r.done()
			r.Status, r.Reason = health.Crit, certErrReason(err)
			return r
		}
		r.fail(ctx, err)
		return r
	}
	defer resp.Body.Close()
	r.Detail.StatusCode = resp.StatusCode
	var body []byte
	if spec.BodyMatch != nil {
		body, err = io.ReadAll(io.LimitReader(resp.Body, BodyLimit))
	} else {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	}
	if err != nil {
		r.fail(ctx, fmt.Errorf("reading body: %w", err))
		return r
	}
	r.done()
	r.Status = health.OK
	expect := spec.ExpectStatus
	if len(expect) == 0 {
		expect = DefaultExpectStatus
	}
	if !statusIn(resp.StatusCode, expect) {
		r.judge(health.Crit, "status %d, want %s", resp.StatusCode, joinRanges(expect))
	}
	if spec.BodyMatch != nil && !spec.BodyMatch.Match(body) {
		r.judge(health.Crit, "body does not match /%s/", spec.BodyMatch)
	}
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		certVerdict(&r, resp.TLS.PeerCertificates[0].NotAfter, spec.WarnDays, spec.CritDays)
	}
	return r
}

func statusIn(code int, rs []StatusRange) bool {
	for _, s := range rs {
		if code >= s.Lo && code <= s.Hi {
			return true
		}
	}
	return false
}

func joinRanges(rs []StatusRange) string {
	parts := make([]string, len(rs))
	for i, s := range rs {
		parts[i] = s.String()
	}
	return strings.Join(parts, "/")
}

// redact hides a password in the URL's userinfo: targets are printed.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	return u.Redacted()
}
