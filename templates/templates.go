// Package templates holds the text templates klaxon renders, embedded in
// the binary. Operators can override them with templates.dir.
package templates

import "embed"

// FS holds the default templates.
//
//go:embed *.tmpl
var FS embed.FS
