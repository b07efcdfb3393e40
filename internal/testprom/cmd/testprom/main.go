// Command testprom starts a loopback prometheus scraping a loopback
// prometheus-node-exporter (see package testprom) and keeps them up until interrupted, to
// try `opsconsole query` and the fleet view's Prometheus source against real servers:
//
//	go run ./internal/testprom/cmd/testprom
//
// It prints the environment as NAME=value lines on stdout, then waits for SIGINT or
// SIGTERM, kills both servers and removes their directory.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/opsconsole/opsconsole/internal/testprom"
)

func main() {
	e, stop, err := testprom.StartMain(testprom.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("PROM_URL=%s\nPROM_CONFIG=%s\nNODE_EXPORTER=%s\nPROM_DIR=%s\n", e.URL, e.ConfigPath, e.MetricsURL, e.Dir)
	fmt.Fprintf(os.Stderr, "testprom: up in %v; try:\n  go run ./cmd/opsconsole query --config %s 'node_load1'\n"+
		"  go run ./cmd/opsconsole query --config %s --range 5m 'rate(node_cpu_seconds_total{mode=\"user\"}[30s])'\nCtrl-C stops it.\n",
		e.Startup.Total.Round(1e6), e.ConfigPath, e.ConfigPath)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	stop()
}
