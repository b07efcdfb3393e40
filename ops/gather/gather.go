// Package gather folds a fleet's per-host results into what a person can read: identical
// outputs gathered into one group with the list of hosts that printed it (as clush -b
// does), and host lists folded into ranges (web-[01-12,15]).
package gather

import (
	"bytes"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"

	"github.com/opsconsole/opsconsole/sessions"
)

// Group is one distinct outcome and the hosts that share it.
type Group struct {
	Hosts    []string
	Outcome  sessions.Outcome
	ExitCode int
	// Output is the shared output: stdout, then stderr; an error's text when the host
	// never ran the command.
	Output []byte
}

// Key is what two results must share to be gathered together.
func key(r sessions.Result) (sessions.Outcome, int, []byte) {
	out := Output(r)
	return r.Outcome, r.ExitCode, out
}

// Output is what a person sees for one host's result: stdout, stderr after it, or the
// error when the command never ran.
func Output(r sessions.Result) []byte {
	if r.Err != nil && len(r.Stdout) == 0 && len(r.Stderr) == 0 {
		return []byte(r.Err.Error() + "\n")
	}
	if len(r.Stderr) == 0 {
		return r.Stdout
	}
	out := make([]byte, 0, len(r.Stdout)+len(r.Stderr))
	out = append(out, r.Stdout...)
	return append(out, r.Stderr...)
}

// Groups gathers results with identical outcome, exit code and output. Groups come
// largest first, then by first host name, so the common case leads and outliers follow.
func Groups(results []sessions.Result) []Group {
	buckets := map[uint64][]int{} // hash → indexes into groups
	var groups []Group
	for _, r := range results {
		oc, code, out := key(r)
		h := fnv.New64a()
		h.Write([]byte(oc))
		h.Write([]byte{byte(code), byte(code >> 8)})
		h.Write(out)
		sum := h.Sum64()
		found := false
		for _, gi := range buckets[sum] {
			g := &groups[gi]
			if g.Outcome == oc && g.ExitCode == code && bytes.Equal(g.Output, out) {
				g.Hosts = append(g.Hosts, r.Host)
				found = true
				break
			}
		}
		if !found {
			buckets[sum] = append(buckets[sum], len(groups))
			groups = append(groups, Group{Hosts: []string{r.Host}, Outcome: oc, ExitCode: code, Output: out})
		}
	}
	for i := range groups {
		SortHosts(groups[i].Hosts)
	}
	sort.SliceStable(groups, func(i, j int) bool {
		if len(groups[i].Hosts) != len(groups[j].Hosts) {
			return len(groups[i].Hosts) > len(groups[j].Hosts)
		}
		return NaturalLess(groups[i].Hosts[0], groups[j].Hosts[0])
	})
	return groups
}

// SortHosts sorts names naturally, so host-9 comes before host-10.
func SortHosts(names []string) {
	sort.SliceStable(names, func(i, j int) bool { return NaturalLess(names[i], names[j]) })
}

// NaturalLess orders strings with embedded numbers by their value.
func NaturalLess(a, b string) bool {
	pa, na, sa, oka := splitNum(a)
	pb, nb, sb, okb := splitNum(b)
	if oka && okb && pa == pb && sa == sb {
		return na < nb
	}
	return a < b
}

// splitNum splits "web-012.dc1" at its last run of digits: prefix "web-", number 12,
// suffix ".dc1".
func splitNum(s string) (prefix string, n int, suffix string, ok bool) {
	end := -1
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] >= '0' && s[i] <= '9' {
			end = i + 1
			break
		}
	}
	if end < 0 {
		return s, 0, "", false
	}
	start := end
	for start > 0 && s[start-1] >= '0' && s[start-1] <= '9' {
		start--
	}
	v, err := strconv.Atoi(s[start:end])
	if err != nil {
		return s, 0, "", false
	}
	return s[:start], v, s[end:], true
}

// Fold writes a host list compactly: web-01,web-02,web-03,db-1 → web-[01-03],db-1.
// Numbers keep their zero padding; only names that share prefix, suffix and padding fold.
func Fold(names []string) string {
	type fam struct {
		prefix, suffix string
		width          int
		nums           []int
	}
	var order []string
	fams := map[string]*fam{}
	for _, n := range names {
		p, v, s, ok := splitNum(n)
		if !ok {
			order = append(order, "\x00"+n)
			continue
		}
		w := len(n) - len(p) - len(s)
		k := p + "\x00" + s + "\x00" + strconv.Itoa(w)
		f := fams[k]
		if f == nil {
			f = &fam{prefix: p, suffix: s, width: w}
			fams[k] = f
			order = append(order, k)
		}
		f.nums = append(f.nums, v)
	}
	var parts []string
	for _, k := range order {
		if strings.HasPrefix(k, "\x00") {
			parts = append(parts, k[1:])
			continue
		}
		f := fams[k]
		if len(f.nums) == 1 {
			parts = append(parts, f.prefix+pad(f.nums[0], f.width)+f.suffix)
			continue
		}
		sort.Ints(f.nums)
		var rs []string
		for i := 0; i < len(f.nums); {
			j := i
			for j+1 < len(f.nums) && f.nums[j+1] <= f.nums[j]+1 {
				j++
			}
			if i == j {
				rs = append(rs, pad(f.nums[i], f.width))
			} else {
				rs = append(rs, pad(f.nums[i], f.width)+"-"+pad(f.nums[j], f.width))
			}
			i = j + 1
		}
		parts = append(parts, f.prefix+"["+strings.Join(rs, ",")+"]"+f.suffix)
	}
	return strings.Join(parts, ",")
}

func pad(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}
