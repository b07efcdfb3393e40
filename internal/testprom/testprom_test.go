package testprom

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/internal/testfleet"

	"github.com/opsconsole/opsconsole/config"
)

func TestStartScrapesAndFires(t *testing.T) {
	e := Start(t, Options{})
	t.Logf("start-up: %v", e.Startup)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, expr := range []string{
		`up{job="node", instance="` + e.NodeExporterAddr + `"} == 1`,
		`node_load1`,
		`ALERTS{alertname="` + AlertName + `", alertstate="firing", instance="` + e.NodeExporterAddr + `"}`,
	} {
		if err := e.WaitForQuery(ctx, expr); err != nil {
			t.Fatalf("%v\n%s", err, e.PrometheusLog())
		}
	}
	cfg, err := config.Load(config.LoadOptions{ConfigFile: e.ConfigPath, Env: func(k string) string {
		return map[string]string{"HOME": t.TempDir()}[k]
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Hosts) != 2 || cfg.Raw["prometheus"] == nil {
		t.Fatalf("config: hosts %v, raw %v", cfg.Hosts, cfg.Raw)
	}
}

func TestExporterAlone(t *testing.T) {
	e := Start(t, Options{NoPrometheus: true})
	if e.URL != "" || e.prom != nil {
		t.Fatal("prometheus started")
	}
	if err := httpOK(e.MetricsURL); err != nil {
		t.Fatal(err)
	}
	if err := e.KillNodeExporter(); err != nil {
		t.Fatal(err)
	}
	if err := httpOK(e.MetricsURL); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("after kill: %v", err)
	}
}

// TestServersDieWithTheTestBinary kills a test binary that holds a running exporter
// without letting it clean up (as a -timeout panic or a SIGKILL would) and checks that
// the exporter dies too.
func TestServersDieWithTheTestBinary(t *testing.T) {
	if os.Getenv("TESTPROM_CHILD") == "1" {
		e, _, err := StartMain(Options{NoPrometheus: true})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println(e.node.cmd.Process.Pid)
		select {} // until killed
	}
	Require(t, Options{NoPrometheus: true})
	cmd := exec.Command(os.Args[0], "-test.run=^TestServersDieWithTheTestBinary$")
	cmd.Env = append(os.Environ(), "TESTPROM_CHILD=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child said %q", line)
	}
	if !alive(pid) {
		t.Fatalf("exporter %d not running before the kill", pid)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if !testfleet.WaitFor(context.Background(), 10*time.Second, func() bool { return !alive(pid) }) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("exporter %d outlived the test binary", pid)
	}
}

// alive reports whether pid runs; a zombie waiting for init to reap it does not.
func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i >= 0 && !strings.HasPrefix(strings.TrimSpace(string(stat[i+1:])), "Z")
}
