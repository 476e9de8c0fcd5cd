package bot_test

import (
	"fmt"
	"testing"
	"unicode/utf8"

	"github.com/klaxon-bot/klaxon/bot"
)

// FuzzParsers feeds one string to every small parser in bot: each either
// refuses it with a user-safe message or returns a value that prints and
// parses back to itself.
func FuzzParsers(f *testing.F) {
	for _, seed := range []string{"09:00", "9:30", "24:00", "2026-11-21", "2026-02-30", "INC-42", "inc-0", "INC-99999999999999999999",
		"<@U123|alice>", "<@U123>", "@alice", "SEV1", "sev:2", "critical", "commander", "IC", "Scribe", "", "\xff"} {
		f.Add(seed)
	}
	sevs, roles := bot.DefaultSeverities(), bot.DefaultRoles()
	f.Fuzz(func(t *testing.T, s string) {
		userSafe := func(what string, err error) {
			if bot.ErrorCode(err) != bot.EINVALID || bot.ErrorMessage(err) == "" {
				t.Fatalf("%s(%q) failed without a user-safe message: %v", what, s, err)
			}
		}
		if tod, err := bot.ParseTimeOfDay(s); err != nil {
			userSafe("ParseTimeOfDay", err)
		} else if tod < 0 || tod >= 24*60 {
			t.Fatalf("ParseTimeOfDay(%q) = %d minutes", s, tod)
		} else if again, err := bot.ParseTimeOfDay(tod.String()); err != nil || again != tod {
			t.Fatalf("ParseTimeOfDay(%q) = %s, which parses as %v, %v", s, tod, again, err)
		}
		if d, err := bot.ParseDate(s); err != nil {
			userSafe("ParseDate", err)
		} else if again, err := bot.ParseDate(d.String()); err != nil || again != d {
			t.Fatalf("ParseDate(%q) = %s, which parses as %v, %v", s, d, again, err)
		}
		if n, ok := bot.ParseIncidentKey(s); ok {
			if again, ok := bot.ParseIncidentKey(fmt.Sprintf("INC-%d", n)); n <= 0 || !ok || again != n {
				t.Fatalf("ParseIncidentKey(%q) = %d, which does not round-trip", s, n)
			}
		}
		if u, ok := bot.ParseMention(s); ok && (u.ID == "" || !utf8.ValidString(u.ID)) {
			t.Fatalf("ParseMention(%q) = %+v", s, u)
		}
		if sev, err := sevs.Parse(s); err != nil {
			userSafe("Severities.Parse", err)
		} else if again, err := sevs.Parse(sev.Name); err != nil || again != sev {
			t.Fatalf("Severities.Parse(%q) = %+v, whose name parses as %+v, %v", s, sev, again, err)
		}
		if r, err := bot.ParseRole(s, roles); err != nil {
			userSafe("ParseRole", err)
		} else if r == "" {
			t.Fatalf("ParseRole(%q) returned no role", s)
		}
	})
}
