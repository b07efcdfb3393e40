package probe_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	grpchealth "google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/opsconsole/opsconsole/backends/local"
	"github.com/opsconsole/opsconsole/backends/probe"
	"github.com/opsconsole/opsconsole/ops/health"
)

// Every sessions.Session is a Runner; the local backend is checked here from outside, as
// backends do not import sessions.
var _ probe.Runner = (*local.Session)(nil)

// target is a real HTTP server with the endpoints the probes are tested against.
func target(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "status: ready\n") })
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database unreachable", http.StatusInternalServerError)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(10 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/fail", http.StatusFound)
	})
	mux.HandleFunc("/auth", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret-token" || r.Header.Get("X-Probe") != "yes" {
			http.Error(w, "who are you", http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "welcome")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func check(t *testing.T, r probe.Result, status health.Status, reason string) {
	t.Helper()
	if r.Status != status || !strings.Contains(r.Reason, reason) {
		t.Fatalf("got %s %q, want %s with %q (result %+v)", r.Status, r.Reason, status, reason, r)
	}
}

func TestHTTPStatusAndBody(t *testing.T) {
	t.Parallel()
	srv := target(t)
	ctx := context.Background()

	r := probe.HTTP(ctx, probe.HTTPSpec{URL: srv.URL + "/ok", BodyMatch: regexp.MustCompile(`status: (ready|ok)`)})
	check(t, r, health.OK, "")
	if r.Reason != "" || r.Detail.StatusCode != 200 || r.Latency <= 0 || r.Type != probe.TypeHTTP || r.Time.IsZero() {
		t.Fatalf("ok probe: %+v", r)
	}

	r = probe.HTTP(ctx, probe.HTTPSpec{URL: srv.URL + "/ok", BodyMatch: regexp.MustCompile(`draining`)})
	check(t, r, health.Crit, "body does not match /draining/")

	r = probe.HTTP(ctx, probe.HTTPSpec{URL: srv.URL + "/fail"})
	check(t, r, health.Crit, "status 500, want 2xx/3xx")
	if r.Detail.StatusCode != 500 {
		t.Fatalf("status code %d", r.Detail.StatusCode)
	}

	r = probe.HTTP(ctx, probe.HTTPSpec{URL: srv.URL + "/fail", ExpectStatus: []probe.StatusRange{{Lo: 500, Hi: 500}}})
	check(t, r, health.OK, "")

	r = probe.HTTP(ctx, probe.HTTPSpec{URL: srv.URL + "/ok", Method: http.MethodPost, ExpectStatus: []probe.StatusRange{{Lo: 200, Hi: 200}}})
	check(t, r, health.OK, "")
}

func TestHTTPSlowEndpointTimesOut(t *testing.T) {
	t.Parallel()
	srv := target(t)
	ctx, cancel := probe.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	r := probe.HTTP(ctx, probe.HTTPSpec{URL: srv.URL + "/slow"})
	check(t, r, health.Down, "timeout after 2s")
	if r.Latency < 2*time.Second || r.Latency > 5*time.Second {
		t.Fatalf("latency %v, want about the 2s timeout", r.Latency)
	}

	// A caller's shorter deadline wins over the probe's timeout, and says so.
	outer, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	inner, cancel3 := probe.WithTimeout(outer, 2*time.Second)
	defer cancel3()
	r = probe.HTTP(inner, probe.HTTPSpec{URL: srv.URL + "/slow"})
	check(t, r, health.Down, "deadline exceeded after ")
}

func TestHTTPRedirectIsNotFollowed(t *testing.T) {
	t.Parallel()
	srv := target(t)
	r := probe.HTTP(context.Background(), probe.HTTPSpec{URL: srv.URL + "/redirect"})
	check(t, r, health.OK, "")
	if r.Detail.StatusCode != http.StatusFound {
		t.Fatalf("status %d, want the redirect itself", r.Detail.StatusCode)
	}
	r = probe.HTTP(context.Background(), probe.HTTPSpec{URL: srv.URL + "/redirect", ExpectStatus: []probe.StatusRange{{Lo: 200, Hi: 299}}})
	check(t, r, health.Crit, "status 302, want 2xx")
	r = probe.HTTP(context.Background(), probe.HTTPSpec{URL: srv.URL + "/redirect", FollowRedirects: true})
	check(t, r, health.Crit, "status 500")
}

// Not parallel: it sets the environment.
func TestHTTPHeadersFromEnvNeverPrinted(t *testing.T) {
	srv := target(t)
	const secret = "s3cret-token"
	t.Setenv("PROBE_TEST_TOKEN", "Bearer "+secret)
	spec := probe.HTTPSpec{
		URL:     srv.URL + "/auth",
		Headers: map[string]string{"Authorization": "env:PROBE_TEST_TOKEN", "X-Probe": "yes"},
	}
	r := probe.HTTP(context.Background(), spec)
	check(t, r, health.OK, "")

	t.Setenv("PROBE_TEST_TOKEN", "Bearer wrong-"+secret)
	r = probe.HTTP(context.Background(), spec)
	check(t, r, health.Crit, "status 401")
	if s := fmt.Sprintf("%+v", r); strings.Contains(s, secret) {
		t.Fatalf("the header value leaked into the result: %s", s)
	}

	os.Unsetenv("PROBE_TEST_TOKEN")
	r = probe.HTTP(context.Background(), spec)
	check(t, r, health.Unknown, "header Authorization: environment variable PROBE_TEST_TOKEN is not set")
}

func TestHTTPRedactsPasswordInTarget(t *testing.T) {
	t.Parallel()
	srv := target(t)
	u := strings.Replace(srv.URL, "http://", "http://ops:hunter2@", 1) + "/ok"
	r := probe.HTTP(context.Background(), probe.HTTPSpec{URL: u})
	check(t, r, health.OK, "")
	if strings.Contains(r.Target, "hunter2") {
		t.Fatalf("target %q shows the password", r.Target)
	}
}

// selfSigned makes a certificate for 127.0.0.1 valid from an hour ago for validFor, and
// writes it as a PEM file that can serve as its own CA.
func selfSigned(t *testing.T, validFor time.Duration) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "probe-test"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validFor),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, caFile
}

func tlsTarget(t *testing.T, cert tls.Certificate) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(target(t).Config.Handler)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPSCertificateExpiry(t *testing.T) {
	t.Parallel()
	cert, caFile := selfSigned(t, 3*24*time.Hour)
	srv := tlsTarget(t, cert)
	ctx := context.Background()

	r := probe.HTTP(ctx, probe.HTTPSpec{URL: srv.URL + "/ok", TLS: probe.TLSOptions{CAFile: caFile}, WarnDays: 14, CritDays: 2})
	check(t, r, health.Warn, "certificate expires in 3 days")
	if r.Detail.CertDays != 3 || r.Detail.StatusCode != 200 {
		t.Fatalf("detail %+v", r.Detail)
	}

	r = probe.HTTP(ctx, probe.HTTPSpec{URL: srv.URL + "/ok", TLS: probe.TLSOptions{CAFile: caFile}, WarnDays: 14, CritDays: 7})
	check(t, r, health.Crit, "certificate expires in 3 days")

	// A failing endpoint and an expiring certificate: the worse verdict leads, both show.
	r = probe.HTTP(ctx, probe.HTTPSpec{URL: srv.URL + "/fail", TLS: probe.TLSOptions{CAFile: caFile}, WarnDays: 14})
	check(t, r, health.Crit, "status 500, want 2xx/3xx; certificate expires in 3 days")

	// Untrusted without the CA; explicitly insecure still judges the expiry.
	r = probe.HTTP(ctx, probe.HTTPSpec{URL: srv.URL + "/ok", WarnDays: 14})
	check(t, r, health.Crit, "certificate not trusted")
	r = probe.HTTP(ctx, probe.HTTPSpec{URL: srv.URL + "/ok", TLS: probe.TLSOptions{InsecureSkipVerify: true}, WarnDays: 14})
	check(t, r, health.Warn, "certificate expires in 3 days")
}

func TestTLSExpiry(t *testing.T) {
	t.Parallel()
	cert, caFile := selfSigned(t, 3*24*time.Hour)
	addr := tlsTarget(t, cert).Listener.Addr().String()
	ctx := context.Background()

	r := probe.TLS(ctx, probe.TLSSpec{Addr: addr, TLSOptions: probe.TLSOptions{CAFile: caFile}, WarnDays: 14, CritDays: 2})
	check(t, r, health.Warn, "certificate expires in 3 days")
	if r.Type != probe.TypeTLS || r.Detail.CertExpiry.IsZero() {
		t.Fatalf("result %+v", r)
	}
	r = probe.TLS(ctx, probe.TLSSpec{Addr: addr, TLSOptions: probe.TLSOptions{CAFile: caFile}, WarnDays: 2})
	check(t, r, health.OK, "")

	r = probe.TLS(ctx, probe.TLSSpec{Addr: addr, TLSOptions: probe.TLSOptions{CAFile: caFile, ServerName: "db.example"}})
	check(t, r, health.Crit, "certificate not trusted")

	expired, expiredCA := selfSigned(t, -time.Minute)
	old := tlsTarget(t, expired).Listener.Addr().String()
	r = probe.TLS(ctx, probe.TLSSpec{Addr: old, TLSOptions: probe.TLSOptions{CAFile: expiredCA}})
	check(t, r, health.Crit, "certificate expired")
	r = probe.TLS(ctx, probe.TLSSpec{Addr: old, TLSOptions: probe.TLSOptions{InsecureSkipVerify: true}})
	check(t, r, health.Crit, "certificate expired")
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestTCP(t *testing.T) {
	t.Parallel()
	srv := target(t)
	r := probe.TCP(context.Background(), srv.Listener.Addr().String())
	check(t, r, health.OK, "")
	if r.Latency <= 0 || r.Type != probe.TypeTCP {
		t.Fatalf("result %+v", r)
	}

	r = probe.TCP(context.Background(), closedPort(t))
	check(t, r, health.Down, "connection refused")
	if r.Reason != "connection refused" {
		t.Fatalf("reason %q carries transport noise", r.Reason)
	}

	r = probe.HTTP(context.Background(), probe.HTTPSpec{URL: "http://" + closedPort(t) + "/"})
	check(t, r, health.Down, "connection refused")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r = probe.TCP(ctx, srv.Listener.Addr().String())
	check(t, r, health.Unknown, "cancelled")
}

func TestGRPCHealthFollowsServingStatus(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := grpchealth.NewServer()
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	go srv.Serve(l)
	defer srv.Stop()
	addr := l.Addr().String()
	ctx := context.Background()
	spec := probe.GRPCSpec{Addr: addr, Service: "orders"}

	hs.SetServingStatus("orders", healthpb.HealthCheckResponse_SERVING)
	r := probe.GRPC(ctx, spec)
	check(t, r, health.OK, "")
	if r.Detail.ServingStatus != "SERVING" {
		t.Fatalf("detail %+v", r.Detail)
	}

	hs.SetServingStatus("orders", healthpb.HealthCheckResponse_NOT_SERVING)
	r = probe.GRPC(ctx, spec)
	check(t, r, health.Crit, "NOT_SERVING")

	hs.SetServingStatus("orders", healthpb.HealthCheckResponse_SERVING)
	check(t, probe.GRPC(ctx, spec), health.OK, "")

	check(t, probe.GRPC(ctx, probe.GRPCSpec{Addr: addr, Service: "billing"}), health.Crit, "service billing unknown")
	check(t, probe.GRPC(ctx, probe.GRPCSpec{Addr: addr}), health.OK, "") // the server as a whole

	srv.Stop()
	r = probe.GRPC(ctx, spec)
	check(t, r, health.Down, "connection refused")
}

func TestGRPCOverTLS(t *testing.T) {
	t.Parallel()
	cert, caFile := selfSigned(t, 3*24*time.Hour)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := grpchealth.NewServer()
	srv := grpc.NewServer(grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}})))
	healthpb.RegisterHealthServer(srv, hs)
	go srv.Serve(l)
	defer srv.Stop()
	addr := l.Addr().String()

	r := probe.GRPC(context.Background(), probe.GRPCSpec{Addr: addr, TLS: true, TLSOptions: probe.TLSOptions{CAFile: caFile}, WarnDays: 14})
	check(t, r, health.Warn, "certificate expires in 3 days")
	r = probe.GRPC(context.Background(), probe.GRPCSpec{Addr: addr, TLS: true})
	check(t, r, health.Crit, "TLS handshake failed")
	r = probe.GRPC(context.Background(), probe.GRPCSpec{Addr: addr}) // plaintext to a TLS server
	if r.OK() {
		t.Fatalf("plaintext probe of a TLS server passed: %+v", r)
	}
}

func TestExecOnLocalMachine(t *testing.T) {
	t.Parallel()
	s := local.New()
	defer s.Close()
	ctx := context.Background()

	r := probe.Exec(ctx, s, "echo service is active", 0, regexp.MustCompile(`is (active|running)`))
	check(t, r, health.OK, "")
	if r.Detail.ExitCode != 0 || r.Detail.Output != "service is active" || r.Target != "echo service is active" {
		t.Fatalf("result %+v", r)
	}

	r = probe.Exec(ctx, s, "echo degraded; echo disk full >&2; exit 3", 0, nil)
	check(t, r, health.Crit, "exit 3, want 0: disk full")
	if r.Detail.ExitCode != 3 {
		t.Fatalf("exit code %d", r.Detail.ExitCode)
	}

	check(t, probe.Exec(ctx, s, "exit 3", 3, nil), health.OK, "")
	check(t, probe.Exec(ctx, s, "echo inactive", 0, regexp.MustCompile(`^active`)), health.Crit, "output does not match /^active/")

	tctx, cancel := probe.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	r = probe.Exec(tctx, s, "sleep 10", 0, nil)
	check(t, r, health.Down, "timeout after 300ms")
	if r.Latency > 3*time.Second {
		t.Fatalf("the timeout did not end the command: %v", r.Latency)
	}

	check(t, probe.Exec(ctx, nil, "true", 0, nil), health.Unknown, "no session")
}
