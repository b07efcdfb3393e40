package health

import (
	"bytes"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const seedDir = "../../testdata/health"

var at = time.Date(2026, 11, 22, 4, 0, 0, 0, time.UTC)

func readSeed(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(seedDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mounts(ds []Disk) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Mount)
	}
	return out
}

// The captured outputs come from this build machine: remote-dash.txt through /bin/sh
// (dash) with GNU coreutils, remote-busybox.txt through busybox sh with only busybox
// applets on PATH (so df fell back to plain df -P -k and listed tmpfs mounts).
func TestParseRemoteCaptured(t *testing.T) {
	for _, name := range []string{"remote-dash.txt", "remote-busybox.txt"} {
		t.Run(name, func(t *testing.T) {
			m, err := ParseRemote(readSeed(t, name), at)
			if err != nil {
				t.Fatal(err)
			}
			if !m.Time.Equal(at) {
				t.Errorf("Time = %v", m.Time)
			}
			if m.Cores != 2 {
				t.Errorf("Cores = %d, want 2", m.Cores)
			}
			if m.MemTotal != 24684092*1024 {
				t.Errorf("MemTotal = %d", m.MemTotal)
			}
			if m.MemUsed == 0 || m.MemUsed >= m.MemTotal || m.MemPercent <= 0 || m.MemPercent >= 100 {
				t.Errorf("MemUsed = %d (%.2f%%)", m.MemUsed, m.MemPercent)
			}
			if m.SwapTotal != 0 || m.SwapUsed != 0 {
				t.Errorf("swap = %d/%d, want none", m.SwapUsed, m.SwapTotal)
			}
			if m.Uptime < 10*time.Minute || m.Uptime > time.Hour {
				t.Errorf("Uptime = %v", m.Uptime)
			}
			if m.Load1 <= 0 || m.Load5 <= 0 || m.Load15 <= 0 {
				t.Errorf("load = %v %v %v", m.Load1, m.Load5, m.Load15)
			}
			if m.CPUPercent != 0 { // the captures were taken on an idle machine
				t.Errorf("CPUPercent = %v", m.CPUPercent)
			}
			if got := mounts(m.Disks); !slices.Equal(got, []string{"/"}) {
				t.Errorf("disks = %q, want only / (tmpfs, devtmpfs filtered)", got)
			}
			root := m.Disks[0]
			if root.FS != "/dev/vda" || root.Total != 264212084*1024 || root.Percent < 12 || root.Percent > 13 {
				t.Errorf("root = %+v", root)
			}
			if !slices.Equal(m.Ports, []int{2024}) {
				t.Errorf("Ports = %v", m.Ports)
			}
		})
	}
}

func TestParseRemoteHandmade(t *testing.T) {
	m, err := ParseRemote(readSeed(t, "remote-ubuntu-handmade.txt"), at)
	if err != nil {
		t.Fatal(err)
	}
	const k = 1024
	if m.Load1 != 6.12 || m.Load5 != 4.03 || m.Load15 != 2.50 {
		t.Errorf("load = %v %v %v", m.Load1, m.Load5, m.Load15)
	}
	if want := time.Duration(1209600.55 * float64(time.Second)); m.Uptime != want {
		t.Errorf("Uptime = %v, want %v", m.Uptime, want)
	}
	if m.MemTotal != 8038204*k || m.MemUsed != (8038204-1205644)*k {
		t.Errorf("mem = %d/%d", m.MemUsed, m.MemTotal)
	}
	if !near(m.MemPercent, 100*float64(8038204-1205644)/8038204) {
		t.Errorf("MemPercent = %v", m.MemPercent)
	}
	if m.SwapTotal != 2097148*k || m.SwapUsed != (2097148-1048574)*k {
		t.Errorf("swap = %d/%d", m.SwapUsed, m.SwapTotal)
	}
	// Δ user+nice+system+idle+iowait+irq+softirq+steal = 300+0+60+20+10+0+10+10 = 410,
	// of which idle+iowait = 30.
	if !near(m.CPUPercent, 100*380.0/410) {
		t.Errorf("CPUPercent = %v", m.CPUPercent)
	}
	if m.Cores != 4 {
		t.Errorf("Cores = %d", m.Cores)
	}
	// Left out: squashfs snaps, the Docker overlay, NFS, and /home (same source as /).
	want := []Disk{
		{Mount: "/", FS: "/dev/sda2", Total: 61611820 * k, Used: 52012340 * k, Percent: 100 * 52012340.0 / (52012340 + 6436000)},
		{Mount: "/boot/efi", FS: "/dev/sda1", Total: 523248 * k, Used: 6220 * k, Percent: 100 * 6220.0 / (6220 + 517028)},
		{Mount: "/mnt/backup disk", FS: "/dev/sdc1", Total: 1031784 * k, Used: 900000 * k, Percent: 100 * 900000.0 / (900000 + 79000)},
		{Mount: "/var/lib/postgresql", FS: "/dev/sdb1", Total: 103081248 * k, Used: 20000000 * k, Percent: 100 * 20000000.0 / (20000000 + 77816384)},
	}
	if !slices.EqualFunc(m.Disks, want, func(a, b Disk) bool {
		return a.Mount == b.Mount && a.FS == b.FS && a.Total == b.Total && a.Used == b.Used && near(a.Percent, b.Percent)
	}) {
		t.Errorf("Disks =\n%+v\nwant\n%+v", m.Disks, want)
	}
	if w := m.WorstDisk(); w.Mount != "/mnt/backup disk" {
		t.Errorf("WorstDisk = %+v", w)
	}
	if !slices.Equal(m.Ports, []int{22, 80, 5432, 8080}) {
		t.Errorf("Ports = %v", m.Ports)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// withoutSection and replaceSection build broken outputs from a good one.
func withoutSection(t *testing.T, out, name string) string {
	t.Helper()
	start := strings.Index(out, markerPrefix+name+markerSuffix)
	if start < 0 {
		t.Fatalf("no section %s", name)
	}
	end := strings.Index(out[start+1:], markerPrefix)
	return out[:start] + out[start+1+end:]
}

func replaceSection(t *testing.T, out, name, body string) string {
	t.Helper()
	m := markerPrefix + name + markerSuffix + "\n"
	start := strings.Index(out, m)
	if start < 0 {
		t.Fatalf("no section %s", name)
	}
	end := strings.Index(out[start+len(m):], markerPrefix)
	return out[:start+len(m)] + body + "\n" + out[start+len(m)+end:]
}

func TestParseRemoteBroken(t *testing.T) {
	full := string(readSeed(t, "remote-ubuntu-handmade.txt"))
	endMarker := markerPrefix + "end" + markerSuffix
	tests := []struct {
		name    string
		out     string
		missing []string
		check   func(t *testing.T, m Metrics)
	}{
		{
			name:    "empty",
			out:     "",
			missing: []string{FieldCPU, FieldCores, FieldMem, FieldLoad, FieldUptime, FieldDisks, FieldPorts},
		},
		{
			name:    "garbage only",
			out:     "sh: 1: Syntax error: \"(\" unexpected\n\x00\xff\xfe binary",
			missing: []string{FieldCPU, FieldCores, FieldMem, FieldLoad, FieldUptime, FieldDisks, FieldPorts},
		},
		{
			name:    "no df",
			out:     withoutSection(t, full, "df"),
			missing: []string{FieldDisks},
			check: func(t *testing.T, m Metrics) {
				if m.Disks != nil || m.Cores != 4 || len(m.Ports) != 4 {
					t.Errorf("kept = %+v", m)
				}
			},
		},
		{
			name:    "no meminfo and no stat",
			out:     withoutSection(t, withoutSection(t, full, "meminfo"), "stat"),
			missing: []string{FieldCPU, FieldMem},
			check: func(t *testing.T, m Metrics) {
				if m.Load1 != 6.12 || len(m.Disks) != 4 {
					t.Errorf("kept = %+v", m)
				}
			},
		},
		{
			name:    "truncated inside tcp",
			out:     full[:strings.Index(full, "   2: 0000000000")],
			missing: []string{FieldPorts},
			check: func(t *testing.T, m Metrics) {
				if !slices.Equal(m.Ports, []int{22, 5432, 8080}) {
					t.Errorf("Ports = %v: what arrived is kept", m.Ports)
				}
			},
		},
		{
			name:    "no mounts: filtered by source name",
			out:     withoutSection(t, full, "mounts"),
			missing: nil,
			check: func(t *testing.T, m Metrics) {
				// Without types the snaps (/dev/loopN) and NFS look like disks; that is
				// the price of a host whose /proc/mounts we could not read.
				if got := mounts(m.Disks); !slices.Contains(got, "/") || slices.Contains(got, "/var/lib/docker/overlay2/4f1c2d/merged") {
					t.Errorf("disks = %q", got)
				}
			},
		},
		{
			name:    "CRLF line endings",
			out:     strings.ReplaceAll(full, "\n", "\r\n"),
			missing: nil,
			check: func(t *testing.T, m Metrics) {
				if m.Cores != 4 || len(m.Disks) != 4 || m.Disks[2].Mount != "/mnt/backup disk" {
					t.Errorf("m = %+v", m)
				}
			},
		},
		{
			name:    "repeated marker later does not override",
			out:     strings.Replace(full, endMarker, markerPrefix+"cores"+markerSuffix+"\n64\n"+endMarker, 1),
			missing: nil,
			check: func(t *testing.T, m Metrics) {
				if m.Cores != 4 {
					t.Errorf("Cores = %d", m.Cores)
				}
			},
		},
		{
			name:    "NaN and negative loads",
			out:     replaceSection(t, full, "loadavg", "NaN -1 +Inf 1/2 3"),
			missing: []string{FieldLoad},
		},
		{
			name: "meminfo without MemAvailable (kernel < 3.14)",
			out:  replaceSection(t, full, "meminfo", "MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB"),
			check: func(t *testing.T, m Metrics) {
				if m.MemUsed != 600*1024 || !near(m.MemPercent, 60) {
					t.Errorf("mem = %d (%v%%)", m.MemUsed, m.MemPercent)
				}
			},
		},
		{
			name: "meminfo lies: available above total, swap free above total",
			out:  replaceSection(t, full, "meminfo", "MemTotal: 1000 kB\nMemAvailable: 5000 kB\nSwapTotal: 10 kB\nSwapFree: 20 kB"),
			check: func(t *testing.T, m Metrics) {
				if m.MemUsed != 0 || m.MemPercent != 0 || m.SwapUsed != 0 {
					t.Errorf("mem = %+v", m)
				}
			},
		},
		{
			name:    "meminfo overflow",
			out:     replaceSection(t, full, "meminfo", "MemTotal: 18446744073709551615 kB\nMemAvailable: 1 kB"),
			missing: []string{FieldMem},
		},
		{
			name:    "stat counters go backwards",
			out:     replaceSection(t, full, "stat", "cpu  10 0 10 10 0 0 0 0 0 0\ncpu  5 0 5 5 0 0 0 0 0 0"),
			missing: []string{FieldCPU},
		},
		{
			name:    "stat unchanged (sleep missing)",
			out:     replaceSection(t, full, "stat", "cpu  10 0 10 10\ncpu  10 0 10 10"),
			missing: []string{FieldCPU},
		},
		{
			name:    "stat one sample",
			out:     replaceSection(t, full, "stat", "cpu  10 0 10 10 0 0 0 0 0 0"),
			missing: []string{FieldCPU},
		},
		{
			name: "old kernel stat with four counters",
			out:  replaceSection(t, full, "stat", "cpu  10 0 10 10\ncpu  20 0 20 30"),
			check: func(t *testing.T, m Metrics) {
				if !near(m.CPUPercent, 50) {
					t.Errorf("CPUPercent = %v", m.CPUPercent)
				}
			},
		},
		{
			name: "cores from nproc after grep printed 0",
			out:  replaceSection(t, full, "cores", "0\n8"),
			check: func(t *testing.T, m Metrics) {
				if m.Cores != 8 {
					t.Errorf("Cores = %d", m.Cores)
				}
			},
		},
		{
			name:    "absurd cores",
			out:     replaceSection(t, full, "cores", "99999999999"),
			missing: []string{FieldCores},
		},
		{
			name:    "df printed only its header",
			out:     replaceSection(t, full, "df", "Filesystem 1024-blocks Used Available Capacity Mounted on"),
			missing: []string{FieldDisks},
		},
		{
			name:    "df rows of garbage",
			out:     replaceSection(t, full, "df", "a b c d e f\n/dev/x 1 2 3 4 /\n/dev/y x 1 1 1% /y\n/dev/z 1 1 1 1%"),
			missing: []string{FieldDisks},
		},
		{
			name: "no listeners is not missing",
			out:  replaceSection(t, full, "tcp", ""),
			check: func(t *testing.T, m Metrics) {
				if m.Ports != nil {
					t.Errorf("Ports = %v", m.Ports)
				}
			},
		},
		{
			name: "huge line of noise between sections",
			out:  strings.Replace(full, markerPrefix+"df", strings.Repeat("x", 8<<20)+"\n"+markerPrefix+"df", 1),
			check: func(t *testing.T, m Metrics) {
				if m.Cores != 4 {
					t.Errorf("Cores = %d", m.Cores)
				}
			},
		},
		{
			name:    "marker whose prefix and suffix overlap",
			out:     "=== opsconsole ===\n=== opsconsole  ===\n",
			missing: []string{FieldCPU, FieldCores, FieldMem, FieldLoad, FieldUptime, FieldDisks, FieldPorts},
		},
		{
			name:    "no end marker",
			out:     strings.Replace(full, endMarker, "", 1),
			missing: []string{FieldPorts},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseRemote([]byte(tt.out), at)
			if !slices.Equal(m.Missing, tt.missing) {
				t.Errorf("Missing = %q, want %q", m.Missing, tt.missing)
			}
			var me *MissingError
			switch {
			case tt.missing == nil && err != nil:
				t.Errorf("err = %v", err)
			case tt.missing != nil && (!errors.As(err, &me) || !slices.Equal(me.Fields, tt.missing)):
				t.Errorf("err = %v, want a MissingError for %q", err, tt.missing)
			}
			if tt.check != nil {
				tt.check(t, m)
			}
		})
	}
}

func TestParseListeningPorts(t *testing.T) {
	text := []byte(`  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
   1: 0100007F:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1
   2: 020200C0:9216 507100CB:01BB 01 00000000:00000000 03:00001574 00000000     0        0 0 3
   3: 00000000:0000 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1
   4: 00000000:FFFF 00000000:0000 0A 0 0 0 0 0 0 0
   5: 00000000:10000 00000000:0000 0A 0 0 0 0 0 0 0
   6: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 0 0
`)
	if got := ParseListeningPorts(text); !slices.Equal(got, []int{22, 8080, 65535}) {
		t.Errorf("ports = %v", got)
	}
}

func TestKeepDisk(t *testing.T) {
	tests := []struct {
		fstype, mount string
		want          bool
	}{
		{"ext4", "/", true},
		{"xfs", "/var", true},
		{"overlay", "/", true},
		{"overlay", "/var/lib/docker/overlay2/x/merged", false},
		{"tmpfs", "/run", false},
		{"squashfs", "/snap/core/1", false},
		{"nfs4", "/mnt/nfs", false},
		{"fuse.sshfs", "/mnt/x", false},
		{"fuseblk", "/media/usb", true},
		{"proc", "/proc", false},
	}
	for _, tt := range tests {
		if got := KeepDisk(tt.fstype, tt.mount); got != tt.want {
			t.Errorf("KeepDisk(%q, %q) = %v", tt.fstype, tt.mount, got)
		}
	}
}

func TestUnescapeMount(t *testing.T) {
	for in, want := range map[string]string{
		`/mnt/a\040b`:  "/mnt/a b",
		`/x\011y\134z`: "/x\ty\\z",
		`/trailing\04`: `/trailing\04`,
		`/bad\09`:      `/bad\09`,
		`/plain`:       "/plain",
	} {
		if got := unescapeMount(in); got != want {
			t.Errorf("unescapeMount(%q) = %q, want %q", in, got, want)
		}
	}
}

// RemoteCommand single-quotes the script, so the script must hold nothing that breaks a
// single-quoted string in a login shell: no quote, no backslash (fish), no "!" or
// newline (csh).
func TestRemoteScriptQuotable(t *testing.T) {
	if i := strings.IndexAny(RemoteScript, "'\\!\n"); i >= 0 {
		t.Fatalf("RemoteScript holds %q at %d", RemoteScript[i], i)
	}
}

// TestRemoteScriptRuns runs the script on this machine through every POSIX shell at hand
// and parses what it printed.
func TestRemoteScriptRuns(t *testing.T) {
	type run struct {
		name string
		argv []string
		env  []string
	}
	runs := []run{
		{"sh", []string{"/bin/sh", "-c", RemoteScript}, nil},
		{"sh RemoteCommand", []string{"/bin/sh", "-c", RemoteCommand}, nil},
	}
	for _, sh := range []string{"dash", "bash", "zsh"} {
		if p, err := exec.LookPath(sh); err == nil {
			runs = append(runs, run{sh, []string{p, "-c", RemoteScript}, nil})
		}
	}
	bb, bbErr := exec.LookPath("busybox")
	if bbErr == nil {
		// Only busybox applets on PATH, as on Alpine or an embedded host: df without -l
		// and -x, busybox grep and sleep.
		dir := t.TempDir()
		if out, err := exec.Command(bb, "--install", "-s", dir).CombinedOutput(); err != nil {
			t.Fatalf("busybox --install: %v: %s", err, out)
		}
		runs = append(runs, run{"busybox sh", []string{bb, "sh", "-c", RemoteScript}, []string{"PATH=" + dir}})
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(r.argv[0], r.argv[1:]...)
			if r.env != nil {
				cmd.Env = r.env
			}
			// No time bound here: a loaded CI machine makes any bound flaky, and the
			// script's cost is measured by the benchmarks instead.
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			m, err := ParseRemote(out, at)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if m.Cores < 1 || m.MemTotal == 0 || len(m.Disks) == 0 || m.Uptime <= 0 {
				t.Errorf("implausible: %+v", m)
			}
			if m.CPUPercent < 0 || m.CPUPercent > 100 {
				t.Errorf("CPUPercent = %v", m.CPUPercent)
			}
			for _, d := range m.Disks {
				if d.Total == 0 || d.Used > d.Total {
					t.Errorf("disk %+v", d)
				}
			}
		})
	}
	if bbErr != nil {
		t.Run("busybox sh", func(t *testing.T) { t.Skip("busybox is not installed") })
	}
}

func seeds(f *testing.F) [][]byte {
	names, err := filepath.Glob(filepath.Join(seedDir, "*.txt"))
	if err != nil || len(names) == 0 {
		f.Fatalf("no seeds in %s: %v", seedDir, err)
	}
	var out [][]byte
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func FuzzParseRemote(f *testing.F) {
	for _, s := range seeds(f) {
		f.Add(s)
	}
	f.Add([]byte(markerPrefix + "stat" + markerSuffix + "\ncpu 1 2 3 4 5\ncpu 1 2 3 4 5\n"))
	f.Add([]byte(markerPrefix + "df" + markerSuffix + "\n a 1 1 1 1% b c 2 2 2 2% d\n"))
	f.Fuzz(func(t *testing.T, out []byte) {
		m, err := ParseRemote(out, at)
		if (err == nil) != (len(m.Missing) == 0) {
			t.Fatalf("err = %v but Missing = %q", err, m.Missing)
		}
		for _, v := range []float64{m.CPUPercent, m.MemPercent} {
			if math.IsNaN(v) || v < 0 || v > 100 {
				t.Fatalf("percentage %v", v)
			}
		}
		for _, v := range []float64{m.Load1, m.Load5, m.Load15} {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				t.Fatalf("load %v", v)
			}
		}
		if m.MemUsed > m.MemTotal || m.SwapUsed > m.SwapTotal || m.Uptime < 0 || m.Cores < 0 {
			t.Fatalf("inconsistent %+v", m)
		}
		for _, d := range m.Disks {
			if d.Total == 0 || math.IsNaN(d.Percent) || d.Percent < 0 || d.Percent > 100 {
				t.Fatalf("disk %+v", d)
			}
		}
		if !slices.IsSorted(m.Ports) || len(slices.Compact(slices.Clone(m.Ports))) != len(m.Ports) {
			t.Fatalf("ports %v", m.Ports)
		}
		for _, p := range m.Ports {
			if p < 1 || p > 65535 {
				t.Fatalf("port %d", p)
			}
		}
	})
}

func BenchmarkParseRemote(b *testing.B) {
	for _, name := range []string{"remote-dash.txt", "remote-ubuntu-handmade.txt"} {
		out := readSeed(b, name)
		b.Run(strings.TrimSuffix(name, ".txt"), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(out)))
			for b.Loop() {
				if _, err := ParseRemote(out, at); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// A busy host: 2,000 listeners and 300 mounts.
	var big bytes.Buffer
	base := string(readSeed(b, "remote-ubuntu-handmade.txt"))
	var tcp, df, mnt strings.Builder
	for i := range 2000 {
		tcp.WriteString("   0: 00000000:" + hex4(i+1024) + " 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n")
	}
	for i := range 300 {
		p := "/var/lib/kubelet/pods/" + hex4(i) + "/volumes"
		df.WriteString("/dev/sdz" + hex4(i) + " 1000000 500000 500000 50% " + p + "\n")
		mnt.WriteString("/dev/sdz" + hex4(i) + " " + p + " ext4 rw 0 0\n")
	}
	big.WriteString(base[:strings.Index(base, markerPrefix+"df")])
	big.WriteString(markerPrefix + "df" + markerSuffix + "\n" + df.String())
	big.WriteString(markerPrefix + "mounts" + markerSuffix + "\n" + mnt.String())
	big.WriteString(markerPrefix + "tcp" + markerSuffix + "\n" + tcp.String())
	big.WriteString(markerPrefix + "end" + markerSuffix + "\n")
	b.Run("busy-host", func(b *testing.B) {
		out := big.Bytes()
		m, err := ParseRemote(out, at)
		if err != nil || len(m.Ports) != 2000 || len(m.Disks) != 300 {
			b.Fatalf("ports %d disks %d err %v", len(m.Ports), len(m.Disks), err)
		}
		b.ReportAllocs()
		b.SetBytes(int64(len(out)))
		for b.Loop() {
			if _, err := ParseRemote(out, at); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func hex4(i int) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[i>>12&15], digits[i>>8&15], digits[i>>4&15], digits[i&15]})
}
