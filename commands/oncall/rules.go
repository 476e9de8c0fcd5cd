package oncall

import (
	"slices"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// DefaultMaxOverride is the longest override or cover someone who is not
// an admin may make (Config.MaxOverride).
const DefaultMaxOverride = 7 * 24 * time.Hour

// Who may change who is on call:
//   - admins (Config.Admins): any schedule, anyone klaxon knows, up to
//     MaxOverride (90 days);
//   - a service's owners (Config.Owners): its schedules, anyone klaxon
//     knows, up to Config.MaxOverride;
//   - a schedule's participants: that schedule, its own participants, up
//     to Config.MaxOverride;
//   - nobody else, and nobody klaxon does not know.
// A change can be undone by whoever made it, by the person it put on call,
// by the schedule's participants and owners (whose rotation it changed)
// and by admins.

// rules decides who may change who is on call, from the configuration.
type rules struct{ cfg *Config }

// isAdmin reports whether u is one of the on-call admins (a person id or
// a chat user id).
func (o rules) isAdmin(p bot.Platform, u bot.User) bool {
	for _, admin := range o.cfg.Admins {
		if admin == u.ID {
			return true
		}
		if person, ok := o.cfg.People.Get(admin); ok && person.UserID(p) == u.ID {
			return true
		}
	}
	return false
}

// owns reports whether person owns schedule s's service.
func (o rules) owns(person string, s *bot.Schedule) bool {
	return person != "" && slices.Contains(o.cfg.Owners[s.Service], person)
}

// participant reports whether person is on one of s's rotations.
func participant(s *bot.Schedule, person string) bool {
	for _, l := range s.Layers {
		if slices.Contains(l.Rotation.Participants, person) {
			return true
		}
	}
	return false
}

// mayOverride says why asker may not put person on call on s from from
// until until, or nil.
func (o rules) mayOverride(p bot.Platform, u bot.User, asker bot.Person, s *bot.Schedule, person bot.Person, from, until time.Time) error {
	if o.isAdmin(p, u) {
		return nil
	}
	if asker.ID == "" {
		return bot.Errorf(bot.EFORBIDDEN, "Only people klaxon knows can change who is on call; ask an admin to add you under `people:`.")
	}
	owner := o.owns(asker.ID, s)
	if !owner && !participant(s, asker.ID) {
		return bot.Errorf(bot.EFORBIDDEN, "Only %s's participants, its service's owners and admins can change who is on call for it.", s.Title())
	}
	if !owner && !participant(s, person.ID) {
		return bot.Errorf(bot.EFORBIDDEN, "%s is not on %s's rotation; only its service's owners and admins can put someone else on call for it.", person.Name, s.Title())
	}
	if limit := o.maxOverride(); until.Sub(from) > limit {
		return bot.Errorf(bot.EFORBIDDEN, "Overrides last at most %s unless an admin makes them.", bot.Duration(limit))
	}
	return nil
}

// maxOverride is the longest override someone who is not an admin may
// make.
func (o rules) maxOverride() time.Duration {
	if o.cfg.MaxOverride > 0 {
		return o.cfg.MaxOverride
	}
	return DefaultMaxOverride
}

// mayUndo reports whether the user u (the person asker) may undo c.
func (o rules) mayUndo(p bot.Platform, u bot.User, asker bot.Person, c bot.OnCallChange) bool {
	if c.Author.ID == u.ID || o.isAdmin(p, u) {
		return true
	}
	if asker.ID == "" || c.Override == nil {
		return false
	}
	if c.Override.Person == asker.ID {
		return true
	}
	for _, s := range o.cfg.Schedules {
		if s.ID == c.Override.Schedule {
			return participant(s, asker.ID) || o.owns(asker.ID, s)
		}
	}
	return false
}

// undoRefusal explains why u may not undo c.
func undoRefusal(c bot.OnCallChange, title func(id string) string) error {
	return bot.Errorf(bot.EFORBIDDEN, "%s's %s can be undone by them, by whoever it put on call, by %s's participants and owners, and by admins.",
		c.Author.Mention(), c.Kind, scheduleName(c, title))
}

func scheduleName(c bot.OnCallChange, title func(id string) string) string {
	if c.Override != nil {
		return title(c.Override.Schedule)
	}
	return "the schedule"
}
