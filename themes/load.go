package themes

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	"github.com/charmbracelet/lipgloss"
)

// Built-in theme names.
const (
	Dark         = "dark"
	Light        = "light"
	HighContrast = "high-contrast"
	NoColor      = "no-color"
	Auto         = "auto"
)

//go:embed builtin/*.toml
var builtinFS embed.FS

// builtins parses the embedded theme files once. They are part of the program, so a
// broken one is a bug caught by the tests, not a user error to report at run time.
var builtins = sync.OnceValue(func() map[string]Theme {
	out := map[string]Theme{}
	for _, name := range Builtins() {
		path := "builtin/" + name + ".toml"
		src, err := builtinFS.ReadFile(path)
		if err != nil {
			panic(fmt.Sprintf("themes: built-in %s: %v", name, err))
		}
		spec, err := parseFile(src, path)
		if err != nil {
			panic(fmt.Sprintf("themes: built-in %s: %v", name, err))
		}
		if spec.inherit != "" {
			panic(fmt.Sprintf("themes: built-in %s must not inherit", name))
		}
		t := Theme{Name: name, Source: "built-in"}
		spec.applyTo(&t)
		if m := t.missing(); len(m) > 0 {
			panic(fmt.Sprintf("themes: built-in %s leaves roles unset: %s", name, strings.Join(m, ", ")))
		}
		out[name] = t
	}
	return out
})

// Builtins returns the names of the built-in themes.
func Builtins() []string {
	return []string{Auto, Dark, Light, HighContrast, NoColor}
}

// BuiltinSource returns the embedded TOML of a built-in theme, the starting point for
// a user theme (e.g. for an "opsconsole theme show dark" command or documentation).
func BuiltinSource(name string) ([]byte, bool) {
	if !slices.Contains(Builtins(), name) {
		return nil, false
	}
	src, err := builtinFS.ReadFile("builtin/" + name + ".toml")
	return src, err == nil
}

// Select picks the theme for a run: the --theme flag wins, then a non-empty NO_COLOR
// environment variable (https://no-color.org), then the theme named in the config file,
// then auto. env is os.Getenv in production; tests pass their own.
func Select(flag, configured string, env func(string) string, userDirs []string) (Theme, error) {
	if env == nil {
		env = os.Getenv
	}
	switch {
	case flag != "":
		t, err := Load(flag, userDirs)
		if err != nil {
			return Theme{}, fmt.Errorf("--theme: %w", err)
		}
		return t, nil
	case env("NO_COLOR") != "":
		return Load(NoColor, nil)
	case configured != "":
		t, err := Load(configured, userDirs)
		if err != nil {
			return Theme{}, fmt.Errorf("config theme: %w", err)
		}
		return t, nil
	}
	return Load(Auto, nil)
}

// Load returns the theme called name: a user theme <dir>/<name>.toml from the first of
// userDirs that has one, else the built-in of that name. A name that ends in ".toml" or
// holds a path separator is read as a file path. A user theme may say inherit = "<name>"
// and override only some roles; a user file named like a built-in may inherit from that
// built-in to adjust it.
//
// Every problem in a theme file is reported at once, each as an *Error naming
// file:line:col, joined with errors.Join.
func Load(name string, userDirs []string) (Theme, error) {
	return load(name, userDirs, nil)
}

// load resolves name, skipping files already on the inherit chain: that is what lets
// dark.toml inherit the built-in dark, and what turns a cycle into an error instead of
// endless recursion.
func load(name string, userDirs []string, chain []string) (Theme, error) {
	if name == "" {
		return Theme{}, errors.New("empty theme name")
	}
	var path, skipped string
	if strings.HasSuffix(name, ".toml") || strings.ContainsRune(name, filepath.Separator) || strings.ContainsRune(name, '/') {
		path = filepath.Clean(name)
		if slices.Contains(chain, path) {
			return Theme{}, cycleError(chain, path)
		}
		name = strings.TrimSuffix(filepath.Base(name), ".toml")
	} else {
		for _, dir := range userDirs {
			p := filepath.Join(dir, name+".toml")
			if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
				continue
			} else if err != nil {
				// An unreadable theme must not quietly fall back to a built-in.
				return Theme{}, fmt.Errorf("theme %s: %w", name, err)
			}
			if slices.Contains(chain, p) {
				skipped = p
				continue
			}
			path = p
			break
		}
	}
	if path == "" {
		if t, ok := builtins()[name]; ok {
			return t, nil
		}
		if skipped != "" {
			return Theme{}, cycleError(chain, skipped)
		}
		msg := fmt.Sprintf("unknown theme %q (built-in: %s", name, strings.Join(Builtins(), ", "))
		if len(userDirs) > 0 {
			msg += "; looked for " + name + ".toml in " + strings.Join(userDirs, ", ")
		}
		if s := nearest(name, Builtins()); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		return Theme{}, errors.New(msg + ")")
	}

	src, err := os.ReadFile(path)
	if err != nil {
		return Theme{}, fmt.Errorf("theme %s: %w", name, err)
	}
	spec, err := parseFile(src, path)
	if err != nil {
		return Theme{}, err
	}
	var t Theme
	if spec.inherit != "" {
		base, err := load(spec.inherit, userDirs, append(chain, path))
		if err != nil {
			return Theme{}, &Error{File: path, Line: spec.inheritPos.line, Col: spec.inheritPos.col,
				Msg: fmt.Sprintf("inherit %q: %v", spec.inherit, err)}
		}
		t = base
		// A user theme says what it is itself; it does not borrow its parent's summary.
		t.Description = ""
	}
	t.Name, t.Source = name, path
	spec.applyTo(&t)
	if m := t.missing(); len(m) > 0 {
		return Theme{}, &Error{File: path, Line: 1, Col: 1, Msg: fmt.Sprintf(
			"theme leaves roles unset: %s (set them, or start the file with inherit = %q to take the rest from a built-in)",
			strings.Join(m, ", "), Dark)}
	}
	return t, nil
}

func cycleError(chain []string, last string) error {
	return fmt.Errorf("inherit cycle: %s -> %s", strings.Join(chain, " -> "), last)
}

// Error is a problem at a position in a theme file.
type Error struct {
	File string
	Line int // 1-based; 0 when the problem has no single place
	Col  int // 1-based
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

type position struct{ line, col int }

// spec is what one theme file says, before it is laid over its parent.
type spec struct {
	inherit     string
	inheritPos  position
	description *string
	colours     map[string]lipgloss.TerminalColor // by role key
	hosts       *[HostColors]lipgloss.TerminalColor
}

func (s spec) applyTo(t *Theme) {
	if s.description != nil {
		t.Description = *s.description
	}
	for key, c := range s.colours {
		r, _ := findRole(key)
		*r.field(t) = c
	}
	if s.hosts != nil {
		t.Hosts = *s.hosts
	}
}

// parseFile decodes and validates one theme file. It reports every problem it finds,
// in file order, so a user fixes a theme in one pass rather than one error per run.
func parseFile(src []byte, file string) (spec, error) {
	s := spec{colours: map[string]lipgloss.TerminalColor{}}
	var raw map[string]any
	md, err := toml.Decode(string(src), &raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return s, &Error{File: file, Line: pe.Position.Line, Col: max(pe.Position.Col, 1), Msg: pe.Message}
		}
		return s, &Error{File: file, Msg: err.Error()}
	}

	var errs []*Error
	fail := func(key toml.Key, format string, args ...any) {
		p := keyPosition(src, key)
		errs = append(errs, &Error{File: file, Line: p.line, Col: p.col, Msg: fmt.Sprintf(format, args...)})
	}
	for _, key := range md.Keys() {
		if len(key) != 1 {
			// Nested keys belong to a role written as a table; parseColour checks them.
			continue
		}
		k := key[0]
		v := raw[k]
		switch k {
		case keyInherit:
			str, ok := v.(string)
			if !ok || str == "" {
				fail(key, "inherit must name a theme, e.g. inherit = %q", Dark)
				continue
			}
			s.inherit, s.inheritPos = str, keyPosition(src, key)
		case keyDescription:
			str, ok := v.(string)
			if !ok {
				fail(key, "description must be a string, not a TOML %s", tomlKind(v))
				continue
			}
			s.description = &str
		case keyHosts:
			hosts, err := parseHosts(v)
			if err != nil {
				fail(key, "hosts: %v", err)
				continue
			}
			s.hosts = hosts
		default:
			if _, ok := findRole(k); !ok {
				msg := fmt.Sprintf("unknown role %q", k)
				if near := nearest(k, fileKeys()); near != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", near)
				}
				fail(key, "%s", msg)
				continue
			}
			if m, ok := v.(map[string]any); ok {
				// Point at the stray key itself: with a [role] table it can be
				// lines below the role's name.
				stray := false
				for _, sub := range slices.Sorted(maps.Keys(m)) {
					if sub != "light" && sub != "dark" {
						fail(append(slices.Clone(key), sub), "%s: unknown key %q in adaptive colour (want light and dark)", k, sub)
						stray = true
					}
				}
				if stray {
					continue
				}
			}
			c, err := parseColour(v)
			if err != nil {
				fail(key, "%s: %v", k, err)
				continue
			}
			s.colours[k] = c
		}
	}
	if len(errs) == 0 {
		return s, nil
	}
	sort.SliceStable(errs, func(i, j int) bool {
		if errs[i].Line != errs[j].Line {
			return errs[i].Line < errs[j].Line
		}
		return errs[i].Col < errs[j].Col
	})
	if len(errs) == 1 {
		return s, errs[0]
	}
	all := make([]error, len(errs))
	for i, e := range errs {
		all[i] = e
	}
	return s, errors.Join(all...)
}

func parseHosts(v any) (*[HostColors]lipgloss.TerminalColor, error) {
	var items []any
	switch v := v.(type) {
	case []any:
		items = v
	case []map[string]any:
		for _, m := range v {
			items = append(items, m)
		}
	default:
		return nil, fmt.Errorf("want an array of %d colours, not a TOML %s", HostColors, tomlKind(v))
	}
	if len(items) != HostColors {
		return nil, fmt.Errorf("want exactly %d colours, got %d", HostColors, len(items))
	}
	var out [HostColors]lipgloss.TerminalColor
	for i, item := range items {
		c, err := parseColour(item)
		if err != nil {
			return nil, fmt.Errorf("[%d]: %w", i, err)
		}
		out[i] = c
	}
	return &out, nil
}

// keyPosition finds where key is written in src. BurntSushi/toml records key positions
// but exposes them only inside a ParseError, so we decode once more into a type whose
// only field, at that key, refuses its value: the error carries the line, and the
// column of the value (or of the key, for keys inside inline tables). The key's own
// column is then found on that line. Only error paths pay for the extra decode.
func keyPosition(src []byte, key toml.Key) position {
	t := reflect.TypeOf(positionProbe{})
	for i := len(key) - 1; i >= 0; i-- {
		t = reflect.StructOf([]reflect.StructField{{
			Name: "F",
			Type: t,
			Tag:  reflect.StructTag("toml:" + strconv.Quote(key[i])),
		}})
	}
	_, err := toml.Decode(string(src), reflect.New(t).Interface())
	var pe toml.ParseError
	if !errors.As(err, &pe) || pe.Message != errPositionProbe.Error() {
		return position{line: 1, col: 1}
	}
	p := position{line: pe.Position.Line, col: max(pe.Position.Col, 1)}
	lines := strings.Split(string(src), "\n")
	if p.line < 1 || p.line > len(lines) {
		return p
	}
	line := lines[p.line-1]
	last := key[len(key)-1]
	// Search up to the reported column plus the key's length: the key sits before its
	// value, or at the reported column itself.
	end := min(len(line), p.col-1+len(last))
	if i := strings.LastIndex(line[:end], last); i >= 0 {
		p.col = i + 1
		if i > 0 && (line[i-1] == '"' || line[i-1] == '\'') {
			p.col = i // point at the opening quote of a quoted key
		}
	}
	return p
}

var errPositionProbe = errors.New("opsconsole theme position probe")

type positionProbe struct{}

func (*positionProbe) UnmarshalTOML(any) error { return errPositionProbe }

// nearest returns the candidate closest to s by edit distance, or "" when nothing is
// close enough to be a plausible typo.
func nearest(s string, candidates []string) string {
	best, bestD := "", len(s)/2+2
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
