package fleet_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/internal/testfleet"
	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/health"
	"github.com/opsconsole/opsconsole/sessions"
)

// A hung host (accepts TCP, never speaks) and a down host (port closed) show up as such,
// while the live hosts keep reporting round after round.
func TestMonitorHungAndDownHostsDoNotStallTheRest(t *testing.T) {
	f := testfleet.Start(t, testfleet.Options{Hosts: 3})
	hungLn, err := net.Listen("tcp", "127.0.9.20:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hungLn.Close()
	go func() {
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := hungLn.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	downLn, err := net.Listen("tcp", "127.0.9.21:0")
	if err != nil {
		t.Fatal(err)
	}
	downPort := downLn.Addr().(*net.TCPAddr).Port
	downLn.Close()

	hosts := append([]config.Host(nil), f.Hosts...)
	hung, down := f.Hosts[0], f.Hosts[0]
	hung.Name, hung.Address, hung.Port, hung.ConnectTimeout = "hung", "127.0.9.20", hungLn.Addr().(*net.TCPAddr).Port, 30*time.Second
	down.Name, down.Address, down.Port = "down", "127.0.9.21", downPort
	hosts = append(hosts, hung, down)

	pool := sessions.NewPool(sessions.NewDialer(hosts, config.Defaults{}))
	defer pool.Close()
	off := config.Thresholds{} // judgement off: reachability is under test
	mon := fleet.NewMonitor(pool, hosts, fleet.MonitorOptions{
		Check: fleet.CheckOptions{Thresholds: off}, Interval: 200 * time.Millisecond,
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go mon.Run(ctx)

	rounds := map[string]int{}
	last := map[string]fleet.Report{}
	deadline := time.After(time.Minute)
	for {
		reps, err := mon.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reps {
			rounds[r.Host]++
			last[r.Host] = r
		}
		live := true
		for _, h := range f.Hosts {
			live = live && rounds[h.Name] >= 3
		}
		if live && rounds["down"] >= 1 {
			break
		}
		select {
		case <-deadline:
			t.Fatalf("rounds after a minute: %v", rounds)
		default:
		}
	}
	for _, h := range f.Hosts {
		if r := last[h.Name]; r.Status != health.OK || r.Metrics == nil {
			t.Errorf("%s: %s %v", h.Name, r.Status, r.Err)
		}
	}
	if r := last["down"]; r.Status != health.Down || r.Err == nil {
		t.Errorf("down host: %s %v", r.Status, r.Err)
	}
	// The hung host is still inside its 30 s connect timeout: no report yet, and that
	// held back nobody.
	if n := rounds["hung"]; n != 0 {
		t.Errorf("hung host reported %d times inside its connect timeout: %+v", n, last["hung"])
	}
	if mon.InFlight() < 1 {
		t.Errorf("the hung host's read should still be in flight")
	}
}
