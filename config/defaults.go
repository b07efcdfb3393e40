package config

import (
	"os"
	"path/filepath"
	"time"
)

// Built-in values used when the config leaves a setting out.
const (
	DefaultPort           = 22
	DefaultConnectTimeout = 5 * time.Second
	DefaultCommandTimeout = 30 * time.Second
	DefaultKeepalive      = 15 * time.Second
	DefaultConcurrency    = 256
	DefaultOutputLimit    = 1 << 20 // bytes kept per host and command
)

// systemKnownHosts is OpenSSH's global known_hosts file.
const systemKnownHosts = "/etc/ssh/ssh_known_hosts"

// DefaultDefaults returns the defaults in force without a config file, resolved against
// env's home directory: only the identity files that exist are listed, as OpenSSH tries.
func DefaultDefaults(env Env) Defaults {
	sshDir := filepath.Join(env.home(), ".ssh")
	var ids []string
	for _, name := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
		if p := filepath.Join(sshDir, name); fileExists(p) {
			ids = append(ids, p)
		}
	}
	known := []string{filepath.Join(sshDir, "known_hosts")}
	if fileExists(systemKnownHosts) {
		known = append(known, systemKnownHosts)
	}
	return Defaults{
		User:           currentUser(env),
		Port:           DefaultPort,
		IdentityFiles:  ids,
		KnownHosts:     known,
		ConnectTimeout: DefaultConnectTimeout,
		CommandTimeout: DefaultCommandTimeout,
		Keepalive:      DefaultKeepalive,
		Concurrency:    DefaultConcurrency,
		OutputLimit:    DefaultOutputLimit,
		SSHConfig:      filepath.Join(sshDir, "config"),
	}
}

// DefaultThresholds returns the built-in health thresholds.
func DefaultThresholds() Thresholds {
	return Thresholds{
		CPUWarn: 80, CPUCrit: 95,
		MemWarn: 85, MemCrit: 95,
		DiskWarn: 85, DiskCrit: 95,
		LoadWarn: 1.5, LoadCrit: 3,
	}
}

// DefaultReadOnlyCommands returns the built-in read_only_commands. env is left out on
// purpose: it prints secrets.
func DefaultReadOnlyCommands() []string {
	return []string{
		"uptime", "df", "free", "cat", "tail", "head", "ls", "ps", "top -b", "who", "w",
		"id", "hostname", "uname", "date", "systemctl status", "systemctl is-active",
		"journalctl", "dmesg", "ss", "netstat", "ip addr", "ip route", "grep", "wc", "du",
		"stat", "lsblk", "mount",
	}
}

// LocalHost is the fleet when nothing else is configured: this machine, run directly.
func LocalHost() Host {
	return Host{Name: "local", Transport: TransportLocal, Address: "localhost", Source: "built-in"}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
