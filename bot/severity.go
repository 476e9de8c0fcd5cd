package bot

import (
	"fmt"
	"strconv"
	"strings"
)

// Priority says how urgently a severity pages: high priority wakes people up,
// low priority waits for business hours.
type Priority string

// Priorities.
const (
	PriorityHigh Priority = "high"
	PriorityLow  Priority = "low"
)

// Valid reports whether p is a known priority.
func (p Priority) Valid() bool { return p == PriorityHigh || p == PriorityLow }

// Severity is one level of a severity scale. Level 1 is the most severe.
// Incidents keep a copy of their severity, so editing the scale later does not
// rewrite history.
type Severity struct {
	Level    int      `json:"level"`
	Name     string   `json:"name"`  // "SEV1"
	Label    string   `json:"label"` // "critical"
	Priority Priority `json:"priority"`
}

// String returns the severity's name, e.g. "SEV1".
func (s Severity) String() string { return s.Name }

// IsZero reports whether s is unset.
func (s Severity) IsZero() bool { return s.Name == "" }

// Severities is a configured severity scale, most severe first.
type Severities []Severity

// DefaultSeverities is the scale klaxon uses unless configured otherwise.
func DefaultSeverities() Severities {
	return Severities{
		{Level: 1, Name: "SEV1", Label: "critical", Priority: PriorityHigh},
		{Level: 2, Name: "SEV2", Label: "major", Priority: PriorityHigh},
		{Level: 3, Name: "SEV3", Label: "minor", Priority: PriorityLow},
		{Level: 4, Name: "SEV4", Label: "low", Priority: PriorityLow},
	}
}

// Validate checks that the scale is usable: at least one level, unique names
// and labels, levels 1..n in order, known priorities.
func (ss Severities) Validate() error {
	if len(ss) == 0 {
		return fmt.Errorf("at least one severity is required")
	}
	seen := map[string]bool{}
	for i, s := range ss {
		switch {
		case strings.TrimSpace(s.Name) == "":
			return fmt.Errorf("[%d].name: must not be empty", i)
		case strings.ContainsAny(s.Name, " \t\n:"):
			return fmt.Errorf("[%d].name: %q must not contain spaces or colons", i, s.Name)
		case s.Level != i+1:
			return fmt.Errorf("[%d].level: is %d, want %d (levels count up from 1, most severe first)", i, s.Level, i+1)
		case !s.Priority.Valid():
			return fmt.Errorf("[%d].priority: %q is not one of high, low", i, s.Priority)
		}
		for _, key := range []string{strings.ToLower(s.Name), strings.ToLower(s.Label)} {
			if key == "" {
				continue
			}
			if seen[key] {
				return fmt.Errorf("[%d]: %q is used twice", i, key)
			}
			seen[key] = true
		}
	}
	return nil
}

// Default returns the least severe level, used when a declaration names none.
func (ss Severities) Default() Severity { return ss[len(ss)-1] }

// Parse finds a severity by level number ("1"), name ("SEV1", "sev1") or
// label ("critical"), ignoring case.
func (ss Severities) Parse(s string) (Severity, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		for _, sev := range ss {
			if sev.Level == n {
				return sev, nil
			}
		}
	}
	for _, sev := range ss {
		if strings.EqualFold(s, sev.Name) || (sev.Label != "" && strings.EqualFold(s, sev.Label)) {
			return sev, nil
		}
	}
	return Severity{}, Errorf(EINVALID, "%q is not a severity. Use one of: %s.", s, ss.Names())
}

// Names lists the scale as "SEV1 (critical), SEV2 (major), …".
func (ss Severities) Names() string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = s.Name
		if s.Label != "" {
			parts[i] += " (" + s.Label + ")"
		}
	}
	return strings.Join(parts, ", ")
}
