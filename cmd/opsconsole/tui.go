package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/opsconsole/opsconsole/config"
	"github.com/opsconsole/opsconsole/keymap"
	"github.com/opsconsole/opsconsole/ops/audit"
	"github.com/opsconsole/opsconsole/ops/fleet"
	"github.com/opsconsole/opsconsole/ops/heal"
	"github.com/opsconsole/opsconsole/ops/logs"
	"github.com/opsconsole/opsconsole/ops/runbook"
	"github.com/opsconsole/opsconsole/sessions"
	"github.com/opsconsole/opsconsole/themes"
	"github.com/opsconsole/opsconsole/tui"
	"github.com/opsconsole/opsconsole/views/exec"
	"github.com/opsconsole/opsconsole/views/incidents"
	"github.com/opsconsole/opsconsole/views/query"
)

// firstFrameGrace is how long the fleet's polling waits after the program starts, so the
// first frame is drawn before a large fleet's handshakes take the CPU.
const firstFrameGrace = 60 * time.Millisecond

// version is stamped into recordings and the audit log.
var version = "dev"

// runTUI starts the console. Every start-up problem (config, keys, theme, recording path)
// is reported here, before the program takes the terminal (DESIGN.md §10.14).
func runTUI(ctx context.Context, args []string, io stdio) error {
	var c common
	var noRecord bool
	var interval time.Duration
	fs := flag.NewFlagSet("console", flag.ContinueOnError)
	c.register(fs)
	fs.BoolVar(&noRecord, "no-record", false, "do not record this session's journal")
	fs.DurationVar(&interval, "interval", 5*time.Second, "how often each host is polled")
	pos, _, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q (try: opsconsole help)", pos[0])
	}
	if interval < 100*time.Millisecond {
		return usagef("--interval must be at least 100ms")
	}
	if !io.outTTY {
		return usagef("the console needs a terminal; for scripts use the batch commands (opsconsole check, exec, …)")
	}
	cfg, err := c.load(io)
	if err != nil {
		return err
	}
	hosts, err := c.selectHosts(cfg)
	if err != nil {
		return err
	}
	keys, err := loadKeys(cfg)
	if err != nil {
		return err
	}
	keys.SetReadOnly(cfg.ReadOnly)
	theme, err := selectTheme(c, cfg, io)
	if err != nil {
		return configError{err}
	}
	jobs, server, err := configSources(cfg, hosts, io)
	if err != nil {
		return err
	}
	logSources, err := logs.Parse(cfg)
	if err != nil {
		return configError{err}
	}
	rbs, err := runbook.Parse(cfg)
	if err != nil {
		return configError{err}
	}
	rules, err := heal.Parse(cfg, rbs)
	if err != nil {
		return configError{err}
	}
	auditSettings, err := audit.FromConfig(cfg, io.env)
	if err != nil {
		return configError{err}
	}

	// Every confirmed Action is recorded; a console that cannot record them can still
	// watch, so read-only mode goes on without the log.
	var auditLog *audit.Log
	if !cfg.ReadOnly {
		if auditLog, err = openAudit(cfg, io); err != nil {
			return fmt.Errorf("%w (use --read-only to watch without acting)", err)
		}
		defer auditLog.Close()
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pool := consolePool(cfg)
	defer pool.Close()
	monOpt := fleet.MonitorOptions{
		Check:       fleet.CheckOptions{Timeout: c.timeout, Thresholds: cfg.Thresholds},
		Interval:    interval,
		Concurrency: cfg.Defaults.Concurrency,
		Probes:      jobs,
	}
	queryDeps := query.Deps{Ctx: ctx, Location: time.Local}
	if server != nil {
		// Only a real client goes into the interfaces: a nil *prom.Client in one would
		// read as configured.
		monOpt.Server = server
		queryDeps.Client, queryDeps.Server = server, server.URL()
	}
	mon := fleet.NewMonitor(pool, hosts, monOpt)
	var logEngine *logs.Engine
	if targets := logs.Targets(logSources, hosts); len(targets) > 0 {
		logEngine = logs.Start(ctx, pool, targets, logs.Options{Follow: true})
		defer logEngine.Stop()
	}
	// The first frame goes to the terminal before the first round of handshakes competes
	// with it for the CPU: with a thousand hosts that round is seconds of crypto, and Go's
	// scheduler gives the renderer no priority over it.
	go func() {
		select {
		case <-time.After(firstFrameGrace):
			mon.Run(ctx)
		case <-ctx.Done():
		}
	}()

	var rec *sessions.Recorder
	if !noRecord {
		path := sessions.RecordingPath(config.StateDir(config.Env(io.env)), time.Now())
		if rec, err = sessions.NewRecorder(path); err != nil {
			return fmt.Errorf("%w (run with --no-record to go without)", err)
		}
		defer func() {
			rec.Close()
			fmt.Fprintln(io.err, "opsconsole: session recorded to", path)
		}()
	}
	model := tui.New(tui.Options{
		Hosts:   hosts,
		Monitor: mon,
		ExecDeps: exec.Deps{Pool: pool, Hosts: cfg.Hosts, ReadOnlyCommands: cfg.ReadOnlyCommands,
			FanOut: c.fanOutOptions(cfg), ReadOnly: cfg.ReadOnly, Audit: auditLog},
		QueryDeps: queryDeps,
		Logs:      logEngine,
		IncidentDeps: incidents.Deps{Runbooks: rbs, Rules: rules, Pool: pool, Audit: auditLog,
			AuditPath: auditSettings.Path, Hosts: cfg.Hosts, ReadOnly: cfg.ReadOnly, Ctx: ctx,
			StatePath: heal.DefaultStatePath(config.Env(io.env)),
			RunOptions: runbook.Options{Concurrency: cfg.Defaults.Concurrency,
				OutputLimit: cfg.Defaults.OutputLimit, DefaultTimeout: c.timeout}},
		Keys:      keys,
		Styles:    themes.Build(theme),
		ReadOnly:  cfg.ReadOnly,
		Recording: rec != nil,
		Ctx:       ctx,
		Cancel:    cancel,
		Version:   version,
	})
	var m tea.Model = model
	if rec != nil {
		m = tui.Recorded(model, rec)
	}
	consoleGC(io.env)
	// 120 frames a second halves the wait for the renderer's next tick after a key (the
	// renderer writes only when the frame changed, so an idle console writes no more).
	p := tea.NewProgram(m, tea.WithAltScreen(), tea.WithContext(ctx), tea.WithInput(io.in),
		tea.WithOutput(io.out), tea.WithFPS(consoleFPS))
	if _, err := p.Run(); err != nil && !errors.Is(err, tea.ErrProgramKilled) && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

const consoleFPS = 120

// consoleGC runs the console's collector less often than Go's default, unless GOGC says
// otherwise: under a fleet's log stream the collector's mark phase on a 2-core machine
// was what kept the event loop from a CPU when a key arrived. bench/keys at 100 hosts ×
// 1,000 lines/s: key → frame p90 30 ms and p99 74 ms at GOGC=100, 27 ms and 54 ms at 200,
// for 43 MB more peak memory (171 MB).
func consoleGC(env func(string) string) {
	if env("GOGC") == "" {
		debug.SetGCPercent(200)
	}
}

// loadKeys applies the config's [keys] table over the defaults. A bad name or a clash is
// a config error placed at its key.
func loadKeys(cfg *config.Config) (keymap.Map, error) {
	keys := keymap.Default()
	raw, ok := cfg.Raw["keys"].(map[string]any)
	if !ok {
		if cfg.Raw["keys"] != nil {
			return keys, configError{cfg.Errorf("keys", "must be a table")}
		}
		return keys, nil
	}
	over, err := keymap.Overrides(raw)
	if err == nil {
		err = keys.Apply(over)
	}
	var ke *keymap.Error
	if errors.As(err, &ke) {
		return keys, configError{cfg.Errorf("keys."+ke.Name, "%s", ke.Msg)}
	}
	if err != nil {
		return keys, configError{cfg.Errorf("keys", "%v", err)}
	}
	return keys, nil
}

// selectTheme follows --theme, then NO_COLOR, then the config's theme, then the terminal.
func selectTheme(c common, cfg *config.Config, io stdio) (themes.Theme, error) {
	flagTheme := c.theme
	if c.noColor {
		flagTheme = "no-color"
	}
	configured, _ := cfg.Raw["theme"].(string)
	dirs := []string{filepath.Join(config.ConfigDir(config.Env(io.env)), "themes")}
	return themes.Select(flagTheme, configured, io.env, dirs)
}
