package prom

import (
	"cmp"
	"net"
	"net/netip"
	"net/url"
	"strings"

	"github.com/prometheus/common/model"

	"github.com/opsconsole/opsconsole/config"
)

// HostPart returns the host a label value names, lower-cased, with any port, brackets and
// URL parts removed, and IP addresses in canonical form:
//
//	10.0.0.11:9100            → 10.0.0.11
//	[2001:db8::1]:9100        → 2001:db8::1
//	web-1.example.com:9100    → web-1.example.com
//	web-1                     → web-1
//	https://web-1:8443/health → web-1   (blackbox-style targets)
func HostPart(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.Index(v, "://"); i > 0 {
		if u, err := url.Parse(v); err == nil && u.Host != "" {
			v = u.Host
		}
	}
	if h, _, err := net.SplitHostPort(v); err == nil {
		v = h
	} else if len(v) >= 2 && v[0] == '[' && v[len(v)-1] == ']' {
		v = v[1 : len(v)-1]
	}
	if a, err := netip.ParseAddr(v); err == nil {
		return a.Unmap().String()
	}
	return strings.ToLower(strings.TrimSuffix(v, "."))
}

// shortName is a DNS name's first label, or "" for an IP address or a single-label name.
func shortName(h string) string {
	if _, err := netip.ParseAddr(h); err == nil {
		return ""
	}
	if i := strings.IndexByte(h, '.'); i > 0 {
		return h[:i]
	}
	return ""
}

// HostIndex matches label values to inventory hosts. Build it once per inventory; it is
// read-only afterwards and safe for concurrent use.
type HostIndex struct {
	exact map[string]string // host part → host name; addresses win over names
	short map[string]string // first DNS label → host name, "" when ambiguous
}

// NewHostIndex indexes hosts by Address and Name. A label value matches a host when its
// host part equals the host's address, else its name; failing both, a fully qualified
// host part matches by its first label (web-1.prod.example.com → web-1) when exactly one
// host has that short name or short address.
func NewHostIndex(hosts []config.Host) *HostIndex {
	ix := &HostIndex{exact: map[string]string{}, short: map[string]string{}}
	for _, h := range hosts {
		if a := HostPart(h.Address); a != "" {
			if _, taken := ix.exact[a]; !taken {
				ix.exact[a] = h.Name
			}
		}
	}
	for _, h := range hosts {
		if n := HostPart(h.Name); n != "" {
			if _, taken := ix.exact[n]; !taken {
				ix.exact[n] = h.Name
			}
		}
	}
	addShort := func(key, name string) {
		if key == "" {
			return
		}
		if prev, ok := ix.short[key]; ok && prev != name {
			ix.short[key] = ""
			return
		}
		ix.short[key] = name
	}
	for _, h := range hosts {
		n := HostPart(h.Name)
		addShort(cmp.Or(shortName(n), n), h.Name)
		a := HostPart(h.Address)
		addShort(cmp.Or(shortName(a), a), h.Name)
	}
	return ix
}

// Match returns the name of the host a label value names.
func (ix *HostIndex) Match(labelValue string) (string, bool) {
	hp := HostPart(labelValue)
	if hp == "" {
		return "", false
	}
	if name, ok := ix.exact[hp]; ok {
		return name, true
	}
	if s := shortName(hp); s != "" {
		if name := ix.short[s]; name != "" {
			return name, true
		}
	}
	return "", false
}

// MapToHosts groups the samples of vec by the inventory host their label names (label ""
// means DefaultHostLabel), keyed by host name. Samples without the label, or naming no
// inventory host, are left out.
func MapToHosts(vec model.Vector, hosts []config.Host, label string) map[string][]*model.Sample {
	ix := NewHostIndex(hosts)
	ln := model.LabelName(cmp.Or(label, DefaultHostLabel))
	out := map[string][]*model.Sample{}
	for _, s := range vec {
		if name, ok := ix.Match(string(s.Metric[ln])); ok {
			out[name] = append(out[name], s)
		}
	}
	return out
}

// FiringByHost groups the firing alerts by the inventory host their label names (label ""
// means DefaultHostLabel), keyed by host name. Pending alerts, and alerts naming no host
// (fleet-wide ones belong in the header only), are left out.
func FiringByHost(alerts []Alert, hosts []config.Host, label string) map[string][]Alert {
	ix := NewHostIndex(hosts)
	ln := model.LabelName(cmp.Or(label, DefaultHostLabel))
	out := map[string][]Alert{}
	for _, a := range alerts {
		if !a.Firing() {
			continue
		}
		if name, ok := ix.Match(string(a.Labels[ln])); ok {
			out[name] = append(out[name], a)
		}
	}
	return out
}
