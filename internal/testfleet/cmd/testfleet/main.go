// Command testfleet starts a loopback sshd fleet (see package testfleet) and keeps it up
// until interrupted, to try opsconsole against real hosts or to drive benchmark scripts:
//
//	go run ./internal/testfleet/cmd/testfleet -hosts 20
//
// It prints the fleet's paths as NAME=value lines on stdout, then waits for SIGINT or
// SIGTERM, kills the daemons and removes the fleet's directory.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/opsconsole/opsconsole/internal/testfleet"
)

func main() {
	hosts := flag.Int("hosts", 10, "number of hosts")
	flag.Parse()
	f, stop, err := testfleet.StartMain(testfleet.Options{Hosts: *hosts})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("FLEET_DIR=%s\nFLEET_CONFIG=%s\nFLEET_KNOWN_HOSTS=%s\nFLEET_CLIENT_KEY=%s\nFLEET_HOSTS=%d\nFLEET_PORT=%d\n",
		f.Dir, f.InventoryPath, f.KnownHosts, f.ClientKey, len(f.Hosts), f.Port)
	fmt.Fprintf(os.Stderr, "testfleet: %d hosts up (%s … %s), try:\n  go run ./cmd/opsconsole --config %s hosts\nCtrl-C stops the fleet.\n",
		len(f.Hosts), f.Hosts[0].Name, f.Hosts[len(f.Hosts)-1].Name, f.InventoryPath)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	stop()
}
