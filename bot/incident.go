package bot

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Status is where an incident is in its life.
type Status string

// Statuses, in lifecycle order.
const (
	StatusOpen         Status = "open"         // declared, nobody has acknowledged yet
	StatusAcknowledged Status = "acknowledged" // a responder is on it
	StatusMitigated    Status = "mitigated"    // impact stopped, cause may remain
	StatusResolved     Status = "resolved"     // over; the postmortem starts
	StatusClosed       Status = "closed"       // done with, read-only
)

// Active reports whether the incident is still being worked on.
func (s Status) Active() bool {
	return s == StatusOpen || s == StatusAcknowledged || s == StatusMitigated
}

// Emoji is the status's one emoji, used wherever klaxon shows the status
// or announces the change to it (see the README's message style).
func (s Status) Emoji() string {
	switch s {
	case StatusOpen:
		return "🚨"
	case StatusAcknowledged:
		return "👀"
	case StatusMitigated:
		return "🩹"
	case StatusResolved:
		return "✅"
	case StatusClosed:
		return "⚫"
	}
	return "❔"
}

// ChannelRef names a chat channel on the incident's platform.
type ChannelRef struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// IsZero reports whether c is unset.
func (c ChannelRef) IsZero() bool { return c.ID == "" }

// MessageRef names one chat message.
type MessageRef struct {
	Channel string `json:"channel"`
	ID      string `json:"id"`
}

// IsZero reports whether r is unset.
func (r MessageRef) IsZero() bool { return r.ID == "" }

// Limits on what people may type. Slack's own limits are larger; these keep
// titles readable in a channel topic and a phone notification.
const (
	MaxTitleRunes = 150
	MaxTextRunes  = 3000
)

// Incident is one declared incident.
type Incident struct {
	ID      uuid.UUID `json:"id"`     // UUIDv7, time-ordered
	Number  int64     `json:"number"` // human number, the 42 of INC-42
	Title   string    `json:"title"`
	Summary string    `json:"summary,omitempty"`
	// Resolution is what fixed it, as given when it was resolved; a
	// reopen clears it. It never replaces the summary.
	Resolution string   `json:"resolution,omitempty"`
	Severity   Severity `json:"severity"`
	Status     Status   `json:"status"`
	Service    string   `json:"service,omitempty"`
	Private    bool     `json:"private,omitempty"`
	// Unlisted keeps an incident declared from an alert off the public
	// status page until a person posts a public update (or its route
	// lists it): a flood of raw alerts must not become a public outage.
	Unlisted bool `json:"unlisted,omitempty"`
	// AlertGroups counts the alert groups an alert storm incident took in.
	AlertGroups int `json:"alert_groups,omitempty"`
	// Alerts is what the timeline last says of each alert (NoteAlert): a
	// source sending an alert again unchanged is counted here, not
	// written to the timeline once more.
	Alerts map[string]AlertState `json:"alerts,omitempty"`
	// Type is the incident's type (incidents.types), e.g. "security";
	// Fields are its custom fields' values by field id (a user field
	// holds the user's id).
	Type   string            `json:"type,omitempty"`
	Fields map[string]string `json:"fields,omitempty"`

	Platform Platform   `json:"platform"`
	Channel  ChannelRef `json:"channel,omitzero"`
	// CallSecret is a random part for the incident's meeting link
	// (incidents.call_url's {secret}), so a private incident's room cannot
	// be guessed from its number or channel name.
	CallSecret string        `json:"call_secret,omitempty"`
	SummaryRef MessageRef    `json:"summary_ref,omitzero"` // the pinned live summary
	DeclaredBy User          `json:"declared_by"`
	Roles      map[Role]User `json:"roles,omitempty"`

	LastUpdate   string    `json:"last_update,omitempty"`
	LastUpdateAt time.Time `json:"last_update_at,omitzero"`
	// PublicUpdates are the updates posted with --public, oldest first,
	// kept on the incident so the status page reads them without reading
	// its timeline.
	PublicUpdates []PublicUpdate `json:"public_updates,omitempty"`

	DetectedAt     time.Time `json:"detected_at,omitzero"`
	DeclaredAt     time.Time `json:"declared_at"`
	AcknowledgedAt time.Time `json:"acknowledged_at,omitzero"`
	AcknowledgedBy User      `json:"acknowledged_by,omitzero"`
	MitigatedAt    time.Time `json:"mitigated_at,omitzero"`
	ResolvedAt     time.Time `json:"resolved_at,omitzero"`
	ClosedAt       time.Time `json:"closed_at,omitzero"`
	ArchivedAt     time.Time `json:"archived_at,omitzero"` // when its channel was archived (incidents.archive_after)
	UpdatedAt      time.Time `json:"updated_at"`
}

// Key returns the incident's human name, "INC-42".
func (inc *Incident) Key() string { return "INC-" + strconv.FormatInt(inc.Number, 10) }

// Commander returns who leads the incident, if anyone.
func (inc *Incident) Commander() (User, bool) {
	u, ok := inc.Roles[RoleCommander]
	return u, ok && !u.IsZero()
}

// Validate checks the fields a declaration must get right.
func (inc *Incident) Validate() error {
	if err := ValidateTitle(inc.Title); err != nil {
		return err
	}
	if inc.Severity.IsZero() {
		return Errorf(EINVALID, "An incident needs a severity.")
	}
	if n := len([]rune(inc.Summary)); n > MaxTextRunes {
		return Errorf(EINVALID, "The summary is %d characters long; the limit is %d.", n, MaxTextRunes)
	}
	return nil
}

// ValidateTitle checks an incident title.
func ValidateTitle(title string) error {
	if strings.TrimSpace(title) == "" {
		return Errorf(EINVALID, "An incident needs a title, e.g. /incident declare \"Checkout is down\".")
	}
	if n := len([]rune(title)); n > MaxTitleRunes {
		return Errorf(EINVALID, "The title is %d characters long; the limit is %d. Put details in the summary.", n, MaxTitleRunes)
	}
	return nil
}

// ValidateText checks free text such as an update or a note.
// OneLine makes s fit a single-line rendering (a title, a list line):
// line breaks, tabs and other control characters become spaces, and
// direction overrides go (see CleanText).
func OneLine(s string) string {
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		switch {
		case r < 0x20 || r == '\u2028' || r == '\u2029' || isC1(r) || r == 0x7f:
			return ' '
		case isBidiControl(r):
			return -1
		}
		return r
	}, s))
}

// CleanText drops the control characters of s but keeps its line breaks
// and tabs: C0 controls (terminal escapes, backspaces, carriage returns),
// DEL, C1 controls (U+0080–U+009F: U+009B opens a terminal escape like
// ESC [) and the bidirectional overrides and isolates (U+202A–U+202E,
// U+2066–U+2069), which make text read otherwise than it is stored.
func CleanText(s string) string {
	return strings.Map(func(r rune) rune {
		if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || isC1(r) || isBidiControl(r) {
			return -1
		}
		return r
	}, s)
}

// chatMention is a mention in Slack's or Discord's markup: <@U1>,
// <@U1|alice>, <#C1|general>, <!here>, <@!1>, <@&1>, <#1>.
var chatMention = regexp.MustCompile(`<([@#!])([&!]?)([^<>|\s]*)(?:\|([^<>]*))?>`)

// Unmention turns every chat mention in s into plain text that notifies
// nobody on any platform (<@U1|alice> becomes @alice, <#C1> #C1): text
// from alerts and webhooks must not ping people or channels.
func Unmention(s string) string {
	return chatMention.ReplaceAllStringFunc(s, func(m string) string {
		p := chatMention.FindStringSubmatch(m)
		name := p[3]
		if p[4] != "" {
			name = p[4]
		}
		if p[1] == "!" {
			return "@" + name // <!here>, <!channel>
		}
		return p[1] + name
	})
}

// isC1 reports whether r is a C1 control character.
func isC1(r rune) bool { return r >= 0x80 && r <= 0x9f }

// isBidiControl reports whether r overrides or isolates text direction.
func isBidiControl(r rune) bool {
	return r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069'
}

func ValidateText(what, text string) error {
	if strings.TrimSpace(text) == "" {
		return Errorf(EINVALID, "The %s is empty.", what)
	}
	if n := len([]rune(text)); n > MaxTextRunes {
		return Errorf(EINVALID, "The %s is %d characters long; the limit is %d.", what, n, MaxTextRunes)
	}
	return nil
}

func (inc *Incident) refuseIfClosed(action string) error {
	if inc.Status == StatusClosed {
		return Errorf(ECONFLICT, "%s is closed; it can't be %s. Declare a new incident if the problem is back.", inc.Key(), action)
	}
	return nil
}

func (inc *Incident) refuseIfOver(action string) error {
	if err := inc.refuseIfClosed(action); err != nil {
		return err
	}
	if inc.Status == StatusResolved {
		return Errorf(ECONFLICT, "%s is already resolved; it can't be %s. Use /incident reopen first.", inc.Key(), action)
	}
	return nil
}

// Acknowledge records that a responder is on it.
func (inc *Incident) Acknowledge(by User, at time.Time) error {
	if err := inc.refuseIfOver("acknowledged"); err != nil {
		return err
	}
	if !inc.AcknowledgedAt.IsZero() {
		who := ""
		if !inc.AcknowledgedBy.IsZero() {
			who = " by " + inc.AcknowledgedBy.Mention()
		}
		return Errorf(ECONFLICT, "%s was already acknowledged%s at %s (%s ago).", inc.Key(), who, Stamp(inc.AcknowledgedAt), Duration(at.Sub(inc.AcknowledgedAt)))
	}
	inc.AcknowledgedAt, inc.AcknowledgedBy = at, by
	if inc.Status == StatusOpen {
		inc.Status = StatusAcknowledged
	}
	inc.UpdatedAt = at
	return nil
}

// Mitigate records that the impact has stopped.
func (inc *Incident) Mitigate(at time.Time) error {
	if err := inc.refuseIfOver("mitigated"); err != nil {
		return err
	}
	if inc.Status == StatusMitigated {
		return Errorf(ECONFLICT, "%s is already mitigated.", inc.Key())
	}
	inc.Status = StatusMitigated
	inc.MitigatedAt = at
	inc.UpdatedAt = at
	return nil
}

// Resolve ends the incident. A non-empty summary replaces the incident's summary.
func (inc *Incident) Resolve(at time.Time, summary string) error {
	if err := inc.refuseIfClosed("resolved"); err != nil {
		return err
	}
	if inc.Status == StatusResolved {
		return Errorf(ECONFLICT, "%s is already resolved.", inc.Key())
	}
	if summary != "" {
		if err := ValidateText("summary", summary); err != nil {
			return err
		}
	}
	inc.Resolution = summary
	if inc.MitigatedAt.IsZero() {
		inc.MitigatedAt = at
	}
	inc.Status = StatusResolved
	inc.ResolvedAt = at
	inc.UpdatedAt = at
	return nil
}

// Close files away a resolved incident.
func (inc *Incident) Close(at time.Time) error {
	switch inc.Status {
	case StatusClosed:
		return Errorf(ECONFLICT, "%s is already closed.", inc.Key())
	case StatusResolved:
	default:
		return Errorf(ECONFLICT, "%s is still %s; resolve it before closing it.", inc.Key(), inc.Status)
	}
	inc.Status = StatusClosed
	inc.ClosedAt = at
	inc.UpdatedAt = at
	return nil
}

// Reopen brings a resolved incident back to work. Closed incidents stay closed.
func (inc *Incident) Reopen(at time.Time) error {
	if err := inc.refuseIfClosed("reopened"); err != nil {
		return err
	}
	if inc.Status != StatusResolved {
		return Errorf(ECONFLICT, "%s is %s, not resolved; there is nothing to reopen.", inc.Key(), inc.Status)
	}
	inc.ResolvedAt = time.Time{}
	inc.MitigatedAt = time.Time{}
	inc.Resolution = ""
	// It is back: nobody is on it until someone acknowledges again.
	inc.AcknowledgedAt, inc.AcknowledgedBy = time.Time{}, User{}
	inc.Status = StatusOpen
	inc.UpdatedAt = at
	return nil
}

// SetSeverity changes the severity and returns the previous one.
func (inc *Incident) SetSeverity(sev Severity, at time.Time) (Severity, error) {
	// A resolved incident's severity would read as a re-escalation in the
	// announcement channel: reopen it first.
	if err := inc.refuseIfOver("given another severity"); err != nil {
		return Severity{}, err
	}
	if sev.Name == inc.Severity.Name {
		return Severity{}, Errorf(ECONFLICT, "%s is already %s.", inc.Key(), sev.Name)
	}
	prev := inc.Severity
	inc.Severity = sev
	inc.UpdatedAt = at
	return prev, nil
}

// AssignRole gives role to u and returns who held it before (zero if nobody).
func (inc *Incident) AssignRole(role Role, u User, at time.Time) (User, error) {
	if err := inc.refuseIfClosed("changed"); err != nil {
		return User{}, err
	}
	prev := inc.Roles[role]
	if prev.ID == u.ID {
		return User{}, Errorf(ECONFLICT, "%s is already the %s of %s.", u.Mention(), role, inc.Key())
	}
	if inc.Roles == nil {
		inc.Roles = map[Role]User{}
	}
	inc.Roles[role] = u
	inc.UpdatedAt = at
	return prev, nil
}

// PostUpdate records a status update.
func (inc *Incident) PostUpdate(text string, at time.Time) error {
	if err := inc.refuseIfClosed("updated"); err != nil {
		return err
	}
	if err := ValidateText("update", text); err != nil {
		return err
	}
	inc.LastUpdate = text
	inc.LastUpdateAt = at
	inc.UpdatedAt = at
	return nil
}

var incidentKey = regexp.MustCompile(`(?i)^INC-?([0-9]{1,12})$`)

// ParseIncidentKey reads "INC-42" (any case, dash optional) and returns 42.
func ParseIncidentKey(s string) (int64, bool) {
	m := incidentKey.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// Duration formats d for humans at 3 a.m.: "42m", "3h 05m", "2d 4h".
func Duration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		if m := int(d.Minutes()) % 60; m != 0 {
			return fmt.Sprintf("%dh %02dm", int(d.Hours()), m)
		}
		return fmt.Sprintf("%dh", int(d.Hours()))
	default:
		if h := int(d.Hours()) % 24; h != 0 {
			return fmt.Sprintf("%dd %dh", int(d.Hours())/24, h)
		}
		return fmt.Sprintf("%dd", int(d.Hours())/24)
	}
}

// Count says n things: "1 incident", "3 incidents" (plural is noun+"s"
// unless given).
func Count(n int, noun string, plural ...string) string {
	if n == 1 {
		return "1 " + noun
	}
	if len(plural) > 0 {
		return fmt.Sprintf("%d %s", n, plural[0])
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Metrics are an incident's response times; a zero value is not reached yet.
type Metrics struct {
	TTD time.Duration // detected → declared
	TTA time.Duration // declared → acknowledged
	TTM time.Duration // declared → mitigated
	TTR time.Duration // declared → resolved
}

// Metrics computes the incident's response times.
func (inc *Incident) Metrics() Metrics {
	since := func(t time.Time) time.Duration {
		if t.IsZero() {
			return 0
		}
		return t.Sub(inc.DeclaredAt)
	}
	var m Metrics
	if !inc.DetectedAt.IsZero() && inc.DeclaredAt.After(inc.DetectedAt) {
		m.TTD = inc.DeclaredAt.Sub(inc.DetectedAt)
	}
	m.TTA, m.TTM, m.TTR = since(inc.AcknowledgedAt), since(inc.MitigatedAt), since(inc.ResolvedAt)
	return m
}
