// Command opsconsole is a terminal operations console for on-call engineers: a Bubble Tea
// console over a fleet, and the same engine as batch subcommands for scripts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
)

// Exit codes are a contract with scripts (DESIGN.md §7); never renumber them.
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitRefused     = 3
	exitInterrupted = 130
)

// usageError is a mistake in how the program was called: exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// refusedError is an Action the gate refused: exit 3.
type refusedError struct{ msg string }

func (e refusedError) Error() string { return e.msg }

// failedError means the command ran but some hosts failed or are unhealthy: exit 1. Its
// details were already printed.
var errSomeFailed = errors.New("some hosts failed")

// stdio is where a command reads and writes, so tests can run the CLI in-process.
type stdio struct {
	in       io.Reader
	out, err io.Writer
	env      func(string) string
	// outTTY and errTTY say whether stdout/stderr are terminals (progress and colour only
	// go to terminals).
	outTTY, errTTY bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	io := stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr, env: os.Getenv,
		outTTY: isTerminal(os.Stdout), errTTY: isTerminal(os.Stderr)}
	os.Exit(run(ctx, os.Args[1:], io))
}

const usageText = `opsconsole — a terminal operations console for on-call engineers

usage:
  opsconsole                          the console (TUI)
  opsconsole hosts   [-H PATTERN]     list the inventory as resolved
  opsconsole check   [-H PATTERN]     health of the fleet now
  opsconsole exec    [-H PATTERN] [--group] [--yes|--dry-run] -- COMMAND...
  opsconsole logs    [-H PATTERN] [--source NAME] [--follow] [--grep RE] [--duration D]
  opsconsole run     RUNBOOK [-H PATTERN] [--var k=v]... [--reason TEXT] [--yes|--dry-run]
  opsconsole audit   [--since D] [--id ID]   read the audit log (torn lines, interrupted runs)
  opsconsole heal    [-H PATTERN] [--yes|--dry-run]   run the automatic self-heal rules once (cron)
  opsconsole query   PROMQL [--range 1h --step 30s]   ask the configured Prometheus

common flags (before or after the command):
  --config FILE  --inventory FILE  --format text|json|jsonl  --concurrency N
  --timeout D    --read-only       --theme NAME              --no-color

host patterns: web-*, tag:db, group:prod, comma lists, !name to exclude
exit codes: 0 ok; 1 some hosts failed or unhealthy; 2 usage or config error;
            3 refused (needs --yes, or read-only); 130 interrupted
`

// run is the whole program behind main; it returns the exit code.
func run(ctx context.Context, args []string, io stdio) int {
	var err error
	args = hoistCommon(args)
	sub := ""
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "", "tui", "console":
		err = runTUI(ctx, args, io)
	case "hosts":
		err = runHosts(ctx, args, io)
	case "check":
		err = runCheck(ctx, args, io)
	case "exec":
		err = runExec(ctx, args, io)
	case "run":
		err = runRun(ctx, args, io)
	case "query":
		err = runQuery(ctx, args, io)
	case "logs":
		err = runLogs(ctx, args, io)
	case "heal":
		err = runHeal(ctx, args, io)
	case "audit":
		err = runAudit(ctx, args, io)
	case "help", "-h", "--help":
		fmt.Fprint(io.out, usageText)
		return exitOK
	default:
		if len(sub) > 0 && sub[0] == '-' {
			// Flags before any subcommand belong to the console.
			err = runTUI(ctx, append([]string{sub}, args...), io)
			break
		}
		err = usagef("unknown command %q (try: opsconsole help)", sub)
	}
	return exitCode(ctx, err, io)
}

// subcommands are the words run dispatches on (the console's own aliases included).
var subcommands = map[string]bool{"tui": true, "console": true, "hosts": true, "check": true,
	"exec": true, "run": true, "query": true, "logs": true, "heal": true, "audit": true}

// hoistCommon moves common flags typed before the subcommand to after it, so
// `opsconsole --config f.toml logs -f` means `opsconsole logs --config f.toml -f`, as
// people type it from habit with other tools. Anything else before the first word (a
// console-only flag, a misspelling) leaves args as they are: flags before no subcommand
// are the console's, and its parser says what is wrong.
func hoistCommon(args []string) []string {
	var lead []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") {
			if subcommands[a] {
				return append(append([]string{a}, lead...), args[i+1:]...)
			}
			return args
		}
		name, _, inline := strings.Cut(strings.TrimLeft(a, "-"), "=")
		boolean, ok := commonFlags()[name]
		if !ok {
			return args
		}
		lead = append(lead, a)
		if !boolean && !inline {
			if i+1 == len(args) {
				return args
			}
			i++
			lead = append(lead, args[i])
		}
	}
	return args
}

// commonFlags names the common flags, each with whether it is boolean (takes no value),
// read off the one place they are declared.
var commonFlags = sync.OnceValue(func() map[string]bool {
	fs := flag.NewFlagSet("common", flag.ContinueOnError)
	(&common{}).register(fs)
	m := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) {
		b, ok := f.Value.(interface{ IsBoolFlag() bool })
		m[f.Name] = ok && b.IsBoolFlag()
	})
	return m
})

func exitCode(ctx context.Context, err error, io stdio) int {
	if err == nil {
		return exitOK
	}
	if ctx.Err() != nil {
		fmt.Fprintln(io.err, "opsconsole: interrupted")
		return exitInterrupted
	}
	var ue usageError
	var re refusedError
	var ce configError
	switch {
	case errors.Is(err, errSomeFailed):
		return exitFailed
	case errors.As(err, &ue), errors.As(err, &ce):
		fmt.Fprintln(io.err, "opsconsole:", err)
		return exitUsage
	case errors.As(err, &re):
		fmt.Fprintln(io.err, "opsconsole:", err)
		return exitRefused
	}
	fmt.Fprintln(io.err, "opsconsole:", err)
	return exitFailed
}
