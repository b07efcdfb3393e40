package runbook

import (
	"fmt"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/opsconsole/opsconsole/config"
)

// Data is what a template sees for one host: {{.Host}}, {{.Address}}, {{.User}},
// {{.Port}}, {{.Tags}}, {{.Groups}} and {{.Vars.name}}.
type Data struct {
	Host    string
	Address string
	User    string
	Port    int
	Tags    []string
	Groups  []string
	Vars    map[string]string
}

// DataFor is the template data of one inventory host.
func DataFor(h config.Host, vars map[string]string) Data {
	addr := h.Address
	if addr == "" {
		addr = h.Name
	}
	return Data{Host: h.Name, Address: addr, User: h.User, Port: h.Port, Tags: h.Tags, Groups: h.Groups, Vars: vars}
}

// funcs are the template functions. quote is there because a variable's value goes into
// a shell command line: {{quote .Vars.message}} keeps it one word whatever it holds.
var funcs = template.FuncMap{
	"quote": ShellQuote,
}

// ShellQuote quotes s as one POSIX shell word.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// parseTemplate parses a command template. missingkey=error turns a variable nobody set
// into an error instead of the text "<no value>" in a command line.
func parseTemplate(name, src string) (*template.Template, error) {
	tm, err := template.New(name).Funcs(funcs).Option("missingkey=error").Parse(src)
	if err != nil {
		// The template package prefixes "template: NAME:"; the key already says where.
		msg := strings.TrimPrefix(err.Error(), "template: "+name+":")
		return nil, fmt.Errorf("bad template: line %s", strings.TrimSpace(msg))
	}
	return tm, nil
}

func render(tm *template.Template, d Data) (string, error) {
	if tm == nil {
		return "", nil
	}
	var b strings.Builder
	if err := tm.Execute(&b, d); err != nil {
		msg := err.Error()
		if i := strings.Index(msg, "executing "); i >= 0 {
			msg = msg[i:]
		}
		return "", fmt.Errorf("template: %s", msg)
	}
	return b.String(), nil
}

// varsOf lists the variables a template reads as {{.Vars.name}} (also inside if, range,
// with and pipelines), sorted and unique.
func varsOf(tm *template.Template) []string {
	var out []string
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case nil:
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n == nil {
				return
			}
			for _, c := range n.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.FieldNode:
			if len(n.Ident) >= 2 && n.Ident[0] == "Vars" {
				out = append(out, n.Ident[1])
			}
		case *parse.ChainNode:
			walk(n.Node)
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.TemplateNode:
			walk(n.Pipe)
		}
	}
	for _, t := range tm.Templates() {
		if t.Tree != nil {
			walk(t.Tree.Root)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
