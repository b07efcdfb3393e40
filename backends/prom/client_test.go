package prom

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

func newClient(t *testing.T, c Config) *Client {
	t.Helper()
	cl, err := New(&c, func(k string) string { return map[string]string{"PROM_TOKEN": envSecret}[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// closedURL is a loopback URL nothing listens on.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestQueryDecodesEveryResultType(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		switch r.Form.Get("query") {
		case "vec":
			w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","instance":"a:1"},"value":[1700000000.5,"1"]}]},"warnings":["partial response"]}`))
		case "sca":
			w.Write([]byte(`{"status":"success","data":{"resultType":"scalar","result":[1700000000,"2.5"]}}`))
		case "str":
			w.Write([]byte(`{"status":"success","data":{"resultType":"string","result":[1700000000,"hello"]}}`))
		case "mat":
			w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"b"},"values":[[1,"1"],[2,"NaN"]]}]}}`))
		}
	}))
	defer srv.Close()
	c := newClient(t, Config{URL: srv.URL})
	ctx := context.Background()
	v, w, err := c.Query(ctx, "vec", time.Time{})
	vec, ok := v.(model.Vector)
	if err != nil || !ok || len(vec) != 1 || vec[0].Value != 1 || vec[0].Metric["instance"] != "a:1" || len(w) != 1 {
		t.Fatalf("vector: %v %v %v", v, w, err)
	}
	if v, _, err := c.Query(ctx, "sca", time.Time{}); err != nil || v.(*model.Scalar).Value != 2.5 {
		t.Fatalf("scalar: %v %v", v, err)
	}
	if v, _, err := c.Query(ctx, "str", time.Time{}); err != nil || v.(*model.String).Value != "hello" {
		t.Fatalf("string: %v %v", v, err)
	}
	v, _, err = c.QueryRange(ctx, "mat", time.Unix(1, 0), time.Unix(2, 0), time.Second)
	if m, ok := v.(model.Matrix); err != nil || !ok || len(m) != 1 || len(m[0].Values) != 2 {
		t.Fatalf("matrix: %v %v", v, err)
	}
	if _, _, err := c.QueryRange(ctx, "mat", time.Unix(1, 0), time.Unix(2, 0), 0); err == nil {
		t.Fatal("zero step accepted")
	}
}

func TestRequestsCarryParamsAuthAndPrefix(t *testing.T) {
	var got atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		got.Store(r.Method + " " + r.URL.Path + " " + r.Header.Get("Authorization") + " " + r.Form.Encode())
		w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
	}))
	defer srv.Close()
	c := newClient(t, Config{URL: srv.URL + "/prometheus/", BearerTokenEnv: "PROM_TOKEN", Timeout: 1500 * time.Millisecond})
	if _, _, err := c.Query(context.Background(), `up{job="node"}`, time.Unix(1700000000, 500e6)); err != nil {
		t.Fatal(err)
	}
	want := "POST /prometheus/api/v1/query Bearer " + envSecret + " query=up%7Bjob%3D%22node%22%7D&time=1700000000.5&timeout=1.5"
	if got.Load() != want {
		t.Fatalf("request\n got %v\nwant %s", got.Load(), want)
	}
	c = newClient(t, Config{URL: strings.Replace(srv.URL, "http://", "http://ops:"+password+"@", 1)})
	c.Query(context.Background(), "1", time.Time{})
	if s := got.Load().(string); !strings.Contains(s, "Basic ") || strings.Contains(s, "timeout=10 ") {
		t.Fatalf("basic auth from URL: %s", s)
	}
}

func TestPostRefusedFallsBackToGet(t *testing.T) {
	var methods []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		methods = append(methods, r.Method)
		if r.Method == http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Write([]byte(`{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}`))
	}))
	defer srv.Close()
	if _, _, err := newClient(t, Config{URL: srv.URL}).Query(context.Background(), "1", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(methods, ",") != "POST,GET" {
		t.Fatalf("methods %v", methods)
	}
}

func TestErrorsAreClassified(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/bad/api/v1/query":
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:4: parse error: unexpected end of input"}`))
		case "/starting/api/v1/query":
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"status":"error","errorType":"unavailable","error":"TSDB not ready"}`))
		case "/proxy/api/v1/query":
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html><body>502 Bad Gateway</body></html>"))
		case "/auth/api/v1/query":
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte("Unauthorized"))
		case "/hang/api/v1/query":
			select {
			case <-hang:
			case <-r.Context().Done():
			}
		}
	}))
	defer srv.Close()
	// Deferred after Close, so it runs first: a handler still waiting must be let go,
	// since the server notices a client gone only once it has read the request body.
	defer close(hang)
	ctx := context.Background()
	query := func(prefix string, c Config) error {
		c.URL = srv.URL + prefix
		_, _, err := newClient(t, c).Query(ctx, "up", time.Time{})
		return err
	}

	err := query("/bad", Config{})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Type != "bad_data" || ae.Status != 400 || errors.Is(err, ErrUnavailable) ||
		err.Error() != `bad_data: invalid parameter "query": 1:4: parse error: unexpected end of input` {
		t.Errorf("bad_data: %v", err)
	}
	if err := query("/starting", Config{}); !errors.Is(err, ErrUnavailable) || !errors.As(err, &ae) || ae.Msg != "TSDB not ready" {
		t.Errorf("unavailable: %v", err)
	}
	if err := query("/proxy", Config{}); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "502 Bad Gateway") {
		t.Errorf("proxy 502: %v", err)
	}
	err = query("/auth", Config{BearerToken: token})
	if !errors.As(err, &ae) || ae.Status != 401 || errors.Is(err, ErrUnavailable) || leaks(err.Error()) != "" {
		t.Errorf("401: %v", err)
	}

	start := time.Now()
	err = query("/hang", Config{Timeout: 300 * time.Millisecond, BearerToken: token})
	if !errors.Is(err, ErrUnavailable) || time.Since(start) > 5*time.Second || !strings.Contains(err.Error(), "no answer within 300ms") {
		t.Errorf("hung server: %v after %v", err, time.Since(start))
	}

	// The caller's own cancellation is not the server's fault.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, _, err = newClient(t, Config{URL: srv.URL + "/hang"}).Query(cctx, "up", time.Time{})
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnavailable) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestUnreachableErrorsHoldNoSecrets(t *testing.T) {
	base := closedURL(t)
	for _, c := range []Config{
		{URL: strings.Replace(base, "http://", "http://"+urlUser+":"+urlPass+"@", 1)},
		{URL: strings.Replace(base, "http://", "http://"+urlUser+"@", 1)},
		{URL: base, BearerToken: token},
		{URL: base, BearerTokenEnv: "PROM_TOKEN"},
		{URL: base, BasicUser: "ops", BasicPassword: password},
	} {
		cl := newClient(t, c)
		ctx := context.Background()
		_, _, err1 := cl.Query(ctx, "up", time.Time{})
		_, err2 := cl.Alerts(ctx)
		_, err3 := cl.FleetMetrics(ctx, inventory)
		for _, err := range []error{err1, err2, err3} {
			if !errors.Is(err, ErrUnavailable) {
				t.Errorf("%v: want ErrUnavailable", err)
			}
			if l := leaks(err.Error()); l != "" {
				t.Errorf("%q leaks %s", err, l)
			}
		}
	}
	_, err := Scrape(context.Background(), strings.Replace(base, "http://", "http://"+urlUser+":"+urlPass+"@", 1)+"/metrics")
	if err == nil || leaks(err.Error()) != "" {
		t.Errorf("scrape: %v", err)
	}
}
