package prom

import (
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/opsconsole/opsconsole/config"
)

func TestHostPart(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.11:9100":               "10.0.0.11",
		"10.0.0.11":                    "10.0.0.11",
		"[2001:db8::1]:9100":           "2001:db8::1",
		"[2001:DB8:0::1]":              "2001:db8::1",
		"2001:db8::1":                  "2001:db8::1",
		"::ffff:10.0.0.11":             "10.0.0.11",
		"Web-1.Example.COM:9100":       "web-1.example.com",
		"web-1.example.com.":           "web-1.example.com",
		"web-1":                        "web-1",
		"https://web-1:8443/healthz":   "web-1",
		"http://[2001:db8::2]:80/x":    "2001:db8::2",
		"  web-2:9100 ":                "web-2",
		"":                             "",
		"a:b:c":                        "a:b:c",
		"unix:///run/exporter.sock:x:": "unix:///run/exporter.sock:x:",
	} {
		if got := HostPart(in); got != want {
			t.Errorf("HostPart(%q) = %q, want %q", in, got, want)
		}
	}
}

var inventory = []config.Host{
	{Name: "web-1", Address: "10.0.0.11"},
	{Name: "web-2", Address: "web-2.prod.example.com"},
	{Name: "db-1", Address: "2001:db8::5"},
	{Name: "cache", Address: "10.0.0.30"},
	// Two hosts whose short names clash: a bare "lb" matches neither by its short name.
	{Name: "lb.eu", Address: "lb.eu.example.com"},
	{Name: "lb.us", Address: "lb.us.example.com"},
	// A name that is another host's address: the address wins.
	{Name: "10.0.0.30", Address: "10.9.9.9"},
}

func TestHostIndexMatch(t *testing.T) {
	ix := NewHostIndex(inventory)
	for in, want := range map[string]string{
		"10.0.0.11:9100":                 "web-1",
		"web-1:9100":                     "web-1",
		"web-1.prod.example.com:9100":    "web-1", // short name
		"WEB-2.prod.example.com:9100":    "web-2",
		"web-2:9100":                     "web-2", // short address
		"[2001:db8::5]:9100":             "db-1",
		"10.0.0.30:9100":                 "cache",
		"10.9.9.9:9100":                  "10.0.0.30",
		"lb.eu.example.com:9100":         "lb.eu",
		"lb:9100":                        "",
		"10.0.0.12:9100":                 "",
		"web-10.prod.example.com:9100":   "",
		"":                               "",
		"http://web-1.example.com:8080/": "web-1",
	} {
		got, ok := ix.Match(in)
		if got != want || ok != (want != "") {
			t.Errorf("Match(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func sample(labels model.LabelSet, v float64) *model.Sample {
	return &model.Sample{Metric: model.Metric(labels), Value: model.SampleValue(v), Timestamp: model.Time(1700000000000)}
}

func TestMapToHostsByLabel(t *testing.T) {
	vec := model.Vector{
		sample(model.LabelSet{"__name__": "up", "instance": "10.0.0.11:9100"}, 1),
		sample(model.LabelSet{"__name__": "up", "instance": "10.0.0.11:9200"}, 0),
		sample(model.LabelSet{"__name__": "up", "instance": "10.7.7.7:9100"}, 1),
		sample(model.LabelSet{"__name__": "up"}, 1),
		sample(model.LabelSet{"__name__": "up", "instance": "whatever", "host": "web-2"}, 1),
	}
	got := MapToHosts(vec, inventory, "")
	if len(got) != 1 || len(got["web-1"]) != 2 {
		t.Fatalf("by instance: %v", got)
	}
	got = MapToHosts(vec, inventory, "host")
	if len(got) != 1 || len(got["web-2"]) != 1 {
		t.Fatalf("by host: %v", got)
	}
}

func TestFiringByHostSkipsPendingAndFleetWide(t *testing.T) {
	alerts := []Alert{
		{Labels: model.LabelSet{"alertname": "HighCPU", "instance": "10.0.0.11:9100"}, State: "firing", ActiveAt: time.Unix(1, 0)},
		{Labels: model.LabelSet{"alertname": "DiskFilling", "instance": "10.0.0.11:9100"}, State: "pending"},
		{Labels: model.LabelSet{"alertname": "Watchdog"}, State: "firing"},
		{Labels: model.LabelSet{"alertname": "Down", "instance": "[2001:db8::5]:9100"}, State: "firing"},
	}
	got := FiringByHost(alerts, inventory, "")
	if len(got) != 2 || len(got["web-1"]) != 1 || got["web-1"][0].Name() != "HighCPU" || len(got["db-1"]) != 1 {
		t.Fatalf("FiringByHost = %v", got)
	}
}

func TestHostSelectorCoversMatches(t *testing.T) {
	c := &Client{hostLabel: "instance"}
	sel := c.hostSelector(inventory)
	if !strings.HasPrefix(sel, `instance=~"(?i)`) {
		t.Fatalf("selector %s", sel)
	}
	// The selector is a PromQL string; its Go-quoted body is the regexp Prometheus anchors.
	re := compileSelector(t, sel)
	for _, v := range []string{"10.0.0.11:9100", "web-1.prod.example.com:9100", "[2001:db8::5]:9100",
		"WEB-2:9100", "http://web-1:8080/metrics"} {
		if !re(v) {
			t.Errorf("selector misses %q", v)
		}
	}
	if re("10.0.0.111:9100") {
		t.Error("selector matches another address")
	}
}

// FuzzHostPart checks HostPart on arbitrary label values: no panic, and a host:port
// built from an IP without a zone always gives back that IP in canonical form.
func FuzzHostPart(f *testing.F) {
	for _, s := range []string{"10.0.0.11:9100", "[::1]:9100", "web-1.example.com:9100", "http://a:1/b",
		"[", "]", "[]", "://", "http://[::1", ":9100", "a:b:c", "%zz", "\x00", "[fe80::1%eth0]:9100"} {
		f.Add(s)
	}
	ix := NewHostIndex(inventory)
	f.Fuzz(func(t *testing.T, s string) {
		h := HostPart(s)
		if h != strings.ToLower(h) && !strings.ContainsAny(h, "%") {
			if _, err := netip.ParseAddr(h); err != nil {
				t.Fatalf("HostPart(%q) = %q is not lower-case", s, h)
			}
		}
		ix.Match(s)
		// Zones are left out: netip accepts any zone text, "]" included, which no
		// host:port can carry.
		if a, err := netip.ParseAddr(strings.TrimSpace(s)); err == nil && a.Zone() == "" {
			hp := net.JoinHostPort(a.String(), "9100")
			if got := HostPart(hp); got != a.Unmap().String() {
				t.Fatalf("HostPart(%q) = %q, want %q", hp, got, a.Unmap().String())
			}
		}
	})
}

// compileSelector turns `label=~"RE"` into the anchored matcher Prometheus would use.
func compileSelector(t *testing.T, sel string) func(string) bool {
	t.Helper()
	_, quoted, ok := strings.Cut(sel, "=~")
	if !ok {
		t.Fatalf("no =~ in %s", sel)
	}
	body, err := strconv.Unquote(quoted)
	if err != nil {
		t.Fatalf("%s: %v", quoted, err)
	}
	re := regexp.MustCompile("^(?:" + body + ")$")
	return re.MatchString
}
