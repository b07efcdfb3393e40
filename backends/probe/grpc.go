package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/opsconsole/opsconsole/ops/health"
)

// GRPCSpec is one gRPC health probe (grpc.health.v1 Check).
type GRPCSpec struct {
	Addr string // host:port
	// Service is the service name asked about; empty asks about the server as a whole.
	Service string
	// TLS uses TLS credentials built from TLSOptions; without it the connection is
	// plaintext.
	TLS        bool
	TLSOptions TLSOptions
	// WarnDays and CritDays judge the server's certificate when TLS is on.
	WarnDays, CritDays int
}

// GRPC asks the server's health service about spec.Service: OK for SERVING, Crit for any
// other serving status or a service the server does not know, Down when no connection
// could be made.
//
// Each attempt has a connection of its own, closed afterwards: a cached connection would
// answer from gRPC's reconnect backoff (up to two minutes) after a server comes back,
// and the probe must see the server as it is now.
func GRPC(ctx context.Context, spec GRPCSpec) Result {
	r := start(TypeGRPC, spec.Addr)
	creds := insecure.NewCredentials()
	var peerCerts certCapture
	if spec.TLS {
		host, _, err := net.SplitHostPort(spec.Addr)
		if err != nil {
			r.done()
			r.Status, r.Reason = health.Unknown, err.Error()
			return r
		}
		conf, err := spec.TLSOptions.clientConfig(host)
		if err != nil {
			r.done()
			r.Status, r.Reason = health.Unknown, err.Error()
			return r
		}
		conf.VerifyConnection = peerCerts.record
		creds = credentials.NewTLS(conf)
	}
	// passthrough: the address is dialled as written, with no resolver goroutine.
	conn, err := grpc.NewClient("passthrough:///"+spec.Addr,
		grpc.WithTransportCredentials(creds), grpc.WithUserAgent("opsconsole-probe"))
	if err != nil {
		r.done()
		r.Status, r.Reason = health.Unknown, err.Error()
		return r
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: spec.Service})
	if err != nil {
		st, _ := status.FromError(err)
		switch {
		case ctx.Err() != nil || expired(ctx):
			r.fail(ctx, err)
		case st.Code() == codes.NotFound:
			r.done()
			r.Status, r.Reason = health.Crit, "service "+quoteService(spec.Service)+" unknown to the server"
		case st.Code() == codes.Unimplemented:
			r.done()
			r.Status, r.Reason = health.Crit, "no grpc.health.v1 service"
		case st.Code() == codes.Unavailable && strings.Contains(st.Message(), "authentication handshake failed"):
			r.done()
			r.Status, r.Reason = health.Crit, "TLS handshake failed: "+lastPart(st.Message())
		case st.Code() == codes.Unavailable:
			r.done()
			r.Status, r.Reason = health.Down, lastPart(st.Message())
		default:
			r.done()
			r.Status, r.Reason = health.Crit, st.Code().String()+": "+st.Message()
		}
		return r
	}
	r.done()
	serving := resp.GetStatus()
	r.Detail.ServingStatus = serving.String()
	r.Status = health.OK
	if serving != healthpb.HealthCheckResponse_SERVING {
		r.judge(health.Crit, "%s", serving)
	}
	if leaf := peerCerts.leaf(); leaf != nil {
		certVerdict(&r, leaf.NotAfter, spec.WarnDays, spec.CritDays)
	}
	return r
}

func quoteService(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

// certCapture keeps the server's certificates seen during the handshake; gRPC does not
// hand the connection state to the caller of a unary RPC.
// It is written on gRPC's dialling goroutine, hence the lock.
type certCapture struct {
	mu   sync.Mutex
	cert *x509.Certificate
}

func (c *certCapture) record(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) > 0 {
		c.mu.Lock()
		c.cert = cs.PeerCertificates[0]
		c.mu.Unlock()
	}
	return nil
}

func (c *certCapture) leaf() *x509.Certificate {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cert
}

// lastPart keeps the innermost clause of gRPC's nested status message, "connection
// error: desc = \"transport: Error while dialing: dial tcp …: connect: connection
// refused\"" becoming "connection refused".
func lastPart(msg string) string {
	msg = strings.TrimRight(msg, `"`)
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}
