// Package policies embeds the policy presets shipped with auditpack, so that
// a configuration can name one as "builtin:NAME" without a copy of the file.
package policies

import "embed"

// FS contains the presets, one NAME.yaml file each.
//
//go:embed *.yaml
var FS embed.FS
