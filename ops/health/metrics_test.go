package health

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/opsconsole/opsconsole/config"
)

// baseKeys are the JSON keys a sample had before the extras existed; `check --format
// json` and recorded journals carry them.
var baseKeys = []string{"CPUPercent", "Cores", "Disks", "Load1", "Load15", "Load5", "MemPercent", "MemTotal",
	"MemUsed", "Missing", "Ports", "SwapTotal", "SwapUsed", "Time", "Uptime"}

func sampleMetrics() Metrics {
	return Metrics{
		Time: time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC), CPUPercent: 91, Cores: 2,
		MemTotal: 8 << 30, MemUsed: 7 << 30, MemPercent: 87.5, Load1: 0.5, Load5: 0.4, Load15: 0.3,
		Uptime: time.Hour, Disks: []Disk{{Mount: "/", FS: "/dev/sda1", Total: 100, Used: 50, Percent: 50}},
		Ports: []int{22},
	}
}

func jsonKeys(t *testing.T, m Metrics) []string {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		t.Fatal(err)
	}
	return slices.Sorted(maps.Keys(obj))
}

// A sample without extras, as every remote source gives, serialises as before they
// existed; one with them carries them and reads back the same.
func TestMetricsJSONExtras(t *testing.T) {
	m := sampleMetrics()
	if got := jsonKeys(t, m); !slices.Equal(got, baseKeys) {
		t.Errorf("keys without extras = %q, want %q", got, baseKeys)
	}
	m.PerCore, m.Net, m.Procs = []float64{}, []NetRate{}, []Proc{}
	if got := jsonKeys(t, m); !slices.Equal(got, baseKeys) {
		t.Errorf("keys with empty extras = %q, want %q", got, baseKeys)
	}

	m.PerCore = []float64{12.5, 100}
	m.Net = []NetRate{{Name: "eth0", RxBytes: 1500, TxBytes: 20, RxPackets: 3, TxPackets: 1, RxErrors: 0.5, RxDrops: 1}}
	m.Procs = []Proc{{PID: 42, Name: "postgres", User: "postgres", CPUPercent: 150, RSS: 1 << 20, Command: "postgres -D /data"}}
	want := slices.Sorted(slices.Values(append(slices.Clone(baseKeys), "Net", "PerCore", "Procs")))
	if got := jsonKeys(t, m); !slices.Equal(got, want) {
		t.Errorf("keys with extras = %q, want %q", got, want)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var back Metrics
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, m) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, m)
	}
}

// Judge never reads the extras: with or without them, the same status and reasons.
func TestJudgeIgnoresExtras(t *testing.T) {
	th := config.Thresholds{CPUWarn: 80, CPUCrit: 95, MemWarn: 85, MemCrit: 95, DiskWarn: 85, DiskCrit: 95, LoadWarn: 1, LoadCrit: 2}
	plain := sampleMetrics()
	rich := sampleMetrics()
	rich.PerCore = []float64{100, 100}
	rich.Net = []NetRate{{Name: "eth0", RxErrors: 1e6}}
	rich.Procs = []Proc{{PID: 1, Name: "spin", CPUPercent: 200}}
	s1, r1 := Judge(plain, th)
	s2, r2 := Judge(rich, th)
	if s1 != s2 || !slices.Equal(r1, r2) || s1 != Warn {
		t.Errorf("without extras %v %q, with them %v %q", s1, r1, s2, r2)
	}
}
