package keymap

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/charmbracelet/bubbles/key"
)

// entry is one copy of a binding inside a Map. Shared bindings (nav.*, list.*) have one
// entry per pane that embeds them, all with the same name.
type entry struct {
	name      string // "logs.follow"
	pane      string // the Map scope the copy lives in: "logs", "global", "confirm"...
	dangerous bool
	b         *key.Binding
}

var bindingType = reflect.TypeFor[key.Binding]()

// entries lists every binding in m, in declaration order, by walking the keymap struct
// tags. Reflection keeps each name next to its field, so adding a binding is one line
// and cannot be forgotten in a second table.
func (m *Map) entries() []entry {
	var out []entry
	v := reflect.ValueOf(m).Elem()
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		scope, _, ok := tag(f)
		if !ok {
			continue
		}
		out = walk(out, v.Field(i), scope, scope)
	}
	return out
}

func walk(out []entry, v reflect.Value, scope, pane string) []entry {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, dangerous, ok := tag(f)
		if !ok {
			continue
		}
		switch {
		case f.Type == bindingType:
			out = append(out, entry{
				name:      scope + "." + name,
				pane:      pane,
				dangerous: dangerous,
				b:         v.Field(i).Addr().Interface().(*key.Binding),
			})
		case f.Type.Kind() == reflect.Struct:
			// An embedded Nav or List brings its own scope but stays in this pane.
			out = walk(out, v.Field(i), name, pane)
		default:
			panic(fmt.Sprintf("keymap: field %s.%s has a keymap tag but is neither a binding nor a group", t.Name(), f.Name))
		}
	}
	return out
}

// tag reads `keymap:"name[,dangerous]"`.
func tag(f reflect.StructField) (name string, dangerous, ok bool) {
	s, ok := f.Tag.Lookup("keymap")
	if !ok {
		return "", false, false
	}
	name, opt, _ := strings.Cut(s, ",")
	return name, opt == "dangerous", true
}

// catalogue describes the default map once: names in declaration order and which are
// dangerous. Names are the same for every Map, so package functions answer from it.
var catalogue = sync.OnceValues(func() ([]string, map[string]bool) {
	m := Default()
	var names []string
	dangerous := map[string]bool{}
	for _, e := range m.entries() {
		if !slices.Contains(names, e.name) {
			names = append(names, e.name)
		}
		if e.dangerous {
			dangerous[e.name] = true
		}
	}
	return names, dangerous
})

// Names returns every binding name, in the order the structs declare them: the
// vocabulary of the config's [keys] table.
func Names() []string {
	names, _ := catalogue()
	return slices.Clone(names)
}

// Dangerous returns the names of the bindings that change hosts, which read-only mode
// disables, sorted.
func Dangerous() []string {
	_, d := catalogue()
	out := make([]string, 0, len(d))
	for name := range d {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// IsDangerous reports whether the binding called name changes hosts.
func IsDangerous(name string) bool {
	_, d := catalogue()
	return d[name]
}

// Lookup returns the binding called name as it is in m.
func (m Map) Lookup(name string) (key.Binding, bool) {
	for _, e := range m.entries() {
		if e.name == name {
			return *e.b, true
		}
	}
	return key.Binding{}, false
}

// panes lists the scopes conflicts are checked in, each with the bindings active there.
func panes(es []entry) map[string][]entry {
	out := map[string][]entry{}
	var global []entry
	for _, e := range es {
		if e.pane == ScopeGlobal {
			global = append(global, e)
		}
	}
	for _, e := range es {
		switch e.pane {
		case ScopeGlobal:
		case ScopeConfirm:
			// The confirm modal has the keys first and alone, so shadowing a global key
			// (esc for both "back" and "no") is intended, not a conflict.
			out[e.pane] = append(out[e.pane], e)
		default:
			if _, seen := out[e.pane]; !seen {
				out[e.pane] = slices.Clone(global)
			}
			out[e.pane] = append(out[e.pane], e)
		}
	}
	return out
}
