package config

import (
	"slices"
	"strings"
)

// IsReadOnlyCommand reports whether cmd may run without confirmation: every stage of its
// pipeline must start with the words of an entry in list ("systemctl status" matches
// "systemctl status nginx"), and nothing may chain, redirect or substitute (;, &, &&, ||,
// >, <, $(…), backticks, newlines, unquoted braces). Quoting is honoured, so grep 'a|b' is one argument.
// Some listed commands change the system with the right arguments (date -s, hostname
// NAME, dmesg -c, ip addr add, mount DEV DIR…); those arguments make it not read-only
// whatever the list says. Anything the parser is unsure of counts as not read-only.
func IsReadOnlyCommand(cmd string, list []string) bool {
	stages, ok := splitPipeline(cmd)
	if !ok || len(stages) == 0 {
		return false
	}
	for _, words := range stages {
		if !stageReadOnly(words, list) {
			return false
		}
	}
	return true
}

func stageReadOnly(words []string, list []string) bool {
	matched := false
	for _, entry := range list {
		prefix := strings.Fields(entry)
		if len(prefix) > 0 && len(prefix) <= len(words) && slices.Equal(prefix, words[:len(prefix)]) {
			matched = true
			break
		}
	}
	if !matched {
		return false
	}
	if guard, ok := mutatingArgs[words[0]]; ok && guard(words[1:]) {
		return false
	}
	return true
}

// splitPipeline splits a shell command into the words of each pipeline stage, the way sh
// would for the subset it accepts, and reports false on anything outside that subset.
func splitPipeline(cmd string) ([][]string, bool) {
	var (
		stages [][]string
		words  []string
		word   strings.Builder
		inWord bool
	)
	endWord := func() {
		if inWord {
			words = append(words, word.String())
			word.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch c {
		case ' ', '\t':
			endWord()
		case '|':
			endWord()
			if len(words) == 0 || strings.HasPrefix(cmd[i+1:], "|") {
				return nil, false
			}
			stages = append(stages, words)
			words = nil
		case ';', '&', '>', '<', '(', ')', '`', '\n', '\r', '{', '}':
			// Braces too: bash expands {rm,-rf,/} into a command of its own.
			return nil, false
		case '$':
			if strings.HasPrefix(cmd[i+1:], "(") {
				return nil, false
			}
			word.WriteByte(c)
			inWord = true
		case '\\':
			if i+1 >= len(cmd) || cmd[i+1] == '\n' {
				return nil, false
			}
			i++
			word.WriteByte(cmd[i])
			inWord = true
		case '\'':
			end := strings.IndexByte(cmd[i+1:], '\'')
			if end < 0 {
				return nil, false
			}
			word.WriteString(cmd[i+1 : i+1+end])
			inWord = true
			i += end + 1
		case '"':
			n, ok := doubleQuoted(cmd[i+1:], &word)
			if !ok {
				return nil, false
			}
			inWord = true
			i += n + 1
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	endWord()
	if len(words) == 0 {
		// An empty command, or a pipe with nothing after it.
		return nil, false
	}
	return append(stages, words), true
}

// doubleQuoted copies the body of a "…" string into w and returns the bytes consumed up
// to and including the closing quote, refusing command substitution inside it.
func doubleQuoted(s string, w *strings.Builder) (int, bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return i + 1, true
		case '`':
			return 0, false
		case '$':
			if strings.HasPrefix(s[i+1:], "(") {
				return 0, false
			}
			w.WriteByte(c)
		case '\\':
			if i+1 < len(s) && strings.IndexByte("$`\"\\", s[i+1]) >= 0 {
				i++
			}
			w.WriteByte(s[i])
		default:
			w.WriteByte(c)
		}
	}
	return 0, false
}

// mutatingArgs knows, for commands in the default list that can also change the system,
// which arguments do so. Each guard reports true when the arguments might mutate.
var mutatingArgs = map[string]func(args []string) bool{
	"date": func(args []string) bool {
		// date -s/--set and a bare MMDDhhmm operand set the clock; +FORMAT only prints.
		for i := 0; i < len(args); i++ {
			a := args[i]
			switch {
			case a == "--date" || a == "--file" || a == "--reference":
				i++
			case strings.HasPrefix(a, "--set"):
				return true
			case strings.HasPrefix(a, "--") || strings.HasPrefix(a, "+"):
			case strings.HasPrefix(a, "-") && len(a) > 1:
				for j := 1; j < len(a); j++ {
					switch a[j] {
					case 's':
						return true
					case 'd', 'f', 'r':
						// The option's value is the rest of the word, or the next word.
						if j == len(a)-1 {
							i++
						}
						j = len(a)
					case 'I':
						j = len(a)
					}
				}
			default:
				return true
			}
		}
		return false
	},
	"hostname": func(args []string) bool {
		// An operand or -F/--file sets the name; allow only the reporting flags.
		for _, a := range args {
			switch a {
			case "-s", "--short", "-f", "--fqdn", "--long", "-d", "--domain", "-i",
				"--ip-address", "-I", "--all-ip-addresses", "-A", "--all-fqdns", "-a",
				"--alias", "-y", "--yp", "--nis":
			default:
				return true
			}
		}
		return false
	},
	"dmesg": func(args []string) bool {
		for _, a := range args {
			if shortFlag(a, "cCDEn") || strings.HasPrefix(a, "--clear") ||
				strings.HasPrefix(a, "--read-clear") || strings.HasPrefix(a, "--console") {
				return true
			}
		}
		return false
	},
	"journalctl": func(args []string) bool {
		for _, a := range args {
			for _, bad := range []string{"--vacuum", "--rotate", "--flush", "--sync",
				"--relinquish-var", "--smart-relinquish-var", "--setup-keys", "--update-catalog"} {
				if strings.HasPrefix(a, bad) {
					return true
				}
			}
		}
		return false
	},
	"ss": func(args []string) bool {
		// -K kills sockets; -D dumps raw data into a file.
		for _, a := range args {
			if shortFlag(a, "KD") || strings.HasPrefix(a, "--kill") || strings.HasPrefix(a, "--diag") {
				return true
			}
		}
		return false
	},
	"ip": func(args []string) bool {
		// ip addr / ip route: only listing subcommands.
		if len(args) < 2 || strings.HasPrefix(args[1], "-") {
			return false
		}
		switch args[1] {
		case "show", "sh", "s", "list", "lst", "ls", "l", "get", "g":
			return false
		}
		return true
	},
	"mount": func(args []string) bool {
		// With operands (or -a) mount mounts; alone, or with -l, it lists.
		for _, a := range args {
			if a != "-l" {
				return true
			}
		}
		return false
	},
}

// shortFlag reports whether a is a cluster of short options (-xyz) containing any of set.
func shortFlag(a, set string) bool {
	return len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.ContainsAny(a[1:], set)
}
