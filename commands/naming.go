package commands

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/klaxon-bot/klaxon/bot"
)

// MaxChannelName is the longest channel name klaxon creates: Slack's limit
// (Discord allows 100).
const MaxChannelName = 80

var placeholder = regexp.MustCompile(`\{[a-z]+\}`)

// ValidateChannelPattern checks a channel-name pattern: literal parts are
// lower-case letters, digits, '-' and '_'; placeholders are {number},
// {slug}, {sev} and {service}; {number} is required so names are unique.
func ValidateChannelPattern(p string) error {
	if !strings.Contains(p, "{number}") {
		return fmt.Errorf("%q must contain {number}", p)
	}
	for _, ph := range placeholder.FindAllString(p, -1) {
		switch ph {
		case "{number}", "{slug}", "{sev}", "{service}":
		default:
			return fmt.Errorf("%q: unknown placeholder %s (use {number}, {slug}, {sev}, {service})", p, ph)
		}
	}
	literal := placeholder.ReplaceAllString(p, "")
	if strings.Trim(literal, "abcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return fmt.Errorf("%q: only lower-case letters, digits, '-' and '_' are allowed outside placeholders", p)
	}
	if len(literal)+12 > MaxChannelName {
		return fmt.Errorf("%q is too long for an %d-character channel name", p, MaxChannelName)
	}
	return nil
}

// ChannelName renders pattern for inc. Attempt 1 is the plain name; later
// attempts add "-2", "-3", … for when the name is taken. The result is at
// most MaxChannelName bytes, and the slug is what gets shortened.
func ChannelName(pattern string, inc *bot.Incident, attempt int) string {
	suffix := ""
	if attempt > 1 {
		suffix = "-" + strconv.Itoa(attempt)
	}
	fill := func(slug string) string {
		r := strings.NewReplacer(
			"{number}", strconv.FormatInt(inc.Number, 10),
			"{sev}", strings.ToLower(bot.Slug(inc.Severity.Name, 10)),
			"{service}", bot.Slug(inc.Service, 40),
			"{slug}", slug,
		)
		return tidy(r.Replace(pattern)) + suffix
	}
	fixed := len(fill(""))
	return fill(bot.Slug(inc.Title, max(MaxChannelName-fixed-1, 0)))
}

// tidy removes the doubled or dangling separators an empty placeholder
// leaves behind.
func tidy(s string) string {
	for strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "--", "-")
	}
	return strings.Trim(s, "-_")
}
