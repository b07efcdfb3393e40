#!/bin/sh
# fakesvc.sh DIR ACTION [ARG]: a stand-in for a service on a test host, for runbook tests.
#
# On a loopback test fleet every "host" is this machine, so each host gets its own DIR
# (…/host-001/) holding the service's state; tests read those files to see what a runbook
# did, and did not do, to each host. Every action appends a line to DIR/actions.log.
#
#   configure VALUE  write DIR/config (keeping the old one for unconfigure)
#   unconfigure      restore the previous DIR/config
#   restart VERSION  "restart" into VERSION, keeping the previous version for rollback
#   check            healthy unless DIR/fail-check exists; prints the running version
#   rollback         go back to the version before the last restart
#   block            touch DIR/started, then wait for DIR/../release (which tests never
#                    create unless they want the step to finish)
set -eu
dir=$1
action=$2
log="$dir/actions.log"

case "$action" in
configure)
	cp "$dir/config" "$dir/config.prev" 2>/dev/null || : >"$dir/config.prev"
	printf '%s\n' "$3" >"$dir/config"
	echo "configure $3" >>"$log"
	;;
unconfigure)
	mv "$dir/config.prev" "$dir/config"
	echo "unconfigure" >>"$log"
	;;
restart)
	prev=$(cat "$dir/version" 2>/dev/null || echo none)
	printf '%s\n' "$prev" >"$dir/version.prev"
	printf '%s\n' "$3" >"$dir/version"
	echo "restart $3" >>"$log"
	echo "restarted $3 (was $prev)"
	;;
check)
	echo "check" >>"$log"
	if [ -e "$dir/fail-check" ]; then
		echo "health check failed: $(cat "$dir/version") is not answering" >&2
		exit 1
	fi
	echo "healthy $(cat "$dir/version")"
	;;
rollback)
	prev=$(cat "$dir/version.prev")
	printf '%s\n' "$prev" >"$dir/version"
	echo "rollback $prev" >>"$log"
	;;
block)
	: >"$dir/started"
	while [ ! -e "$dir/../release" ]; do sleep 0.05; done
	echo "released" >>"$log"
	;;
*)
	echo "fakesvc: unknown action $action" >&2
	exit 2
	;;
esac
