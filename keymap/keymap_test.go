package keymap

import (
	"errors"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// press builds the KeyMsg Bubble Tea v1 delivers for a key as bindings spell it.
func press(t *testing.T, k string) tea.KeyMsg {
	t.Helper()
	if k == " " {
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	}
	if r := []rune(k); len(r) == 1 {
		return tea.KeyMsg{Type: tea.KeyRunes, Runes: r}
	}
	for kt := tea.KeyType(-256); kt < 256; kt++ {
		if kt.String() == k {
			return tea.KeyMsg{Type: kt}
		}
	}
	t.Fatalf("no KeyMsg for %q", k)
	return tea.KeyMsg{}
}

func TestDefaultHasNoConflicts(t *testing.T) {
	if err := Default().Conflicts(); err != nil {
		t.Fatal(err)
	}
}

func TestDefaultBindings(t *testing.T) {
	m := Default()
	nameRE := regexp.MustCompile(`^[a-z]+\.[a-z0-9_]+$`)
	for _, e := range m.entries() {
		if !nameRE.MatchString(e.name) {
			t.Errorf("binding name %q is not scope.action", e.name)
		}
		if len(e.b.Keys()) == 0 || !e.b.Enabled() {
			t.Errorf("%s has no keys by default", e.name)
		}
		for _, k := range e.b.Keys() {
			// Every default key is one Bubble Tea reports, in the form it reports it.
			if n, err := normalizeKey(k); err != nil || n != k {
				t.Errorf("%s: key %q normalizes to %q, %v", e.name, k, n, err)
			}
			// And a press of it matches: the binding really fires.
			if !key.Matches(press(t, k), *e.b) {
				t.Errorf("%s: pressing %q does not match", e.name, k)
			}
		}
		if h := e.b.Help(); h.Key != helpKeys(e.b.Keys()) || h.Desc == "" {
			t.Errorf("%s: help %+v does not show keys %q", e.name, h, e.b.Keys())
		}
	}

	// The keys on-call engineers expect from other tools.
	want := map[string][]string{
		"nav.up": {"up", "k"}, "nav.down": {"down", "j"},
		"nav.page_up": {"pgup", "ctrl+u"}, "nav.page_down": {"pgdown", "ctrl+d"},
		"nav.top": {"home", "g"}, "nav.bottom": {"end", "G"},
		"global.pane1": {"1"}, "global.pane5": {"5"}, "global.pane6": {"6"},
		"global.next_pane": {"tab"}, "global.prev_pane": {"shift+tab"},
		"global.help": {"?"}, "global.palette": {":"}, "global.filter": {"/"},
		"global.back": {"esc"}, "global.quit": {"q", "ctrl+c"},
	}
	for name, keys := range want {
		b, ok := m.Lookup(name)
		if !ok || !slices.Equal(b.Keys(), keys) {
			t.Errorf("%s = %q, want %q", name, b.Keys(), keys)
		}
	}
}

// Every key.Binding reachable in Map must carry a name; walk would skip an untagged one
// and it could then never be configured.
func TestEveryBindingIsNamed(t *testing.T) {
	var count func(reflect.Type) int
	count = func(t reflect.Type) int {
		n := 0
		for i := range t.NumField() {
			switch f := t.Field(i); {
			case f.Type == bindingType:
				n++
			case f.Type.Kind() == reflect.Struct:
				n += count(f.Type)
			}
		}
		return n
	}
	m := Default()
	if got, want := len(m.entries()), count(reflect.TypeFor[Map]()); got != want {
		t.Errorf("%d bindings have names, %d exist", got, want)
	}
	// Names are unique within a pane.
	seen := map[[2]string]bool{}
	for _, e := range m.entries() {
		id := [2]string{e.pane, e.name}
		if seen[id] {
			t.Errorf("%s appears twice in pane %s", e.name, e.pane)
		}
		seen[id] = true
	}
}

func TestDangerous(t *testing.T) {
	want := []string{
		"exec.rerun_failed", "exec.run", "incidents.run_suggestion",
		"rollouts.abort", "rollouts.promote", "rollouts.resume", "rollouts.rollback",
	}
	if got := Dangerous(); !slices.Equal(got, want) {
		t.Errorf("Dangerous() = %q, want %q", got, want)
	}
	if !IsDangerous("rollouts.abort") || IsDangerous("rollouts.pause") || IsDangerous("nope") {
		t.Error("IsDangerous disagrees with the tags")
	}
}

func TestApplyRebinds(t *testing.T) {
	m := Default()
	if err := m.Apply(map[string][]string{"logs.follow": {"F", "space"}}); err == nil {
		t.Fatal("space conflicts with logs.pause; want an error")
	}
	if err := m.Apply(map[string][]string{"logs.follow": {"F", "ctrl+f"}}); err != nil {
		t.Fatal(err)
	}
	if got := m.Logs.Follow.Keys(); !slices.Equal(got, []string{"F", "ctrl+f"}) {
		t.Errorf("keys = %q", got)
	}
	if h := m.Logs.Follow.Help(); h.Key != "F/ctrl+f" || h.Desc != "follow" {
		t.Errorf("help = %+v, want the new keys with the old description", h)
	}
	if !key.Matches(press(t, "F"), m.Logs.Follow) || key.Matches(press(t, "f"), m.Logs.Follow) {
		t.Error("the override does not take effect on key presses")
	}
	if b, _ := m.Lookup("logs.follow"); !slices.Equal(b.Keys(), m.Logs.Follow.Keys()) {
		t.Error("Lookup does not see the override")
	}
}

// A shared binding moves in every pane that embeds it.
func TestApplySharedBinding(t *testing.T) {
	m := Default()
	if err := m.Apply(map[string][]string{"nav.up": {"up", "ctrl+p"}}); err != nil {
		t.Fatal(err)
	}
	for pane, b := range map[string]key.Binding{
		"fleet": m.Fleet.Up, "exec": m.Exec.Up, "logs": m.Logs.Up,
		"rollouts": m.Rollouts.Up, "incidents": m.Incidents.Up,
	} {
		if !slices.Equal(b.Keys(), []string{"up", "ctrl+p"}) || b.Help().Key != "↑/ctrl+p" {
			t.Errorf("%s: nav.up = %q (%q)", pane, b.Keys(), b.Help().Key)
		}
	}
}

func TestApplyUnknownName(t *testing.T) {
	cases := map[string]string{
		"logs.folow":   `logs.folow: unknown key binding "logs.folow" (did you mean "logs.follow"?)`,
		"logs.up":      `logs.up: unknown key binding "logs.up" (did you mean "nav.up"?)`,
		"rerun":        `rerun: unknown key binding "rerun" (did you mean "exec.rerun_failed"?)`,
		"global.quiet": `global.quiet: unknown key binding "global.quiet" (did you mean "global.quit"?)`,
		"zzz.zzz":      `zzz.zzz: unknown key binding "zzz.zzz"`,
	}
	for name, want := range cases {
		m := Default()
		err := m.Apply(map[string][]string{name: {"F"}})
		if err == nil || err.Error() != want {
			t.Errorf("Apply(%s):\n got %v\nwant %s", name, err, want)
		}
		var ke *Error
		if !errors.As(err, &ke) || ke.Name != name {
			t.Errorf("Apply(%s): want an *Error naming it, got %#v", name, err)
		}
	}
}

func TestApplyConflicts(t *testing.T) {
	cases := []struct {
		overrides map[string][]string
		want      []string
	}{
		{map[string][]string{"logs.search": {"f"}},
			[]string{`logs.search: key "f" is also bound to logs.follow in the logs pane`}},
		{map[string][]string{"fleet.detail": {"?"}},
			[]string{`fleet.detail: key "?" is also bound to global.help (global keys work in every pane)`}},
		// A global key meets a shared binding in five panes: one error, not five.
		{map[string][]string{"global.palette": {"j"}},
			[]string{`global.palette: key "j" is also bound to nav.down`}},
		{map[string][]string{"confirm.yes": {"n"}},
			[]string{`confirm.yes: key "n" is also bound to confirm.no in the confirm dialog`}},
		// Both sides overridden: reported once, under the first name.
		{map[string][]string{"exec.cancel": {"z"}, "exec.edit_hosts": {"z"}},
			[]string{`exec.cancel: key "z" is also bound to exec.edit_hosts in the exec pane`}},
	}
	for _, tc := range cases {
		m := Default()
		err := m.Apply(tc.overrides)
		if err == nil {
			t.Errorf("Apply(%v): no error", tc.overrides)
			continue
		}
		errs := err.(interface{ Unwrap() []error }).Unwrap()
		if len(errs) != len(tc.want) {
			t.Errorf("Apply(%v): %d errors, want %d:\n%v", tc.overrides, len(errs), len(tc.want), err)
			continue
		}
		for i, w := range tc.want {
			if !strings.HasPrefix(errs[i].Error(), w) {
				t.Errorf("Apply(%v):\n got %v\nwant %s…", tc.overrides, errs[i], w)
			}
		}
		// A failed Apply changes nothing.
		if !reflect.DeepEqual(m, Default()) {
			t.Errorf("Apply(%v) failed but changed the map", tc.overrides)
		}
	}
	// Confirm may shadow global keys: the dialog has the keys first.
	m := Default()
	if err := m.Apply(map[string][]string{"confirm.no": {"q", "esc"}}); err != nil {
		t.Errorf("confirm shadowing a global key: %v", err)
	}
}

func TestApplyUnbind(t *testing.T) {
	m := Default()
	// Unbinding one side and taking its key for another is one consistent change.
	err := m.Apply(map[string][]string{"logs.follow": {}, "logs.search": {"f"}, "exec.rerun_failed": nil})
	if err != nil {
		t.Fatal(err)
	}
	if m.Logs.Follow.Enabled() || len(m.Logs.Follow.Keys()) != 0 || m.Exec.RerunFailed.Enabled() {
		t.Error("unbound bindings are still enabled")
	}
	if m.Logs.Follow.Help().Desc != "follow" {
		t.Error("unbinding lost the description; a later rebind would have no help")
	}
	if key.Matches(press(t, "f"), m.Logs.Follow) || !key.Matches(press(t, "f"), m.Logs.Search) {
		t.Error("f should search, not follow")
	}
	h := help.New()
	h.Width = 0
	if out := h.FullHelpView(m.Exec.FullHelp()); strings.Contains(out, "rerun failed") {
		t.Errorf("an unbound binding shows in help:\n%s", out)
	}
	// Rebinding later brings it back with its description.
	if err := m.Apply(map[string][]string{"logs.follow": {"F"}}); err != nil {
		t.Fatal(err)
	}
	if h := m.Logs.Follow.Help(); !m.Logs.Follow.Enabled() || h.Key != "F" || h.Desc != "follow" {
		t.Errorf("rebound: enabled=%v help=%+v", m.Logs.Follow.Enabled(), h)
	}
}

func TestApplyKeySpelling(t *testing.T) {
	m := Default()
	err := m.Apply(map[string][]string{
		"logs.save":   {"Ctrl+O", "ctrl+o"}, // case folded, duplicate dropped
		"fleet.mark":  {"space"},            // alias
		"logs.wrap":   {"alt+W"},            // alt keeps the letter's case
		"global.back": {"escape"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		b    key.Binding
		keys []string
		help string
	}{
		{m.Logs.Save, []string{"ctrl+o"}, "ctrl+o"},
		{m.Fleet.Mark, []string{" "}, "space"},
		{m.Logs.Wrap, []string{"alt+W"}, "alt+W"},
		{m.Global.Back, []string{"esc"}, "esc"},
	} {
		if !slices.Equal(c.b.Keys(), c.keys) || c.b.Help().Key != c.help {
			t.Errorf("%s: keys %q help %q, want %q %q", c.b.Help().Desc, c.b.Keys(), c.b.Help().Key, c.keys, c.help)
		}
	}

	bad := map[string]string{
		"ctlr+d":  `unknown key "ctlr+d" (did you mean "ctrl+d"?)`,
		"shift+g": `for a shifted letter write the capital, e.g. "G"`,
		"pgdwn":   `did you mean "pgdown"?`,
		"jk":      `unknown key "jk"`,
		"\t":      `is a control character`,
	}
	for k, want := range bad {
		m := Default()
		err := m.Apply(map[string][]string{"logs.save": {k}})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("key %q: got %v, want …%s…", k, err, want)
		}
	}
}

func TestReadOnly(t *testing.T) {
	m := Default()
	m.SetReadOnly(true)
	if !m.ReadOnly() {
		t.Fatal("ReadOnly() = false after SetReadOnly(true)")
	}
	for _, e := range m.entries() {
		if e.b.Enabled() == e.dangerous {
			t.Errorf("%s: enabled=%v in read-only mode (dangerous=%v)", e.name, e.b.Enabled(), e.dangerous)
		}
	}
	if key.Matches(press(t, "R"), m.Exec.Run) {
		t.Error("exec.run still fires in read-only mode")
	}

	reason, ok := m.DisabledReasonIn(ScopeExec, press(t, "R"))
	if !ok || reason != "read-only mode: exec.run is disabled" {
		t.Errorf("DisabledReasonIn(exec, R) = %q, %v", reason, ok)
	}
	reason, ok = m.DisabledReasonIn(ScopeRollouts, press(t, "A"))
	if !ok || reason != "read-only mode: rollouts.abort is disabled" {
		t.Errorf("DisabledReasonIn(rollouts, A) = %q, %v", reason, ok)
	}
	// Pausing a rollout stays possible: it stops change, it does not make it.
	if _, ok := m.DisabledReasonIn(ScopeRollouts, press(t, "p")); ok || !key.Matches(press(t, "p"), m.Rollouts.Pause) {
		t.Error("rollouts.pause must stay enabled in read-only mode")
	}
	// R means nothing in the fleet pane, so there is nothing to explain.
	if reason, ok := m.DisabledReasonIn(ScopeFleet, press(t, "R")); ok {
		t.Errorf("DisabledReasonIn(fleet, R) = %q", reason)
	}
	// Over all panes, every disabled binding on the key is named.
	reason, ok = m.DisabledReason(press(t, "R"))
	if !ok || reason != "read-only mode: exec.run, rollouts.resume, incidents.run_suggestion are disabled" {
		t.Errorf("DisabledReason(R) = %q, %v", reason, ok)
	}
	// Overrides keep working in read-only mode, and the reason follows the new key.
	if err := m.Apply(map[string][]string{"exec.run": {"ctrl+r"}}); err != nil {
		t.Fatal(err)
	}
	if reason, ok := m.DisabledReasonIn(ScopeExec, press(t, "ctrl+r")); !ok || !strings.Contains(reason, "exec.run") {
		t.Errorf("after rebinding: %q, %v", reason, ok)
	}

	// Help leaves the disabled keys out.
	out := help.New().ShortHelpView(WithGlobal(m.Global, m.Rollouts).ShortHelp())
	if strings.Contains(out, "abort") || !strings.Contains(out, "pause rollout") {
		t.Errorf("read-only rollouts help:\n%s", out)
	}

	m.SetReadOnly(false)
	if !m.Exec.Run.Enabled() || !m.Rollouts.Abort.Enabled() {
		t.Error("SetReadOnly(false) did not re-enable dangerous bindings")
	}
	if _, ok := m.DisabledReason(press(t, "R")); ok {
		t.Error("DisabledReason answers outside read-only mode")
	}

	// Read-only does not resurrect an unbound binding when lifted.
	m = Default()
	if err := m.Apply(map[string][]string{"rollouts.abort": {}}); err != nil {
		t.Fatal(err)
	}
	m.SetReadOnly(true)
	m.SetReadOnly(false)
	if m.Rollouts.Abort.Enabled() {
		t.Error("an unbound binding came back after read-only mode")
	}
}

func TestHelpReflectsOverrides(t *testing.T) {
	m := Default()
	if err := m.Apply(map[string][]string{"logs.follow": {"F"}, "global.help": {"f1"}}); err != nil {
		t.Fatal(err)
	}
	h := help.New()
	short := h.ShortHelpView(WithGlobal(m.Global, m.Logs).ShortHelp())
	for _, want := range []string{"F follow", "f1 help", "q/ctrl+c quit"} {
		if !strings.Contains(short, want) {
			t.Errorf("short help lacks %q:\n%s", want, short)
		}
	}
	full := h.FullHelpView(WithGlobal(m.Global, m.Logs).FullHelp())
	for _, want := range []string{"↑/k", "move up", "F", "follow", "ctrl+s", "save to file", "1", "fleet"} {
		if !strings.Contains(full, want) {
			t.Errorf("full help lacks %q:\n%s", want, full)
		}
	}
	if strings.Contains(full, "f follow") {
		t.Errorf("full help still shows the old key:\n%s", full)
	}
}

// Every pane's help lists each of its own bindings somewhere in FullHelp.
func TestFullHelpCoversEveryBinding(t *testing.T) {
	m := Default()
	maps := map[string]help.KeyMap{
		ScopeGlobal: m.Global, ScopeFleet: m.Fleet, ScopeExec: m.Exec, ScopeLogs: m.Logs,
		ScopeRollouts: m.Rollouts, ScopeIncidents: m.Incidents, ScopeQuery: m.Query, ScopeConfirm: m.Confirm,
	}
	for _, e := range m.entries() {
		found := false
		for _, col := range maps[e.pane].FullHelp() {
			for _, b := range col {
				if b.Help() == e.b.Help() && slices.Equal(b.Keys(), e.b.Keys()) {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("%s (%s pane) is missing from FullHelp", e.name, e.pane)
		}
	}
}

func TestOverridesFromTOML(t *testing.T) {
	var cfg struct {
		Keys map[string]any `toml:"keys"`
	}
	if _, err := toml.DecodeFile(filepath.Join("..", "testdata", "keymap", "keys.toml"), &cfg); err != nil {
		t.Fatal(err)
	}
	got, err := Overrides(cfg.Keys)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"global.help":       {"f1"},
		"logs.follow":       {"F", "ctrl+f"},
		"exec.rerun_failed": {},
		"nav.up":            {"up", "k", "ctrl+p"},
		"nav.down":          {"down", "j", "ctrl+n"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Overrides = %#v\nwant %#v", got, want)
	}
	m := Default()
	if err := m.Apply(got); err != nil {
		t.Fatal(err)
	}
	if !key.Matches(press(t, "ctrl+p"), m.Fleet.Up) || m.Exec.RerunFailed.Enabled() {
		t.Error("the TOML overrides did not take effect")
	}

	_, err = Overrides(map[string]any{"logs": map[string]any{"follow": int64(3), "pause": []any{"p", true}}})
	if err == nil || !strings.Contains(err.Error(), "logs.follow: want a key or a list of keys") ||
		!strings.Contains(err.Error(), "logs.pause: item 1 is bool") {
		t.Errorf("bad TOML values: %v", err)
	}
}

func TestNamesAreStable(t *testing.T) {
	names := Names()
	if len(names) == 0 || names[0] != "global.quit" {
		t.Fatalf("Names() = %q", names)
	}
	for _, n := range []string{"global.quit", "logs.follow", "exec.rerun_failed", "nav.page_down", "list.sort_reverse", "rollouts.abort", "confirm.yes"} {
		if !slices.Contains(names, n) {
			t.Errorf("Names() lacks %q", n)
		}
	}
	names[0] = "changed"
	if Names()[0] != "global.quit" {
		t.Error("Names() returns shared state")
	}
}
