package bot

import (
	"fmt"
	"regexp"
	"strings"
)

// Role is a responsibility someone holds during an incident.
type Role string

// Built-in roles. Operators may configure more.
const (
	RoleCommander Role = "commander"
	RoleComms     Role = "comms"
	RoleScribe    Role = "scribe"
)

// DefaultRoles are the roles every klaxon knows.
func DefaultRoles() []Role { return []Role{RoleCommander, RoleComms, RoleScribe} }

var roleName = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// ValidateRoleName checks a custom role name: lower case, starts with a
// letter, at most 32 characters of letters, digits, '-' and '_'.
func ValidateRoleName(name string) error {
	if !roleName.MatchString(name) {
		return fmt.Errorf("%q is not a valid role name (lower-case letters, digits, - and _, at most 32)", name)
	}
	return nil
}

// ParseRole finds role name among known roles, ignoring case. "lead" and "ic"
// are accepted for the commander, as users coming from other tools type them.
func ParseRole(name string, known []Role) (Role, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "lead" || n == "ic" || n == "incident-commander" {
		n = string(RoleCommander)
	}
	for _, r := range known {
		if string(r) == n {
			return r, nil
		}
	}
	names := make([]string, len(known))
	for i, r := range known {
		names[i] = string(r)
	}
	return "", Errorf(EINVALID, "%q is not a role. Use one of: %s.", name, strings.Join(names, ", "))
}
