package commands

import (
	"testing"
	"unicode/utf8"

	"github.com/klaxon-bot/klaxon/bot"
)

// FuzzCommandArguments feeds a command line to every argument parser of
// the incident commands: each refuses with a user-safe message or returns
// a sane value. (FuzzOnCallArguments does the same for /oncall.)
func FuzzCommandArguments(f *testing.F) {
	for _, seed := range []string{
		`"Checkout is down" sev:1 service:payments commander:<@U1|alice> private summary:"EU cards"`,
		`check the logs <@U2|bob> due:2026-12-01`, `due:2026-13-45 x`, `commander:nobody`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		userSafe := func(what string, err error) {
			if bot.ErrorCode(err) != bot.EINVALID || bot.ErrorMessage(err) == "" {
				t.Fatalf("%s of %q failed without a user-safe message: %v", what, line, err)
			}
		}
		args, err := bot.Tokenize(line)
		if err != nil {
			return // FuzzTokenize's business
		}
		if in, err := ParseDeclare(args); err != nil {
			userSafe("ParseDeclare", err)
		} else if !utf8.ValidString(in.Title) || (in.Commander.ID == "") != in.Commander.IsZero() {
			t.Fatalf("ParseDeclare(%q) = %+v", args, in)
		}
		if text, _, _, err := ParseFollowUp(args); err != nil {
			userSafe("ParseFollowUp", err)
		} else if text == "" {
			t.Fatalf("ParseFollowUp(%q) accepted an empty follow-up", args)
		}
	})
}
