package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/opsconsole/opsconsole/config"
)

type hostJSON struct {
	Name      string   `json:"name"`
	Address   string   `json:"address"`
	Port      int      `json:"port,omitempty"`
	User      string   `json:"user,omitempty"`
	Transport string   `json:"transport"`
	Tags      []string `json:"tags,omitempty"`
	Groups    []string `json:"groups,omitempty"`
	ProxyJump string   `json:"proxy_jump,omitempty"`
	Source    string   `json:"source,omitempty"`
}

func runHosts(ctx context.Context, args []string, io stdio) error {
	var c common
	fs := flag.NewFlagSet("hosts", flag.ContinueOnError)
	c.register(fs)
	pos, _, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		if c.hosts != "" {
			return usagef("hosts: unexpected argument %q", pos[0])
		}
		c.hosts = strings.Join(pos, ",")
	}
	if err := c.checkFormat("text", "json", "jsonl"); err != nil {
		return err
	}
	cfg, err := c.load(io)
	if err != nil {
		return err
	}
	hs, err := c.selectHosts(cfg)
	if err != nil {
		return err
	}
	switch c.format {
	case "json":
		out := make([]hostJSON, 0, len(hs))
		for _, h := range hs {
			out = append(out, toHostJSON(h))
		}
		return writeJSON(io, out)
	case "jsonl":
		enc := json.NewEncoder(io.out)
		for _, h := range hs {
			if err := enc.Encode(toHostJSON(h)); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(io.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tADDRESS\tUSER\tTRANSPORT\tTAGS\tGROUPS\tVIA")
	for _, h := range hs {
		addr := h.Address
		if h.Transport != config.TransportLocal && h.Port != 0 && h.Port != 22 {
			addr = fmt.Sprintf("%s:%d", h.Address, h.Port)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", h.Name, addr, dash(h.User), h.Transport,
			dash(strings.Join(h.Tags, ",")), dash(strings.Join(h.Groups, ",")), dash(h.ProxyJump))
	}
	return tw.Flush()
}

func toHostJSON(h config.Host) hostJSON {
	return hostJSON{Name: h.Name, Address: h.Address, Port: h.Port, User: h.User, Transport: h.Transport,
		Tags: h.Tags, Groups: h.Groups, ProxyJump: h.ProxyJump, Source: h.Source}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func writeJSON(io stdio, v any) error {
	enc := json.NewEncoder(io.out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
