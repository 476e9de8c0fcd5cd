package bot

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// IncidentType is a kind of incident with its own defaults and custom
// fields (incidents.types): "security" declared private, paged through
// its own policy and announced in its own channel; "customer" on the
// status page.
type IncidentType struct {
	ID   string // security
	Name string // Security
	// Private declares incidents of the type private unless said
	// otherwise.
	Private bool
	// ChannelPattern names the type's channels; empty: the default.
	ChannelPattern string
	// EscalationPolicy is paged on declaration instead of the service's.
	EscalationPolicy string
	// Announce is the announcement channel per platform; a platform not
	// named here announces as incidents of no type do.
	Announce map[Platform]string
	// StatusPage says whether the type's incidents show on the status
	// page (private ones never do).
	StatusPage bool
	Fields     []CustomField
}

// CustomKind is what a custom field holds.
type CustomKind string

// Custom field kinds.
const (
	CustomText   CustomKind = "text"   // free text, one line, up to MaxCustomText runes
	CustomSelect CustomKind = "select" // one of Options
	CustomUser   CustomKind = "user"   // a person, by mention
)

// MaxCustomText is how long a text field's value may be.
const MaxCustomText = 200

// CustomField is one field an incident type asks for.
type CustomField struct {
	ID       string // customer (what `customer:acme` sets)
	Label    string // Customer
	Kind     CustomKind
	Options  []string // for a select
	Required bool
}

var typeID = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,29}$`)

// Validate checks a type and its fields; reserved are option keys the
// declaration already uses, which a field may not take.
func (t IncidentType) Validate(reserved []string) error {
	if !typeID.MatchString(t.ID) {
		return fmt.Errorf("id: %q must be 1-30 lower-case letters, digits, '-' or '_', starting with a letter", t.ID)
	}
	if strings.TrimSpace(t.Name) == "" {
		return fmt.Errorf("name: must not be empty")
	}
	seen := map[string]bool{}
	for i, f := range t.Fields {
		switch {
		case !typeID.MatchString(f.ID):
			return fmt.Errorf("fields[%d].id: %q must be 1-30 lower-case letters, digits, '-' or '_', starting with a letter", i, f.ID)
		case slices.Contains(reserved, f.ID):
			return fmt.Errorf("fields[%d].id: %q is a declaration option already", i, f.ID)
		case seen[f.ID]:
			return fmt.Errorf("fields[%d].id: %q is used twice", i, f.ID)
		case strings.TrimSpace(f.Label) == "":
			return fmt.Errorf("fields[%d].label: must not be empty", i)
		}
		seen[f.ID] = true
		switch f.Kind {
		case CustomText, CustomUser:
			if len(f.Options) > 0 {
				return fmt.Errorf("fields[%d].options: only a select has options", i)
			}
		case CustomSelect:
			if len(f.Options) == 0 || len(f.Options) > 25 {
				return fmt.Errorf("fields[%d].options: a select needs 1-25 options", i)
			}
			for _, o := range f.Options {
				if strings.TrimSpace(o) == "" || utf8.RuneCountInString(o) > 75 || strings.ContainsAny(o, " \t\n") {
					return fmt.Errorf("fields[%d].options: %q must be 1-75 characters without spaces", i, o)
				}
			}
		default:
			return fmt.Errorf("fields[%d].kind: %q is not one of text, select, user", i, f.Kind)
		}
	}
	return nil
}

// Field returns the type's field id.
func (t IncidentType) Field(id string) (CustomField, bool) {
	i := slices.IndexFunc(t.Fields, func(f CustomField) bool { return f.ID == id })
	if i < 0 {
		return CustomField{}, false
	}
	return t.Fields[i], true
}

// CheckValue checks one value of f and returns it as stored: a select's
// option as configured, a user's id, text on one line.
func (f CustomField) CheckValue(v string) (string, error) {
	v = strings.TrimSpace(v)
	switch f.Kind {
	case CustomSelect:
		for _, o := range f.Options {
			if strings.EqualFold(o, v) {
				return o, nil
			}
		}
		return "", Errorf(EINVALID, "%s must be one of %s.", f.Label, strings.Join(f.Options, ", "))
	case CustomUser:
		u, ok := ParseMention(v)
		if !ok {
			return "", Errorf(EINVALID, "%s must be a person: mention them, e.g. %s:@alice.", f.Label, f.ID)
		}
		return u.ID, nil
	}
	v = OneLine(CleanText(v))
	if n := utf8.RuneCountInString(v); n > MaxCustomText {
		return "", Errorf(EINVALID, "%s is %d characters long; the limit is %d.", f.Label, n, MaxCustomText)
	}
	return v, nil
}

// Show renders a stored value for people: a user as a mention.
func (f CustomField) Show(v string) string {
	if f.Kind == CustomUser && v != "" {
		return User{ID: v}.Mention()
	}
	return v
}

// IncidentTypes is the configured types.
type IncidentTypes []IncidentType

// Get returns the type id (case-insensitive), or false.
func (ts IncidentTypes) Get(id string) (IncidentType, bool) {
	for _, t := range ts {
		if strings.EqualFold(t.ID, id) {
			return t, true
		}
	}
	return IncidentType{}, false
}

// IDs lists the types' ids, in order.
func (ts IncidentTypes) IDs() []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

// TypedField is a custom field with the type that asks for it.
type TypedField struct {
	Type IncidentType
	CustomField
}

// Fields lists every type's custom fields in order, each id once (types
// may share a field; the first type's wins).
func (ts IncidentTypes) Fields() []TypedField {
	var out []TypedField
	for _, t := range ts {
		for _, f := range t.Fields {
			if !slices.ContainsFunc(out, func(o TypedField) bool { return o.ID == f.ID }) {
				out = append(out, TypedField{Type: t, CustomField: f})
			}
		}
	}
	return out
}

// FieldIDs lists every custom field id of every type, once each.
func (ts IncidentTypes) FieldIDs() []string {
	var out []string
	for _, f := range ts.Fields() {
		out = append(out, f.ID)
	}
	return out
}
