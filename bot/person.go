package bot

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Platform is a chat platform klaxon speaks.
type Platform string

// Platforms.
const (
	PlatformConsole Platform = "console"
	PlatformSlack   Platform = "slack"
	PlatformDiscord Platform = "discord"
)

// User is somebody on one chat platform, as that platform names them.
type User struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// SystemUser is an actor that is not a chat user, such as a monitoring
// system declaring an incident from an alert.
func SystemUser(kind, name string) User { return User{ID: kind + ":" + name, Name: name} }

// IsSystem reports whether u is a SystemUser: chat platforms never put a
// colon in a user ID.
func (u User) IsSystem() bool { return strings.Contains(u.ID, ":") }

// TokenUser is the actor of an API token: the timeline names it
// "token deploy-bot".
func TokenUser(name string) User { return User{ID: "token:" + name, Name: "token " + name} }

// IsToken reports whether u is an API token's actor (TokenUser).
func (u User) IsToken() bool { return strings.HasPrefix(u.ID, "token:") }

// SeesAll reports whether u is a system actor that may see and act on
// every incident, private ones too (an alert source, klaxon itself). An
// API token is not: it sees a private incident only when it declared it
// or is an admin's (Config.Admins names "token:<name>").
func (u User) SeesAll() bool { return u.IsSystem() && !u.IsToken() }

// MentionOn is how a command line names p on platform: their mention
// there, or @id on the console (or where they have no account).
func (p Person) MentionOn(platform Platform) string {
	if id := p.Accounts[platform]; id != "" && platform != PlatformConsole {
		return User{ID: id}.Mention()
	}
	return "@" + p.ID
}

// IsZero reports whether u is unset.
func (u User) IsZero() bool { return u.ID == "" }

// Mention returns the neutral mention token for u, "<@ID>". Slack and Discord
// render it natively; the console renders it as @name. A system actor (see
// IsSystem) is named in plain text.
func (u User) Mention() string {
	if u.ID == "" {
		return "nobody"
	}
	if u.IsSystem() {
		return u.Name
	}
	return "<@" + u.ID + ">"
}

// mention matches "<@U123>", "<@U123|name>" (Slack) and "<@!123>" (Discord).
var mention = regexp.MustCompile(`^<@!?([A-Za-z0-9._-]+)(?:\|([^>]*))?>$`)

// plainMention matches "@name" as typed in the console.
var plainMention = regexp.MustCompile(`^@([\p{L}\p{N}._-]+)$`)

// ParseMention reads a user mention token. It understands the platforms'
// "<@ID>" forms and a plain "@name".
func ParseMention(token string) (User, bool) {
	if m := mention.FindStringSubmatch(token); m != nil {
		return User{ID: m[1], Name: m[2]}, true
	}
	if m := plainMention.FindStringSubmatch(token); m != nil {
		return User{ID: m[1], Name: m[1]}, true
	}
	return User{}, false
}

// Person is a klaxon identity: one human with accounts on several platforms.
// Schedules, roles and pages refer to people, so one schedule serves all.
type Person struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	TimeZone string `json:"time_zone,omitempty"`
	// Accounts are the person's user ids by chat platform. On the console
	// a person's user id is their klaxon id.
	Accounts map[Platform]string `json:"accounts,omitempty"`
	Email    string              `json:"email,omitempty"`
	Phone    string              `json:"phone,omitempty"`
	// Reach is how klaxon reaches the person itself (SMS, calls, push,
	// email) and by which rules; no rules: the configured default.
	Reach Reach `json:"reach,omitzero"`
	// WorkingHours are when the person works, in their zone: insights
	// count the pages outside them.
	WorkingHours Hours `json:"working_hours,omitzero"`
}

var personID = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// Validate checks a person's fields.
func (p Person) Validate() error {
	if !personID.MatchString(p.ID) {
		return fmt.Errorf("id: %q must be lower-case letters, digits, '.', '_' or '-'", p.ID)
	}
	if strings.TrimSpace(p.Name) == "" {
		return fmt.Errorf("name: must not be empty")
	}
	return nil
}

// UserID returns p's user id on platform, or "" if p has none there. On the
// console a person's user id is their klaxon id.
func (p Person) UserID(platform Platform) string {
	if platform == PlatformConsole {
		return p.ID
	}
	return p.Accounts[platform]
}

// Location is the person's time zone (TimeZone), or UTC when they have
// none or it does not load.
func (p Person) Location() *time.Location {
	if p.TimeZone != "" {
		if loc, err := time.LoadLocation(p.TimeZone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// People is the configured directory of people.
type People []Person

// Get finds a person by id.
func (ps People) Get(id string) (Person, bool) {
	for _, p := range ps {
		if p.ID == id {
			return p, true
		}
	}
	return Person{}, false
}

// ByUser finds the person behind a platform user.
func (ps People) ByUser(platform Platform, userID string) (Person, bool) {
	for _, p := range ps {
		if id := p.UserID(platform); id != "" && id == userID {
			return p, true
		}
	}
	return Person{}, false
}

// Find finds the person id names: a platform user of theirs, or their
// klaxon id.
func (ps People) Find(platform Platform, id string) (Person, bool) {
	if person, ok := ps.ByUser(platform, id); ok {
		return person, true
	}
	return ps.Get(id)
}

// Mention shows person id the way platform links people: a mention where
// they have a user id there, else their name, else the id itself.
func (ps People) Mention(platform Platform, id string) string {
	person, ok := ps.Get(id)
	if !ok {
		return id
	}
	if uid := person.UserID(platform); uid != "" {
		return User{ID: uid}.Mention()
	}
	return person.Name
}

// Resolve finds the configured person a chat mention (or a person id
// typed as one) names, or says why it names nobody.
func (ps People) Resolve(platform Platform, token string) (Person, error) {
	u, ok := ParseMention(token)
	if !ok {
		return Person{}, Errorf(EINVALID, "`%s` is not a person; mention them, e.g. @alice.", token)
	}
	if person, ok := ps.Find(platform, u.ID); ok {
		return person, nil
	}
	return Person{}, Errorf(EINVALID, "%s is not in klaxon's list of people; add them under `people:` in the configuration.", u.Mention())
}
