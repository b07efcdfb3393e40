// Package config holds the opsconsole configuration schema, its defaults, the XDG lookup,
// loading with positioned validation errors, inventory imports (ssh_config, Ansible INI)
// and host pattern resolution. Everything here is plain data handed down by cmd.
package config

import "time"

// Transport names how opsconsole reaches a host.
const (
	TransportSSH   = "ssh"
	TransportWinRM = "winrm"
	TransportLocal = "local"
)

// Config is the whole resolved configuration.
type Config struct {
	// Files lists the files the configuration was read from, in order.
	Files    []string
	Defaults Defaults
	Hosts    []Host
	// ReadOnly refuses every Action when true.
	ReadOnly bool
	// ReadOnlyCommands are command prefixes that need no confirmation in exec.
	ReadOnlyCommands []string
	Thresholds       Thresholds
	// Raw keeps sections that later features read (prometheus, probes, logs, runbooks,
	// rollouts, keys, theme, heal, audit, recording) as decoded TOML values, by top-level
	// key, validated by their owners (Errorf positions their errors).
	Raw map[string]any
	// Warnings are problems that did not stop loading, such as an unreadable default
	// ~/.ssh/config; the caller shows them.
	Warnings []string

	// loc remembers the config file's key positions for Errorf.
	loc *located
}

// Defaults apply to every host that does not set its own value.
type Defaults struct {
	User           string
	Port           int
	IdentityFiles  []string
	KnownHosts     []string
	ConnectTimeout time.Duration
	CommandTimeout time.Duration
	Keepalive      time.Duration
	Concurrency    int
	OutputLimit    int64
	SSHConfig      string
	// ImportSSHConfig adds ssh_config's explicitly named hosts to the inventory.
	ImportSSHConfig bool
}

// Host is one inventory entry, fully resolved (defaults applied, ~ expanded).
type Host struct {
	Name          string
	Address       string
	Port          int
	User          string
	Transport     string
	Tags          []string
	Groups        []string
	IdentityFiles []string
	KnownHosts    []string
	// ProxyJump is a comma-separated list of jump hosts, each either the name of an
	// inventory host or [user@]host[:port], as in OpenSSH.
	ProxyJump      string
	ConnectTimeout time.Duration
	CommandTimeout time.Duration
	Keepalive      time.Duration
	// NodeExporter is the port of a prometheus-node-exporter on the host, scraped directly
	// for its metrics when no Prometheus server is configured; 0 means none.
	NodeExporter int
	// Source says where the host came from: file:line:col for TOML, file:line for an
	// Ansible inventory, the file for ssh_config, "built-in" for the local fallback.
	Source string
}

// Thresholds judge a host's metrics in check and the fleet view.
type Thresholds struct {
	CPUWarn, CPUCrit   float64 // percent
	MemWarn, MemCrit   float64 // percent
	DiskWarn, DiskCrit float64 // percent used, worst mount
	LoadWarn, LoadCrit float64 // load1 per core
}
