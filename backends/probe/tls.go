package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"

	"github.com/opsconsole/opsconsole/ops/health"
)

// TLSOptions say how a probe trusts its target's certificate.
type TLSOptions struct {
	// CAFile is a PEM bundle to trust instead of the system roots.
	CAFile string
	// InsecureSkipVerify accepts any certificate. It must be asked for explicitly; the
	// certificate's expiry is still judged.
	InsecureSkipVerify bool
	// ServerName overrides the name verified (and sent as SNI); empty means the
	// target's host.
	ServerName string
}

// TLSSpec is a standalone certificate-expiry probe.
type TLSSpec struct {
	Addr string // host:port
	TLSOptions
	// WarnDays and CritDays: the leaf certificate expiring in fewer days is Warn or Crit
	// (zero disables one). An expired certificate is always Crit.
	WarnDays, CritDays int
}

// caPools caches parsed CA files: thousands of probes share a handful of bundles, and
// parsing one per attempt would cost more than the probe.
var caPools sync.Map // path → *x509.CertPool

func loadCA(path string) (*x509.CertPool, error) {
	if p, ok := caPools.Load(path); ok {
		return p.(*x509.CertPool), nil
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %s: no PEM certificate in it", path)
	}
	p, _ := caPools.LoadOrStore(path, pool)
	return p.(*x509.CertPool), nil
}

// clientConfig builds the tls.Config for o; serverName is the default name to verify.
func (o TLSOptions) clientConfig(serverName string) (*tls.Config, error) {
	c := &tls.Config{
		ServerName:         serverName,
		InsecureSkipVerify: o.InsecureSkipVerify,
		MinVersion:         tls.VersionTLS12,
	}
	if o.ServerName != "" {
		c.ServerName = o.ServerName
	}
	if o.CAFile != "" {
		pool, err := loadCA(o.CAFile)
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	return c, nil
}

// TLS connects to spec.Addr, completes a handshake, and judges the leaf certificate's
// days to expiry. A certificate that fails verification is Crit with the reason.
func TLS(ctx context.Context, spec TLSSpec) Result {
	r := start(TypeTLS, spec.Addr)
	host, _, err := net.SplitHostPort(spec.Addr)
	if err != nil {
		r.done()
		r.Status, r.Reason = health.Unknown, err.Error()
		return r
	}
	conf, err := spec.clientConfig(host)
	if err != nil {
		r.done()
		r.Status, r.Reason = health.Unknown, err.Error()
		return r
	}
	d := tls.Dialer{Config: conf}
	conn, err := d.DialContext(ctx, "tcp", spec.Addr)
	if err != nil {
		if ctx.Err() == nil && isCertError(err) {
			r.done()
			r.Status, r.Reason = health.Crit, certErrReason(err)
			return r
		}
		r.fail(ctx, err)
		return r
	}
	state := conn.(*tls.Conn).ConnectionState()
	conn.Close()
	r.done()
	r.Status = health.OK
	if len(state.PeerCertificates) > 0 {
		certVerdict(&r, state.PeerCertificates[0].NotAfter, spec.WarnDays, spec.CritDays)
	}
	return r
}

// isCertError tells a certificate the client rejected from a transport failure: the
// server answered, so the verdict is Crit, not Down.
func isCertError(err error) bool {
	var (
		inv     x509.CertificateInvalidError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		verify  *tls.CertificateVerificationError
	)
	return errors.As(err, &inv) || errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &verify)
}

func certErrReason(err error) string {
	var inv x509.CertificateInvalidError
	if errors.As(err, &inv) && inv.Reason == x509.Expired {
		return "certificate expired: " + inv.Detail
	}
	var verify *tls.CertificateVerificationError
	if errors.As(err, &verify) {
		return "certificate not trusted: " + verify.Err.Error()
	}
	return "certificate not trusted: " + err.Error()
}
