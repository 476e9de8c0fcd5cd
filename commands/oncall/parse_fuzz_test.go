package oncall

import (
	"testing"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// FuzzOnCallArguments feeds a line to every argument parser of /oncall and
// its questions: each refuses with a user-safe message or returns a sane
// value.
func FuzzOnCallArguments(f *testing.F) {
	for _, seed := range []string{
		`<@U1> now 2h`, `tomorrow 2026-12-01T14:00 90m`, `2026-11-21T10:00:00+01:00 1w`, `99999999999999w 0d -5h`,
		`who is on call for payments next week?`, `hey klaxon who's oncall db right now`, `I'm on call tonight`,
	} {
		f.Add(seed)
	}
	now := time.Date(2026, 11, 21, 3, 0, 0, 0, time.UTC)
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		userSafe := func(what string, err error) {
			if bot.ErrorCode(err) != bot.EINVALID || bot.ErrorMessage(err) == "" {
				t.Fatalf("%s of %q failed without a user-safe message: %v", what, line, err)
			}
		}
		q1, ok1 := ParseQuestion(line)
		q2, ok2 := ParseQuestion(line)
		if ok1 != ok2 || q1 != q2 {
			t.Fatalf("ParseQuestion(%q) is not deterministic", line)
		}
		args, err := bot.Tokenize(line)
		if err != nil {
			return // FuzzTokenize's business
		}
		for _, a := range args {
			if at, err := parseWhen(a, now, loc); err != nil {
				userSafe("parseWhen", err)
			} else if at.IsZero() {
				t.Fatalf("parseWhen(%q) = the zero time", a)
			}
			if d, err := bot.ParseLength(a); err != nil {
				userSafe("parseLength", err)
			} else if d <= 0 {
				t.Fatalf("bot.ParseLength(%q) = %s; a length is positive", a, d)
			}
		}
	})
}
