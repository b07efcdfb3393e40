package main

import "context"

// runTUI starts the console. Until the console lands, it shows the health of the fleet
// once, so `opsconsole` with no arguments is useful at once.
func runTUI(ctx context.Context, args []string, io stdio) error {
	return runCheck(ctx, args, io)
}
