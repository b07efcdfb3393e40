package keymap

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
)

// Error is one problem with a [keys] override. Name is the override's name as the
// config wrote it ("logs.folow"), so the config loader can point at its position.
type Error struct {
	Name string
	Msg  string
}

func (e *Error) Error() string { return e.Name + ": " + e.Msg }

// Overrides turns the config's decoded [keys] table into Apply's input. It accepts what
// users naturally write in TOML: quoted names ("logs.follow" = ["F"]), dotted keys
// (logs.follow = "F") or sub-tables ([keys.logs]), and a single key as a string.
func Overrides(raw map[string]any) (map[string][]string, error) {
	out := map[string][]string{}
	var errs []error
	var flatten func(prefix string, m map[string]any)
	flatten = func(prefix string, m map[string]any) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			switch v := m[k].(type) {
			case map[string]any:
				flatten(name, v)
			case string:
				out[name] = []string{v}
			case []string:
				out[name] = slices.Clone(v)
			case []any:
				keys := make([]string, 0, len(v))
				for i, item := range v {
					s, ok := item.(string)
					if !ok {
						errs = append(errs, &Error{Name: name, Msg: fmt.Sprintf("item %d is %T; keys are strings such as \"ctrl+d\"", i, item)})
						continue
					}
					keys = append(keys, s)
				}
				out[name] = keys
			default:
				errs = append(errs, &Error{Name: name, Msg: fmt.Sprintf("want a key or a list of keys (e.g. [\"j\", \"down\"]), not %T", v)})
			}
		}
	}
	flatten("", raw)
	return out, errors.Join(errs...)
}

// Apply rebinds by name: each override replaces all keys of that binding (an empty list
// unbinds it), and its help shows the new keys. An override of a shared binding
// (nav.up) moves it in every pane.
//
// Unknown names, keys Bubble Tea never reports, and two bindings that would share a key
// within a pane (including the global keys) are errors; every problem is returned,
// each an *Error joined with errors.Join, and on any error m is left unchanged.
func (m *Map) Apply(overrides map[string][]string) error {
	next := *m // bindings are values; SetKeys replaces slices, never edits them in place
	es := next.entries()
	byName := map[string][]entry{}
	for _, e := range es {
		byName[e.name] = append(byName[e.name], e)
	}

	var errs []*Error
	overridden := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(overrides)) {
		copies, ok := byName[name]
		if !ok {
			msg := fmt.Sprintf("unknown key binding %q", name)
			if near := nearestName(name, Names()); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			}
			errs = append(errs, &Error{Name: name, Msg: msg})
			continue
		}
		keys, err := normalizeKeys(overrides[name])
		if err != nil {
			errs = append(errs, &Error{Name: name, Msg: err.Error()})
			continue
		}
		overridden[name] = true
		if len(keys) == 0 {
			keys = nil // key.Binding treats only nil keys as unbound
		}
		for _, e := range copies {
			e.b.SetKeys(keys...)
			e.b.SetHelp(helpKeys(keys), e.b.Help().Desc)
		}
	}
	errs = append(errs, conflicts(es, overridden)...)
	if len(errs) > 0 {
		sort.SliceStable(errs, func(i, j int) bool { return errs[i].Name < errs[j].Name })
		all := make([]error, len(errs))
		for i, e := range errs {
			all[i] = e
		}
		return errors.Join(all...)
	}
	*m = next
	return nil
}

// Conflicts reports bindings of m that share a key within a pane. Default has none; a
// test keeps it that way.
func (m Map) Conflicts() error {
	errs := conflicts(m.entries(), nil)
	all := make([]error, len(errs))
	for i, e := range errs {
		all[i] = e
	}
	return errors.Join(all...)
}

// conflicts finds keys bound twice within one pane's reach. The error is filed under
// the overridden side, so the config loader points at the line the user wrote.
func conflicts(es []entry, overridden map[string]bool) []*Error {
	var errs []*Error
	seen := map[[3]string]bool{}
	byPane := panes(es)
	for _, pane := range slices.Sorted(maps.Keys(byPane)) {
		owner := map[string]entry{} // key -> first binding holding it
		for _, e := range byPane[pane] {
			for _, k := range e.b.Keys() {
				first, taken := owner[k]
				if !taken {
					owner[k] = e
					continue
				}
				if first.name == e.name {
					continue
				}
				a, b := first, e
				if !overridden[a.name] && overridden[b.name] || (overridden[a.name] == overridden[b.name] && b.name < a.name) {
					a, b = b, a
				}
				id := [3]string{a.name, b.name, k}
				if seen[id] {
					continue // a global or shared binding meets the same one in many panes
				}
				seen[id] = true
				where := "in the " + pane + " pane"
				switch {
				case pane == ScopeConfirm:
					where = "in the confirm dialog"
				case a.pane == ScopeGlobal || b.pane == ScopeGlobal:
					where = "(global keys work in every pane)"
				}
				errs = append(errs, &Error{Name: a.name, Msg: fmt.Sprintf(
					"key %q is also bound to %s %s; rebind or unbind one of them",
					helpKey(k), b.name, where)})
			}
		}
	}
	return errs
}

// keyAliases are names people write for keys that Bubble Tea spells differently.
var keyAliases = map[string]string{
	"space":    " ",
	"escape":   "esc",
	"return":   "enter",
	"pageup":   "pgup",
	"pagedown": "pgdown",
	"pgdn":     "pgdown",
	"del":      "delete",
	"ins":      "insert",
}

// teaKeyNames are the names Bubble Tea v1 gives non-rune keys in KeyMsg.String(),
// collected from tea.KeyType so they follow the library rather than a copy of it.
var teaKeyNames = sync.OnceValue(func() []string {
	var names []string
	for k := tea.KeyType(-256); k < 256; k++ {
		if s := k.String(); s != "" && s != "runes" && !slices.Contains(names, s) {
			names = append(names, s)
		}
	}
	slices.Sort(names)
	return names
})

// normalizeKeys checks that every key is one Bubble Tea can report (a binding on
// "ctlr+d" would silently never fire), resolves aliases and drops duplicates.
func normalizeKeys(keys []string) ([]string, error) {
	out := []string{}
	var errs []string
	for _, k := range keys {
		n, err := normalizeKey(k)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if len(errs) > 0 {
		return nil, errors.New(strings.Join(errs, "; "))
	}
	return out, nil
}

func normalizeKey(k string) (string, error) {
	if utf8.RuneCountInString(k) == 1 {
		r, _ := utf8.DecodeRuneInString(k)
		if unicode.IsPrint(r) {
			return k, nil
		}
		return "", fmt.Errorf("key %q is a control character; write its name, e.g. \"tab\" or \"ctrl+a\"", k)
	}
	if rest, ok := strings.CutPrefix(strings.ToLower(k), "alt+"); ok && rest != "" {
		// alt+ keeps the case of a letter: alt+G and alt+g are different keys.
		inner, err := normalizeKey(k[len("alt+"):])
		if err != nil {
			return "", err
		}
		return "alt+" + inner, nil
	}
	lower := strings.ToLower(k)
	if a, ok := keyAliases[lower]; ok {
		return a, nil
	}
	if slices.Contains(teaKeyNames(), lower) {
		return lower, nil
	}
	if rest, ok := strings.CutPrefix(lower, "shift+"); ok && utf8.RuneCountInString(rest) == 1 {
		return "", fmt.Errorf("unknown key %q: for a shifted letter write the capital, e.g. %q", k, strings.ToUpper(rest))
	}
	msg := fmt.Sprintf("unknown key %q", k)
	if near := nearest(lower, append(teaKeyNames(), slices.Collect(maps.Keys(keyAliases))...)); near != "" {
		if canonical, ok := keyAliases[near]; ok {
			near = canonical
		}
		msg += fmt.Sprintf(" (did you mean %q?)", helpKey(near))
	}
	return "", errors.New(msg + "; keys are single characters or names such as \"ctrl+d\", \"pgdown\", \"shift+tab\", \"space\"")
}

// nearestName suggests a binding for a mistyped name. A bare action ("follow"), one put
// in the wrong scope ("logs.up") or a shortened one ("rerun") is matched by its action
// when only one binding fits; otherwise the closest name by edit distance.
func nearestName(name string, names []string) string {
	action := func(n string) string { return n[strings.LastIndex(n, ".")+1:] }
	last := action(name)
	for _, fits := range []func(string) bool{
		func(a string) bool { return a == last },
		func(a string) bool { return strings.HasPrefix(a, last) },
	} {
		var found []string
		for _, n := range names {
			if fits(action(n)) {
				found = append(found, n)
			}
		}
		if len(found) == 1 {
			return found[0]
		}
	}
	return nearest(name, names)
}

// nearest returns the candidate closest to s by edit distance, or "" when nothing is
// close enough to be a plausible typo.
func nearest(s string, candidates []string) string {
	best, bestD := "", len(s)/2+2
	for _, c := range slices.Sorted(slices.Values(candidates)) {
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
