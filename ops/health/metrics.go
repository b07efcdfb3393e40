// Package health is the host health model: the metrics a poll yields, the one-round-trip
// script that gathers them over SSH and its parser, the judgement of metrics against the
// configured thresholds, and the bounded history the fleet view draws sparklines from.
//
// Everything here is pure: no I/O and no clock. Callers pass the time a sample was taken,
// so polls, tests and replays of a recorded session all judge the same input the same way.
package health

import (
	"slices"
	"strings"
	"time"
)

// Metrics is one sample of a host's health.
type Metrics struct {
	// Time is when the sample was taken, as told by the caller.
	Time       time.Time
	CPUPercent float64 // busy share of all cores over the sampling interval, 0–100
	Cores      int     // online logical CPUs
	MemTotal   uint64  // bytes
	MemUsed    uint64  // bytes: total less what the kernel could give back (MemAvailable)
	MemPercent float64
	SwapTotal  uint64 // bytes
	SwapUsed   uint64 // bytes
	Load1      float64
	Load5      float64
	Load15     float64
	Uptime     time.Duration
	// Disks holds every real filesystem (see KeepDisk), sorted by mount point.
	Disks []Disk
	// Ports are the listening TCP ports (IPv4 and IPv6), sorted and unique.
	Ports []int
	// Missing names the fields (Field* constants) that could not be measured or may be
	// incomplete. Their values above are zero or partial, and Judge does not vouch for them.
	Missing []string

	// The extras below are detail for the operator, not for judgement: only some sources
	// measure them (today the local host's collector), Judge never reads them, and one
	// that could not be measured is simply left empty rather than named in Missing, so it
	// can never turn a host Unknown. Empty extras are left out of JSON, so a sample from a
	// source that does not measure them serialises as it did before they existed.

	// PerCore is the busy share of each logical CPU over the same interval as
	// CPUPercent, 0–100, in CPU order (cpu0 first).
	PerCore []float64 `json:",omitempty"`
	// Net holds the traffic rates of the network interfaces that ever carried any, over
	// the interval since the source's previous sample, sorted by name with loopback last.
	Net []NetRate `json:",omitempty"`
	// Procs are the processes that used the most CPU over the sampling interval, busiest
	// first. Their command lines are already redacted and cut by the source.
	Procs []Proc `json:",omitempty"`
}

// NetRate is one network interface's traffic, in units per second.
type NetRate struct {
	Name                 string
	RxBytes, TxBytes     float64 // bytes per second
	RxPackets, TxPackets float64 // packets per second
	RxErrors, TxErrors   float64 // errors per second
	RxDrops, TxDrops     float64 // dropped packets per second
}

// Proc is one process as the busiest-processes list shows it.
type Proc struct {
	PID  int32
	Name string // the short name the kernel keeps (comm)
	User string
	// CPUPercent is the CPU the process used over the sampling interval, where 100 is one
	// core busy: a process busy on four cores reads 400, as in top.
	CPUPercent float64
	RSS        uint64 // resident memory, bytes
	// Command is the command line with secrets masked (see ops/redact) and cut to a
	// bounded length; empty for kernel threads. It is text from the host: a renderer must
	// still make it safe for the terminal.
	Command string
}

// Field names used in Metrics.Missing.
const (
	FieldCPU    = "cpu"
	FieldCores  = "cores"
	FieldMem    = "mem"
	FieldLoad   = "load"
	FieldUptime = "uptime"
	FieldDisks  = "disks"
	FieldPorts  = "ports"
)

// Disk is the usage of one mounted filesystem.
type Disk struct {
	Mount string
	FS    string // the mounted source, e.g. /dev/sda1 or overlay
	Total uint64 // bytes, including blocks reserved for root
	Used  uint64 // bytes
	// Percent is used/(used+available), as df reports it: blocks reserved for root count
	// as unavailable, so a disk is 100% when ordinary users can no longer write.
	Percent float64
}

// WorstDisk returns the fullest disk, or the zero Disk when there is none.
func (m Metrics) WorstDisk() Disk {
	var worst Disk
	for i, d := range m.Disks {
		if i == 0 || d.Percent > worst.Percent {
			worst = d
		}
	}
	return worst
}

// Has reports whether field (a Field* constant) was measured in full.
func (m Metrics) Has(field string) bool {
	return !slices.Contains(m.Missing, field)
}

// MissingError reports the fields a sample lacks. The Metrics returned beside it still hold
// everything that was measured.
type MissingError struct {
	Fields []string
}

func (e *MissingError) Error() string {
	return "health: not measured: " + strings.Join(e.Fields, ", ")
}

// ignoredFS lists filesystem types left out of disk usage. Pseudo and in-memory
// filesystems say nothing about disk space; read-only images (squashfs snaps, ISO) are
// always 100% full by design and would raise a false alarm; network filesystems belong to
// another host, and a hung server would hang the statfs that measures them.
var ignoredFS = map[string]bool{
	// kernel pseudo filesystems
	"proc": true, "sysfs": true, "devpts": true, "cgroup": true, "cgroup2": true,
	"debugfs": true, "tracefs": true, "securityfs": true, "pstore": true, "bpf": true,
	"configfs": true, "fusectl": true, "binfmt_misc": true, "mqueue": true,
	"hugetlbfs": true, "autofs": true, "rpc_pipefs": true, "nsfs": true, "efivarfs": true,
	"selinuxfs": true, "nfsd": true, "rootfs": true,
	// memory-backed
	"tmpfs": true, "devtmpfs": true, "ramfs": true,
	// read-only images
	"squashfs": true, "iso9660": true, "udf": true,
	// network
	"nfs": true, "nfs4": true, "cifs": true, "smbfs": true, "smb3": true, "9p": true,
	"ceph": true, "glusterfs": true, "lustre": true, "afs": true, "davfs": true,
}

// KeepDisk reports whether a filesystem of type fstype (as /proc/mounts spells it)
// mounted at mount belongs in Metrics.Disks.
//
// Overlay is kept only at "/", where it is a container's root: anywhere else (a Docker
// host has one per container) its space is that of a disk already listed. FUSE mounts
// other than fuseblk (local NTFS/exFAT disks) are left out: most are network or virtual,
// and their statfs waits on a userspace daemon.
func KeepDisk(fstype, mount string) bool {
	switch {
	case fstype == "overlay":
		return mount == "/"
	case fstype == "fuse", strings.HasPrefix(fstype, "fuse."):
		return false
	}
	return !ignoredFS[fstype]
}
