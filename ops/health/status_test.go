package health

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/opsconsole/opsconsole/config"
)

func TestStatusWords(t *testing.T) {
	tests := []struct {
		s            Status
		word, symbol string
	}{
		{Unknown, "unknown", "?"},
		{OK, "ok", "✓"},
		{Warn, "warn", "!"},
		{Crit, "crit", "✗"},
		{Down, "down", "↓"},
		{Status(42), "status(42)", "?"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.word {
			t.Errorf("String() = %q, want %q", got, tt.word)
		}
		if got := tt.s.Symbol(); got != tt.symbol {
			t.Errorf("%v.Symbol() = %q, want %q", tt.s, got, tt.symbol)
		}
	}
	var zero Status
	if zero != Unknown {
		t.Errorf("zero Status = %v", zero)
	}
}

func TestStatusJSON(t *testing.T) {
	in := []Status{OK, Warn, Crit, Down, Unknown}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `["ok","warn","crit","down","unknown"]` {
		t.Errorf("json = %s", b)
	}
	var out []Status
	if err := json.Unmarshal(b, &out); err != nil || !slices.Equal(in, out) {
		t.Errorf("round trip = %v, %v", out, err)
	}
	if err := json.Unmarshal([]byte(`["fine"]`), &out); err == nil {
		t.Error("unknown word accepted")
	}
	if _, err := json.Marshal(Status(-1)); err == nil {
		t.Error("invalid status marshalled")
	}
}

func TestWorst(t *testing.T) {
	tests := []struct {
		in   []Status
		want Status
	}{
		{nil, OK},
		{[]Status{OK, OK}, OK},
		{[]Status{OK, Unknown}, Unknown},
		{[]Status{Unknown, Warn, OK}, Warn},
		{[]Status{Crit, Warn}, Crit},
		{[]Status{Crit, Down, Warn}, Down},
	}
	for _, tt := range tests {
		if got := Worst(tt.in...); got != tt.want {
			t.Errorf("Worst(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestJudge(t *testing.T) {
	th := config.Thresholds{
		CPUWarn: 80, CPUCrit: 95,
		MemWarn: 85, MemCrit: 95,
		DiskWarn: 85, DiskCrit: 95,
		LoadWarn: 1, LoadCrit: 2,
	}
	calm := Metrics{
		CPUPercent: 10, Cores: 2, MemTotal: 100, MemUsed: 10, MemPercent: 10,
		Load1: 0.5, Disks: []Disk{{Mount: "/", Total: 100, Percent: 10}},
	}
	with := func(f func(m *Metrics)) Metrics {
		m := calm
		m.Disks = slices.Clone(calm.Disks)
		f(&m)
		return m
	}
	tests := []struct {
		name    string
		m       Metrics
		th      config.Thresholds
		want    Status
		reasons []string
	}{
		{"calm", calm, th, OK, nil},
		{"cpu just under warn", with(func(m *Metrics) { m.CPUPercent = 79.99 }), th, OK, nil},
		{"cpu at warn", with(func(m *Metrics) { m.CPUPercent = 80 }), th, Warn, []string{"cpu 80% ≥ 80%"}},
		{"cpu just under crit", with(func(m *Metrics) { m.CPUPercent = 94.9 }), th, Warn, []string{"cpu 94.9% ≥ 80%"}},
		{"cpu at crit", with(func(m *Metrics) { m.CPUPercent = 95 }), th, Crit, []string{"cpu 95% ≥ 95%"}},
		{"mem at warn", with(func(m *Metrics) { m.MemPercent = 85 }), th, Warn, []string{"mem 85% ≥ 85%"}},
		{"mem just over warn", with(func(m *Metrics) { m.MemPercent = 85.04 }), th, Warn, []string{"mem 85% ≥ 85%"}},
		{"mem at crit", with(func(m *Metrics) { m.MemPercent = 95 }), th, Crit, []string{"mem 95% ≥ 95%"}},
		{"disk under warn", with(func(m *Metrics) { m.Disks[0].Percent = 84.99 }), th, OK, nil},
		{"disk at warn", with(func(m *Metrics) {
			m.Disks = append(m.Disks, Disk{Mount: "/var", Total: 1, Percent: 91})
		}), th, Warn, []string{"disk /var 91% ≥ 85%"}},
		{"disk at crit", with(func(m *Metrics) { m.Disks[0].Percent = 95 }), th, Crit, []string{"disk / 95% ≥ 95%"}},
		{"load just under warn per core", with(func(m *Metrics) { m.Load1 = 1.99 }), th, OK, nil},
		{"load at warn per core", with(func(m *Metrics) { m.Load1 = 2 }), th, Warn, []string{"load1 2.0 ≥ 1.0/core×2"}},
		{"load at crit per core", with(func(m *Metrics) { m.Load1 = 4 }), th, Crit, []string{"load1 4.0 ≥ 2.0/core×2"}},
		{"load over crit", with(func(m *Metrics) { m.Load1 = 6.1 }),
			config.Thresholds{LoadWarn: 1.5, LoadCrit: 3}, Crit, []string{"load1 6.1 ≥ 3.0/core×2"}},
		{"load at a per-core threshold that is not exact in binary", with(func(m *Metrics) { m.Load1, m.Cores = 2.1, 3 }),
			config.Thresholds{LoadWarn: 0.7}, Warn, []string{"load1 2.1 ≥ 0.7/core×3"}},
		{"load only five-minute high is fine", with(func(m *Metrics) { m.Load5, m.Load15 = 9, 9 }), th, OK, nil},
		{"everything disabled", with(func(m *Metrics) {
			m.CPUPercent, m.MemPercent, m.Load1, m.Disks[0].Percent = 100, 100, 100, 100
		}), config.Thresholds{}, OK, nil},
		{"warn only, no crit", with(func(m *Metrics) { m.CPUPercent = 100 }),
			config.Thresholds{CPUWarn: 90}, Warn, []string{"cpu 100% ≥ 90%"}},
		{"crit only, no warn", with(func(m *Metrics) { m.CPUPercent = 90 }),
			config.Thresholds{CPUCrit: 95}, OK, nil},
		{"cpu missing", with(func(m *Metrics) { m.Missing = []string{FieldCPU} }), th, Unknown, []string{"cpu not measured"}},
		{"cpu missing but its check disabled", with(func(m *Metrics) { m.Missing = []string{FieldCPU} }),
			config.Thresholds{DiskWarn: 80}, OK, nil},
		{"cores missing", with(func(m *Metrics) { m.Cores, m.Missing = 0, []string{FieldCores} }), th, Unknown, []string{"cores not measured"}},
		{"zero cores without a Missing entry", with(func(m *Metrics) { m.Cores = 0 }), th, Unknown, []string{"cores not measured"}},
		{"mem total zero", with(func(m *Metrics) { m.MemTotal = 0 }), th, Unknown, []string{"mem not measured"}},
		{"partial disks still judged", with(func(m *Metrics) {
			m.Missing = []string{FieldDisks}
			m.Disks[0].Percent = 99
		}), th, Crit, []string{"disk / 99% ≥ 95%", "disks not measured"}},
		{"worst first", with(func(m *Metrics) {
			m.CPUPercent = 85
			m.MemPercent = 96
			m.Missing = []string{FieldLoad}
			m.Disks = append(m.Disks, Disk{Mount: "/data", Total: 1, Percent: 97})
		}), th, Crit, []string{"mem 96% ≥ 95%", "disk /data 97% ≥ 95%", "cpu 85% ≥ 80%", "load not measured"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reasons := Judge(tt.m, tt.th)
			if got != tt.want || !slices.Equal(reasons, tt.reasons) {
				t.Errorf("Judge = %v %q, want %v %q", got, reasons, tt.want, tt.reasons)
			}
		})
	}
}

func TestWorstDisk(t *testing.T) {
	if d := (Metrics{}).WorstDisk(); d != (Disk{}) {
		t.Errorf("no disks: %+v", d)
	}
	m := Metrics{Disks: []Disk{{Mount: "/", Percent: 40}, {Mount: "/var", Percent: 90}, {Mount: "/srv", Percent: 90}, {Mount: "/b", Percent: 0}}}
	if d := m.WorstDisk(); d.Mount != "/var" {
		t.Errorf("WorstDisk = %+v, want the first fullest", d)
	}
}
