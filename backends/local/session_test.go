package local_test

import (
	"github.com/opsconsole/opsconsole/backends/local"
	"github.com/opsconsole/opsconsole/sessions"
)

// The backend may not import sessions (imports point one way), so its conformance to
// the interface is checked from outside.
var _ sessions.Session = (*local.Session)(nil)
