package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestImportAnsibleINI(t *testing.T) {
	f, err := os.Open(filepath.Join(fixtures, "inventory.ini"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hosts, err := ImportAnsibleINI(f, "inventory.ini")
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		name, addr, user string
		port             int
		transport        string
		groups           string
		source           string
	}
	var got []row
	for _, h := range hosts {
		got = append(got, row{h.Name, h.Address, h.User, h.Port, h.Transport, strings.Join(h.Groups, ","), h.Source})
	}
	want := []row{
		// Ungrouped, with only [all:vars].
		{"mail.example.com", "", "ops", 0, "ssh", "", "inventory.ini:2"},
		// A range; host vars beat [all:vars]; :children makes web hosts members of prod.
		{"web01.example.com", "", "deploy", 0, "ssh", "web,prod", "inventory.ini:5"},
		{"web02.example.com", "", "deploy", 0, "ssh", "web,prod", "inventory.ini:5"},
		{"web03.example.com", "", "deploy", 0, "ssh", "web,prod", "inventory.ini:5"},
		// NAME:PORT and ansible_host.
		{"web-canary.example.com", "10.0.0.99", "ops", 2222, "ssh", "web,prod", "inventory.ini:6"},
		// Letter range; [db:vars] beats [all:vars], and "key = value" is accepted.
		{"db-a.example.com", "", "postgres", 2200, "ssh", "db,prod", "inventory.ini:9"},
		{"db-b.example.com", "", "postgres", 2200, "ssh", "db,prod", "inventory.ini:9"},
		// Host vars beat group vars.
		{"db-c.example.com", "", "postgres", 5433, "ssh", "db,prod", "inventory.ini:10"},
		{"control", "", "ops", 0, "local", "local", "inventory.ini:25"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hosts:\n%v\nwant:\n%v", got, want)
	}
	if id := hosts[0].IdentityFiles; len(id) != 1 || id[0] != "~/.ssh/ansible_key" {
		t.Errorf("IdentityFiles = %v, want the private key file as written", id)
	}
}

func TestAnsibleINIDetails(t *testing.T) {
	tests := []struct {
		name, src string
		want      string // "name@port/user[groups]" per host, space-separated
	}{
		{"stride and padding", "h[001:010:4]\n", "h001@0/[] h005@0/[] h009@0/[]"},
		{"two ranges", "r[1:2]-[a:b]\n", "r1-a@0/[] r1-b@0/[] r2-a@0/[] r2-b@0/[]"},
		{"host in two groups keeps first position", "[a]\nx\n[b]\nx ansible_user=u\n", "x@0/u[a b]"},
		{"nested children and deeper vars win",
			"[leaf]\nh\n[mid:children]\nleaf\n[top:children]\nmid\n[top:vars]\nansible_port=1\n[mid:vars]\nansible_port=2\n",
			"h@2/[leaf mid top]"},
		{"children cycle terminates", "[a]\nh\n[a:children]\nb\n[b:children]\na\n", "h@0/[a b]"},
		{"quotes and comments", "h ansible_user=\"o p\" # note\n; whole-line comment\n", "h@0/o p[]"},
		{"all section", "[all]\nh\n", "h@0/[]"},
		{"ipv6 without port", "fe80::1\n", "fe80::1@0/[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hosts, err := ImportAnsibleINI(strings.NewReader(tt.src), "inv")
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, h := range hosts {
				got = append(got, h.Name+"@"+strconv.Itoa(h.Port)+"/"+h.User+"["+strings.Join(h.Groups, " ")+"]")
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("got  %s\nwant %s", strings.Join(got, " "), tt.want)
			}
		})
	}
}

func TestAnsibleINIErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"malformed host var", "[web]\nw1 ansible_port=22\nw2 stray\n", `inv:3: host w2: expected key=value, got "stray"`},
		{"bad header", "\n[web\n", `inv:2: malformed section header "[web"`},
		{"unknown section kind", "[web:hosts2]\n", `inv:1: unknown section kind "hosts2" (want vars or children)`},
		{"bad port", "[db]\nd1\n[db:vars]\nansible_port=99999\n", `inv:4: host d1: ansible_port "99999": must be 1-65535`},
		{"bad range", "w[3:1]\n", `inv:1: host "w[3:1]": range [3:1]: start after end`},
		{"unequal padding", "w[01:100]\n", `inv:1: host "w[01:100]": range [01:100]: zero-padded start and end must have the same width`},
		{"huge range", "w[0:9999999]\n", `inv:1: host "w[0:9999999]": range [0:9999999] expands to more than 65536 hosts`},
		{"vars without equals", "[all:vars]\njust_a_word\n", `inv:2: expected key=value in [all:vars], got "just_a_word"`},
		{"unterminated quote", "h ansible_user='x\n", `inv:1: unterminated ' quote`},
		{"unsupported connection", "h ansible_connection=docker\n", `inv:1: host h: ansible_connection "docker" is not supported (ssh, local, winrm)`},
		{"every error reported", "a b\nc d\n[x\n", "inv:1: host a: expected key=value, got \"b\"\ninv:2: host c: expected key=value, got \"d\"\ninv:3: malformed section header \"[x\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ImportAnsibleINI(strings.NewReader(tt.src), "inv")
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v\nwant  %s", err, tt.want)
			}
		})
	}
}
