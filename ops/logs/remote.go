package logs

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// The remote side of a file stream is one shell command on the host's connection:
//
//  1. it measures the file (wc -c) and, when resuming, checks that the bytes just before
//     the offset reached are still the bytes we delivered there, which tells an unchanged
//     file from one rotated or truncated while the stream was down;
//  2. it prints a header line saying where it starts and why;
//  3. it execs `tail -c +START -F` with stderr joined to stdout.
//
// Joining stderr keeps tail's own notices ("has been replaced;  following new file",
// "file truncated") in order with the data: they are the points where the byte offset
// goes back to 0. Counting the bytes received after the header then gives the offset of
// every line exactly, and a reconnect starts tail at the byte after the last complete line
// delivered: nothing lost, nothing repeated.
//
// Hosts need a POSIX shell and GNU or busybox tail (for -F); LC_ALL=C keeps tail's
// notices in the English we recognise.

// headerPrefix starts the header line; the record separator cannot begin a line of shell
// start-up noise, which is skipped until the header.
const headerPrefix = "\x1eopsconsole-logs "

// checkBytes is how many bytes before the resume offset are compared: the end of the
// last line delivered, which carries a time stamp or a sequence in any real log.
const checkBytes = 64

// Header results.
const (
	resNew  = "new"  // first run: start at the backlog
	resOK   = "ok"   // resumed at the offset
	resGap  = "gap"  // the file changed while we were away: start at 0
	resGone = "gone" // the file does not exist now
	resOnce = "once" // not following: a one-off read
	resCmd  = "cmd"  // a command source
)

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+,:@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// quotePath quotes a path, leaving a leading ~/ to the remote shell as "$HOME"/.
func quotePath(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		return `"$HOME"/` + shellQuote(rest)
	}
	return shellQuote(p)
}

// followScript follows path from a position. With resume false it is a first run that
// starts backlog lines back (BacklogAll: the whole file; 0: the end), reading a window of
// window bytes in which the engine keeps the last lines. With resume true it resumes at
// offset, provided the file still holds want (the bytes before offset).
func followScript(path string, backlog int, window int64, resume bool, offset int64, want []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, `LC_ALL=C; export LC_ALL; f=%s; s=$(wc -c 2>/dev/null <"$f") || s=-1; s=$((s)); `, quotePath(path))
	switch {
	case !resume && backlog == BacklogAll:
		b.WriteString(`st=0; r=new; `)
	case !resume && backlog == 0:
		b.WriteString(`st=$s; [ "$st" -lt 0 ] && st=0; r=new; `)
	case !resume:
		fmt.Fprintf(&b, `st=$((s-%d)); [ "$st" -lt 0 ] && st=0; r=new; `, window)
	case offset == 0:
		b.WriteString(`st=0; r=ok; [ "$s" -lt 0 ] && r=gone; `)
	default:
		fmt.Fprintf(&b, `o=%d; st=0; if [ "$s" -lt 0 ]; then r=gone; elif [ "$s" -lt "$o" ]; then r=gap; `+
			`elif [ "$(tail -c +%d -- "$f" 2>/dev/null | head -c %d | od -An -v -tx1 | tr -d ' \n')" = %s ]; then r=ok; st=$o; `+
			`else r=gap; fi; `, offset, offset-int64(len(want))+1, len(want), hex.EncodeToString(want))
	}
	// The path comes last in the header: tail names the file by its expanded path in
	// its notices, and the path may hold spaces.
	fmt.Fprintf(&b, `printf '%sfile %%s %%s %%s %%s\n' "$s" "$st" "$r" "$f"; exec tail -c +$((st+1)) -F -- "$f" 2>&1`,
		`\036opsconsole-logs `)
	return b.String()
}

// onceScript prints the last lines of path (BacklogAll: all of it) and exits; stderr
// stays apart, to say why when it fails.
func onceScript(path string, lines int) string {
	read := `exec cat -- "$f"`
	if lines != BacklogAll {
		read = `exec tail -n ` + strconv.Itoa(lines) + ` -- "$f"`
	}
	return fmt.Sprintf(`LC_ALL=C; export LC_ALL; f=%s; printf '\036opsconsole-logs once - - once %%s\n' "$f"; %s`, quotePath(path), read)
}

// commandScript runs a command source with its stderr joined to its stdout (docker logs
// writes the container's stderr there: it is log too).
func commandScript(cmd string) string {
	return `printf '\036opsconsole-logs cmd\n'; exec 2>&1; ` + cmd
}

// journalResume adds --after-cursor to a plain journalctl command (no pipes or lists),
// so that a restarted journal stream resumes exactly after the last entry delivered.
func journalResume(cmd, cursor string) (string, bool) {
	if cursor == "" || !strings.HasPrefix(strings.TrimSpace(cmd), "journalctl ") || strings.ContainsAny(cmd, "|;&`$()<>\n") {
		return cmd, false
	}
	return cmd + " --after-cursor=" + shellQuote(cursor), true
}

// header is the parsed header line.
type header struct {
	size, start int64
	result      string
	path        string
}

func parseHeader(line string) (header, bool) {
	rest, ok := strings.CutPrefix(line, headerPrefix)
	if !ok {
		return header{}, false
	}
	kind, rest, _ := strings.Cut(rest, " ")
	if kind == "cmd" {
		return header{result: resCmd}, true
	}
	parts := strings.SplitN(rest, " ", 4)
	if len(parts) < 3 {
		return header{}, false
	}
	h := header{result: parts[2]}
	h.size, _ = strconv.ParseInt(parts[0], 10, 64)
	h.start, _ = strconv.ParseInt(parts[1], 10, 64)
	if parts[0] == "-" {
		h.size = -1
	}
	if len(parts) == 4 {
		h.path = parts[3]
	}
	return h, true
}

// diagKind is what a notice of tail -F says.
type diagKind int

const (
	diagNone      diagKind = iota
	diagReplaced           // "has been replaced;  following new file"
	diagAppeared           // "has appeared;  following new file"
	diagTruncated          // "file truncated"
	diagGone               // "has become inaccessible: …"
	diagOther              // any other notice naming the file, or about inotify
)

// tailNotice recognises a notice of GNU tail about name in line. A notice follows the
// data already written, so when the file ended without a newline the notice is glued
// to that last partial line: content is then the partial line, to deliver before it.
// Only notices naming our file (as tail quotes it) count, so that a log line which
// merely starts with "tail: " is not taken for one.
func tailNotice(line, name string) (content string, kind diagKind, notice string) {
	i := strings.Index(line, "tail: ")
	if i < 0 {
		return line, diagNone, ""
	}
	forms := [2]string{"'" + name + "'", name}
	for _, f := range forms {
		if f == "" || f == "''" {
			continue
		}
		j := strings.LastIndex(line, "tail: "+f)
		if j < 0 {
			continue
		}
		rest := line[j+len("tail: ")+len(f):]
		k := diagNone
		switch {
		case rest == " has been replaced;  following new file":
			k = diagReplaced
		case rest == " has appeared;  following new file":
			k = diagAppeared
		case rest == ": file truncated":
			k = diagTruncated
		case strings.HasPrefix(rest, " has become inaccessible"):
			k = diagGone
		case j == 0 && (strings.HasPrefix(rest, ":") || strings.HasPrefix(rest, " ")):
			k = diagOther
		}
		if k != diagNone {
			return line[:j], k, line[j:]
		}
	}
	if i == 0 {
		// Notices that name the file after a verb, and inotify's.
		for _, f := range forms {
			if f != "" && f != "''" && (strings.HasPrefix(line, "tail: cannot open "+f) || strings.HasPrefix(line, "tail: error reading "+f)) {
				return "", diagOther, line
			}
		}
		if strings.HasPrefix(line, "tail: inotify") || line == "tail: no files remaining" {
			return "", diagOther, line
		}
	}
	return line, diagNone, ""
}
