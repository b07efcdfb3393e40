package config

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Error is one configuration problem, positioned so that an editor can jump to it.
// Line and Col are 0 when unknown (Col is unknown for line-oriented formats such as
// Ansible INI); Key is the dotted path of the offending key, e.g. "hosts[2].port".
type Error struct {
	File      string
	Line, Col int
	Key       string
	Msg       string
}

// Error reads like "config.toml:12:3: hosts[2].port: must be 1-65535".
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
			if e.Col > 0 {
				b.WriteString(":" + strconv.Itoa(e.Col))
			}
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

func newError(file string, line, col int, key, format string, args ...any) *Error {
	return &Error{File: file, Line: line, Col: col, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// ErrorList is every problem found in one load, sorted by file and position, so that a
// user fixes a config in one pass instead of one error per run.
type ErrorList []*Error

// Error lists one problem per line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find each *Error.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// sorted orders the errors by position, files in the order given (the order they were
// read), and returns nil when there are none so that callers can return it as an error.
func (l ErrorList) sorted(files []string) error {
	if len(l) == 0 {
		return nil
	}
	rank := func(f string) int {
		if i := slices.Index(files, f); i >= 0 {
			return i
		}
		return len(files)
	}
	slices.SortStableFunc(l, func(a, b *Error) int {
		if c := rank(a.File) - rank(b.File); c != 0 {
			return c
		}
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		if c := a.Line - b.Line; c != 0 {
			return c
		}
		return a.Col - b.Col
	})
	return l
}

// add appends err, flattening lists and giving plain errors the file they came from.
func (l *ErrorList) add(file string, err error) {
	if err == nil {
		return
	}
	var list ErrorList
	var one *Error
	switch {
	case errors.As(err, &list):
		*l = append(*l, list...)
	case errors.As(err, &one):
		*l = append(*l, one)
	default:
		*l = append(*l, &Error{File: file, Msg: err.Error()})
	}
}

// tomlError turns a toml syntax error into a positioned *Error.
func tomlError(file string, err error) *Error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &Error{File: file, Line: pe.Position.Line, Col: pe.Position.Col, Msg: pe.Message}
	}
	return &Error{File: file, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
}
