package config

import (
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	inv := []Host{
		{Name: "web-1", Tags: []string{"web", "prod"}, Groups: []string{"frontend"}},
		{Name: "web-2", Tags: []string{"web", "prod"}, Groups: []string{"frontend"}},
		{Name: "web-canary", Tags: []string{"web"}},
		{Name: "db-1", Tags: []string{"db", "prod"}, Groups: []string{"backend"}},
		{Name: "db-2", Tags: []string{"db"}, Groups: []string{"backend"}},
		{Name: "bastion"},
	}
	tests := []struct {
		pattern string
		want    string // names, space-separated
		err     string
	}{
		{pattern: "", want: "web-1 web-2 web-canary db-1 db-2 bastion"},
		{pattern: "all", want: "web-1 web-2 web-canary db-1 db-2 bastion"},
		{pattern: "*", want: "web-1 web-2 web-canary db-1 db-2 bastion"},
		{pattern: "web-*", want: "web-1 web-2 web-canary"},
		{pattern: "db-[12]", want: "db-1 db-2"},
		{pattern: "web-?", want: "web-1 web-2"},
		{pattern: "tag:db", want: "db-1 db-2"},
		{pattern: "group:frontend", want: "web-1 web-2"},
		{pattern: "tag:pr*", want: "web-1 web-2 db-1"},
		// Inventory order and no duplicates, whatever the term order.
		{pattern: "db-1, web-1, tag:prod", want: "web-1 web-2 db-1"},
		{pattern: "tag:web,!web-canary", want: "web-1 web-2"},
		{pattern: "!tag:prod", want: "web-canary db-2 bastion"},
		{pattern: "!group:backend,!bastion", want: "web-1 web-2 web-canary"},
		{pattern: "tag:prod,!tag:db", want: "web-1 web-2"},
		{pattern: ",web-1,,", want: "web-1"},
		{pattern: "tag:nope", err: `pattern "tag:nope" matches no host`},
		{pattern: "web-1,!nosuch", err: `pattern "!nosuch" matches no host`},
		{pattern: "group:", err: `pattern "group:": empty group`},
		{pattern: "web-[", err: `pattern "web-[": syntax error in pattern`},
		{pattern: "web-1,!web-1", err: `pattern "web-1,!web-1" selects no host`},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			got, err := Resolve(inv, tt.pattern)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err = %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, h := range got {
				names = append(names, h.Name)
			}
			if strings.Join(names, " ") != tt.want {
				t.Errorf("got %v, want %s", names, tt.want)
			}
		})
	}
}
