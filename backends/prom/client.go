// Package prom reads metrics and alerts for the fleet from the Prometheus HTTP API
// (/api/v1/query, query_range, alerts, targets), which Thanos, Mimir and VictoriaMetrics
// serve too, so it speaks only that documented API over net/http and decodes values into
// prometheus/common/model types. It maps series to inventory hosts by a label's host
// part, turns node_exporter metrics into health.Metrics, and, when no server is
// configured, scrapes a node_exporter's /metrics directly.
//
// Errors keep two cases apart because the console treats them differently: a server that
// does not answer (ErrUnavailable: the data shown is stale, the hosts are not down) and a
// server that answers no (*APIError, with its errorType and text as the server wrote
// them). Credentials never appear in an error or in a printed Config or Client.
package prom

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// ErrUnavailable is wrapped by every error that means the server did not answer: refused
// or dropped connections, no answer within the timeout, a proxy's 502/503/504, or the
// server saying it is unavailable. Data read earlier is then stale, not wrong, and the
// hosts it describes are not down.
var ErrUnavailable = errors.New("prometheus unavailable")

// APIError is an error the server returned in the API's error envelope
// ({"status":"error","errorType":…,"error":…}), kept as it was written.
type APIError struct {
	// Type is the API's errorType: bad_data, execution, timeout, canceled, internal,
	// unavailable, not_found, or whatever a compatible server sends.
	Type string
	// Msg is the server's error text.
	Msg string
	// Status is the HTTP status code.
	Status int
}

func (e *APIError) Error() string {
	if e.Type == "" {
		return e.Msg
	}
	return e.Type + ": " + e.Msg
}

// Is makes an APIError that reports the server itself unavailable match ErrUnavailable.
func (e *APIError) Is(target error) bool {
	return target == ErrUnavailable && isUnavailableStatus(e.Status, e.Type)
}

func isUnavailableStatus(status int, errorType string) bool {
	return errorType == "unavailable" || status == http.StatusBadGateway ||
		status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout
}

// Warnings are the server's warnings about a result that it still returned (for
// example a Thanos store that did not answer).
type Warnings []string

// maxResponse bounds a response body: a runaway query must not take the console's memory.
const maxResponse = 256 << 20

// Client talks to one Prometheus-compatible server. It is safe for concurrent use.
type Client struct {
	base      *url.URL // no credentials: those are in auth, so no URL we print holds them
	display   string   // the base URL as errors name it
	hc        *http.Client
	auth      func(*http.Request)
	authDesc  string
	timeout   time.Duration
	hostLabel string
}

// New makes a Client for c. env looks up bearer_token_env and basic_password_env (nil
// means os.Getenv); a named variable that is unset or empty is an error, since silently
// querying without credentials would only fail later and less clearly.
func New(c *Config, env func(string) string) (*Client, error) {
	if env == nil {
		env = os.Getenv
	}
	if err := checkURL(c.URL); err != nil {
		return nil, fmt.Errorf("prometheus url: %w", err)
	}
	base, _ := url.Parse(c.URL)
	cl := &Client{
		timeout:   cmp.Or(c.Timeout, DefaultTimeout),
		hostLabel: cmp.Or(c.HostLabel, DefaultHostLabel),
	}
	if !model.LabelName(cl.hostLabel).IsValidLegacy() {
		// It is spliced into PromQL ("by (label)"), so Parse's check is repeated for
		// Configs built in code.
		return nil, fmt.Errorf("prometheus host_label %q is not a label name", cl.hostLabel)
	}

	user, pass, token := c.BasicUser, c.BasicPassword, c.BearerToken
	if base.User != nil {
		user = base.User.Username()
		pass, _ = base.User.Password()
		base.User = nil
	}
	if c.BasicPasswordEnv != "" {
		if pass = env(c.BasicPasswordEnv); pass == "" {
			return nil, fmt.Errorf("prometheus: environment variable %s (basic_password_env) is not set", c.BasicPasswordEnv)
		}
	}
	if c.BearerTokenEnv != "" {
		if token = env(c.BearerTokenEnv); token == "" {
			return nil, fmt.Errorf("prometheus: environment variable %s (bearer_token_env) is not set", c.BearerTokenEnv)
		}
	}
	switch {
	case token != "":
		header := "Bearer " + token
		cl.auth = func(r *http.Request) { r.Header.Set("Authorization", header) }
		cl.authDesc = "bearer token"
	case user != "":
		cl.auth = func(r *http.Request) { r.SetBasicAuth(user, pass) }
		cl.authDesc = "basic auth"
	}
	// API paths are joined onto the base, which may carry a prefix (Mimir's /prometheus).
	base.Path = strings.TrimSuffix(base.Path, "/")
	base.RawPath = ""
	cl.base = base
	cl.display = base.String()

	tr := http.DefaultTransport.(*http.Transport).Clone()
	if c.CAFile != "" || c.InsecureSkipVerify {
		tc := &tls.Config{InsecureSkipVerify: c.InsecureSkipVerify} // #nosec G402: opted into by config, for a lab server
		if c.CAFile != "" {
			pem, err := os.ReadFile(c.CAFile)
			if err != nil {
				return nil, fmt.Errorf("prometheus ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("prometheus ca_file %s: no PEM certificate in it", c.CAFile)
			}
			tc.RootCAs = pool
		}
		tr.TLSClientConfig = tc
	}
	// Each request is bounded by the timeout through its context; the transport's own
	// limits only catch a server that accepts and then never sends headers.
	tr.ResponseHeaderTimeout = cl.timeout
	cl.hc = &http.Client{Transport: tr}
	return cl, nil
}

// String names the server and how the client authenticates, never the credentials.
func (c *Client) String() string {
	s := "prometheus " + c.display
	if c.authDesc != "" {
		s += " (" + c.authDesc + ")"
	}
	return s
}

// GoString keeps %#v from printing the credentials held in unexported fields.
func (c *Client) GoString() string { return "&prom.Client{" + c.String() + "}" }

// Format makes every fmt verb print String, for the same reason as Config.Format.
func (c *Client) Format(f fmt.State, verb rune) { io.WriteString(f, c.String()) }

// URL is the server's base URL without credentials.
func (c *Client) URL() string { return c.display }

// HostLabel is the label series are mapped to hosts by.
func (c *Client) HostLabel() string { return c.hostLabel }

// Timeout is the bound on each request.
func (c *Client) Timeout() time.Duration { return c.timeout }

// envelope is the API's response wrapper.
type envelope struct {
	Status    string          `json:"status"`
	Data      json.RawMessage `json:"data"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Warnings  []string        `json:"warnings"`
}

// get calls an API endpoint and returns its data as the server sent it. Query endpoints
// go by POST (a long expression does not fit every proxy's URL limit), falling back to
// GET for servers that refuse POST, as the Prometheus client library does.
func (c *Client) get(ctx context.Context, path string, params url.Values, post bool) (json.RawMessage, Warnings, error) {
	if post {
		data, w, err := c.do(ctx, http.MethodPost, path, params)
		var ae *APIError
		if !errors.As(err, &ae) || (ae.Status != http.StatusMethodNotAllowed && ae.Status != http.StatusNotImplemented) {
			return data, w, err
		}
	}
	return c.do(ctx, http.MethodGet, path, params)
}

func (c *Client) do(ctx context.Context, method, path string, params url.Values) (json.RawMessage, Warnings, error) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	u := *c.base
	u.Path += path
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(params.Encode())
	} else {
		u.RawQuery = params.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, nil, fmt.Errorf("prometheus %s: %w", path, err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	if c.auth != nil {
		c.auth(req)
	}

	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, c.transportError(parent, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, nil, c.transportError(parent, path, err)
	}
	if len(raw) > maxResponse {
		return nil, nil, fmt.Errorf("prometheus %s: response larger than %d MiB; narrow the query", path, maxResponse>>20)
	}

	var env envelope
	if jerr := json.Unmarshal(raw, &env); jerr != nil || env.Status == "" {
		// Not the API speaking: a proxy, a login page, or the wrong URL.
		return nil, nil, c.foreignResponse(path, resp, raw)
	}
	if env.Status != "success" {
		return nil, Warnings(env.Warnings), &APIError{Type: env.ErrorType, Msg: env.Error, Status: resp.StatusCode}
	}
	return env.Data, Warnings(env.Warnings), nil
}

// transportError says why no answer came. The caller's own cancellation is returned as
// it is; anything else means the server is unavailable. Only the inner error is kept:
// url.Error repeats the request URL, which for a GET holds the whole expression.
func (c *Client) transportError(parent context.Context, path string, err error) error {
	if perr := parent.Err(); perr != nil {
		return fmt.Errorf("prometheus %s: %w", path, perr)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %s gave no answer within %v", ErrUnavailable, c.display, c.timeout)
	}
	return fmt.Errorf("%w: %s: %v", ErrUnavailable, c.display, err)
}

// foreignResponse describes a response that is not the API's JSON.
func (c *Client) foreignResponse(path string, resp *http.Response, raw []byte) error {
	snippet := strings.Join(strings.Fields(string(raw[:min(len(raw), 200)])), " ")
	msg := fmt.Sprintf("%s%s answered %s, not the Prometheus API", c.display, path, resp.Status)
	if snippet != "" {
		msg += ": " + snippet
	}
	switch {
	case isUnavailableStatus(resp.StatusCode, ""):
		return fmt.Errorf("%w: %s", ErrUnavailable, msg)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return &APIError{Type: "unauthorized", Msg: msg + " (check the credentials in [prometheus])", Status: resp.StatusCode}
	case resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotImplemented:
		return &APIError{Msg: msg, Status: resp.StatusCode}
	}
	return errors.New(msg)
}

// durationSeconds formats d for the API's duration and step parameters (float seconds).
func durationSeconds(d time.Duration) string {
	s := d.Seconds()
	if s == math.Trunc(s) {
		return fmt.Sprintf("%.0f", s)
	}
	return fmt.Sprintf("%g", s)
}

// formatTime writes t as the API's float seconds.
func formatTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixNano())/1e9, 'f', -1, 64)
}

// QueryData runs an instant query and returns the data ({"resultType":…,"result":…})
// exactly as the server sent it, for callers that pass it on. A zero at means the
// server's now.
func (c *Client) QueryData(ctx context.Context, expr string, at time.Time) (json.RawMessage, Warnings, error) {
	params := url.Values{"query": {expr}, "timeout": {durationSeconds(c.timeout)}}
	if !at.IsZero() {
		params.Set("time", formatTime(at))
	}
	return c.get(ctx, "/api/v1/query", params, true)
}

// Query runs an instant query. A zero at means the server's now.
func (c *Client) Query(ctx context.Context, expr string, at time.Time) (model.Value, Warnings, error) {
	data, w, err := c.QueryData(ctx, expr, at)
	if err != nil {
		return nil, w, err
	}
	v, err := DecodeData(data)
	return v, w, err
}

// QueryRangeData runs a range query and returns the data exactly as the server sent it.
func (c *Client) QueryRangeData(ctx context.Context, expr string, start, end time.Time, step time.Duration) (json.RawMessage, Warnings, error) {
	if step <= 0 {
		return nil, nil, errors.New("prometheus query_range: step must be positive")
	}
	params := url.Values{
		"query":   {expr},
		"start":   {formatTime(start)},
		"end":     {formatTime(end)},
		"step":    {durationSeconds(step)},
		"timeout": {durationSeconds(c.timeout)},
	}
	return c.get(ctx, "/api/v1/query_range", params, true)
}

// QueryRange runs a range query; the value is a model.Matrix.
func (c *Client) QueryRange(ctx context.Context, expr string, start, end time.Time, step time.Duration) (model.Value, Warnings, error) {
	data, w, err := c.QueryRangeData(ctx, expr, start, end, step)
	if err != nil {
		return nil, w, err
	}
	v, err := DecodeData(data)
	return v, w, err
}

// DecodeData decodes a query's data ({"resultType":…,"result":…}) into a model.Vector,
// model.Matrix, *model.Scalar or *model.String.
func DecodeData(data json.RawMessage) (model.Value, error) {
	var d struct {
		Type   model.ValueType `json:"resultType"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("prometheus: undecodable query data: %w", err)
	}
	var v model.Value
	switch d.Type {
	case model.ValVector:
		v = &model.Vector{}
	case model.ValMatrix:
		v = &model.Matrix{}
	case model.ValScalar:
		v = &model.Scalar{}
	case model.ValString:
		v = &model.String{}
	default:
		return nil, fmt.Errorf("prometheus: unknown result type %q", d.Type)
	}
	if err := json.Unmarshal(d.Result, v); err != nil {
		return nil, fmt.Errorf("prometheus: undecodable %s result: %w", d.Type, err)
	}
	switch v := v.(type) {
	case *model.Vector:
		return *v, nil
	case *model.Matrix:
		return *v, nil
	}
	return v, nil
}

// Alert is one alerting rule instance from /api/v1/alerts.
type Alert struct {
	Labels      model.LabelSet `json:"labels"`
	Annotations model.LabelSet `json:"annotations"`
	// State is firing or pending.
	State    string    `json:"state"`
	ActiveAt time.Time `json:"activeAt"`
	// Value is the expression's value when the alert last fired, as the server formats it.
	Value string `json:"value"`
}

// Name is the alert's alertname label.
func (a Alert) Name() string { return string(a.Labels[model.AlertNameLabel]) }

// Firing reports whether the alert is firing (not pending).
func (a Alert) Firing() bool { return a.State == "firing" }

// Alerts lists the server's active (firing and pending) alerts.
func (c *Client) Alerts(ctx context.Context) ([]Alert, error) {
	data, _, err := c.get(ctx, "/api/v1/alerts", nil, false)
	if err != nil {
		return nil, err
	}
	var d struct {
		Alerts []Alert `json:"alerts"`
	}
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("prometheus: undecodable alerts: %w", err)
	}
	return d.Alerts, nil
}

// Targets are the server's scrape targets from /api/v1/targets.
type Targets struct {
	Active  []ActiveTarget  `json:"activeTargets"`
	Dropped []DroppedTarget `json:"droppedTargets"`
}

// ActiveTarget is a target being scraped.
type ActiveTarget struct {
	DiscoveredLabels map[string]string `json:"discoveredLabels"`
	Labels           model.LabelSet    `json:"labels"`
	ScrapePool       string            `json:"scrapePool"`
	ScrapeURL        string            `json:"scrapeUrl"`
	GlobalURL        string            `json:"globalUrl"`
	LastError        string            `json:"lastError"`
	LastScrape       time.Time         `json:"lastScrape"`
	// LastScrapeDuration is in seconds.
	LastScrapeDuration float64 `json:"lastScrapeDuration"`
	// Health is up, down or unknown.
	Health string `json:"health"`
}

// DroppedTarget is a discovered target that relabelling dropped.
type DroppedTarget struct {
	DiscoveredLabels map[string]string `json:"discoveredLabels"`
}

// Targets lists the server's scrape targets.
func (c *Client) Targets(ctx context.Context) (Targets, error) {
	data, _, err := c.get(ctx, "/api/v1/targets", nil, false)
	if err != nil {
		return Targets{}, err
	}
	var t Targets
	if err := json.Unmarshal(data, &t); err != nil {
		return Targets{}, fmt.Errorf("prometheus: undecodable targets: %w", err)
	}
	return t, nil
}
