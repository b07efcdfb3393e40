package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/sessions"
)

// configError is a configuration that could not be loaded or validated: exit 2.
type configError struct{ err error }

func (e configError) Error() string { return e.err.Error() }
func (e configError) Unwrap() error { return e.err }

// common holds the flags every subcommand takes (DESIGN.md §7).
type common struct {
	configFile  string
	inventory   string
	format      string
	concurrency int
	timeout     time.Duration
	readOnly    bool
	theme       string
	noColor     bool
	hosts       string
	debug       string
}

func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.configFile, "config", "", "config file (default $XDG_CONFIG_HOME/opsconsole/config.toml)")
	fs.StringVar(&c.inventory, "inventory", "", "inventory file (TOML [[hosts]] or Ansible INI)")
	fs.StringVar(&c.format, "format", "text", "output format: text, json or jsonl")
	fs.IntVar(&c.concurrency, "concurrency", 0, "hosts at once (default from config, 256)")
	fs.DurationVar(&c.timeout, "timeout", 0, "per-host command timeout (default from config, 30s)")
	fs.BoolVar(&c.readOnly, "read-only", false, "refuse every action that could change a host")
	fs.StringVar(&c.theme, "theme", "", "colour theme: dark, light, high-contrast, no-color, or a user theme")
	fs.BoolVar(&c.noColor, "no-color", false, "no colour")
	fs.StringVar(&c.hosts, "H", "", "host pattern: web-*, tag:db, group:prod, a,b, !c")
	fs.StringVar(&c.hosts, "hosts", "", "same as -H")
	fs.StringVar(&c.debug, "debug", "", "write a debug log to FILE")
}

// parseFlags parses args the way people type them: flags may come before or after
// positional words, and everything after "--" is positional as it is.
func parseFlags(fs *flag.FlagSet, args []string) (positional, afterDash []string, err error) {
	fs.SetOutput(io.Discard)
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, nil, usagef("usage of %s:\n%s", fs.Name(), flagUsage(fs))
			}
			return nil, nil, usagef("%s: %v", fs.Name(), err)
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return positional, rest, nil
		}
		if len(rest) == 0 {
			return positional, nil, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func flagUsage(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	return b.String()
}

func (c *common) checkFormat(allowed ...string) error {
	for _, a := range allowed {
		if c.format == a {
			return nil
		}
	}
	return usagef("--format %q: want one of %s", c.format, strings.Join(allowed, ", "))
}

// load reads the configuration the flags point at and applies the flags over it.
func (c *common) load(io stdio) (*config.Config, error) {
	cfg, err := config.Load(config.LoadOptions{ConfigFile: c.configFile, InventoryFile: c.inventory, Env: io.env})
	if err != nil {
		return nil, configError{err}
	}
	if c.readOnly {
		cfg.ReadOnly = true
	}
	if c.concurrency > 0 {
		cfg.Defaults.Concurrency = c.concurrency
	}
	if c.concurrency < 0 {
		return nil, usagef("--concurrency must be positive")
	}
	return cfg, nil
}

// selectHosts resolves the -H pattern against the inventory (all hosts when empty).
func (c *common) selectHosts(cfg *config.Config) ([]config.Host, error) {
	hs, err := config.Resolve(cfg.Hosts, c.hosts)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return hs, nil
}

func (c *common) fanOutOptions(cfg *config.Config) sessions.FanOutOptions {
	return sessions.FanOutOptions{
		Concurrency: cfg.Defaults.Concurrency,
		Timeout:     c.timeout,
		OutputLimit: cfg.Defaults.OutputLimit,
	}
}

// newPool is the batch commands' pool: a script wants the whole fan-out dialled at once,
// so handshakes are bounded only by the fan-out width. The console bounds them lower (see
// consolePool) to keep its frames and keys responsive.
func newPool(cfg *config.Config) *sessions.Pool {
	return sessions.NewPool(sessions.NewDialer(cfg.Hosts, cfg.Defaults), sessions.WithMaxDials(cfg.Defaults.Concurrency))
}

// consolePool is the console's pool: handshakes at the pool's default bound, so a large
// fleet connecting never starves the frame and key handling of CPU.
func consolePool(cfg *config.Config) *sessions.Pool {
	return sessions.NewPool(sessions.NewDialer(cfg.Hosts, cfg.Defaults))
}

func isTerminal(f *os.File) bool {
	return isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())
}

// progress draws "hosts done / total" on stderr when it is a terminal; silent otherwise, so
// logs and pipes stay clean.
type progress struct {
	w      io.Writer
	on     bool
	total  int
	done   int
	drawn  bool
	prefix string
}

func newProgress(io stdio, prefix string, total int) *progress {
	return &progress{w: io.err, on: io.errTTY, total: total, prefix: prefix}
}

func (p *progress) step() {
	p.done++
	if !p.on {
		return
	}
	fmt.Fprintf(p.w, "\r\033[K%s %d/%d hosts", p.prefix, p.done, p.total)
	p.drawn = true
}

// clear erases the progress line before other output goes to the same terminal.
func (p *progress) clear() {
	if p.on && p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
