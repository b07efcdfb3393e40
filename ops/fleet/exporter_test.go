package fleet_test

import (
	"context"
	"net"
	"strconv"
	"testing"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/internal/testprom"
	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/sessions"
)

// A host with node_exporter = PORT and no metrics server takes its metrics from a direct
// scrape of its exporter; one whose exporter does not answer reads itself.
func TestCheckScrapesTheHostsNodeExporter(t *testing.T) {
	env := testprom.Start(t, testprom.Options{NoPrometheus: true})
	host, portStr, err := net.SplitHostPort(env.NodeExporterAddr)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(portStr)
	withExporter := config.Host{Name: "box", Address: host, Transport: config.TransportLocal, NodeExporter: port}
	// A port nothing listens on: the exporter is gone, the host is not.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	deadPort := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	deadExporter := config.Host{Name: "box2", Address: "127.0.0.1", Transport: config.TransportLocal, NodeExporter: deadPort}

	hosts := []config.Host{withExporter, deadExporter}
	pool := sessions.NewPool(sessions.NewDialer(hosts, config.Defaults{}))
	defer pool.Close()
	opt := fleet.CheckOptions{}
	r := fleet.CheckHost(context.Background(), pool, withExporter, opt)
	if r.Source != fleet.SourceExporter || r.Metrics == nil || r.Metrics.MemTotal == 0 || r.Metrics.Cores < 1 {
		t.Fatalf("with exporter: source %q metrics %+v err %v", r.Source, r.Metrics, r.Err)
	}
	if r.Status == health.Down {
		t.Fatalf("with exporter: %s %v", r.Status, r.Reasons)
	}
	r = fleet.CheckHost(context.Background(), pool, deadExporter, opt)
	if r.Source != fleet.SourceLocal || r.Metrics == nil {
		t.Fatalf("dead exporter: source %q metrics %v err %v, want the host's own reading", r.Source, r.Metrics, r.Err)
	}
}
