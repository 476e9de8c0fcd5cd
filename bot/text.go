package bot

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Cut shortens s to at most n characters (runes), marking the cut with
// "…".
func Cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// httpDates are the date forms a Retry-After may take (RFC 9110 §5.6.7:
// the IMF-fixdate, and the obsolete RFC 850 and asctime forms).
var httpDates = []string{"Mon, 02 Jan 2006 15:04:05 GMT", "Monday, 02-Jan-06 15:04:05 GMT", time.ANSIC}

// RetryAfter reads an HTTP Retry-After value, seconds or a date, as a
// wait from now; ok is false when it says no usable wait (empty, bad, or
// a date already past).
func RetryAfter(v string, now time.Time) (wait time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	for _, layout := range httpDates {
		if t, err := time.Parse(layout, v); err == nil {
			if d := t.Sub(now); d > 0 {
				return d, true
			}
			return 0, false
		}
	}
	return 0, false
}

// Stamp formats a time unambiguously for responders in any zone.
func Stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }

// ChatTime is t in a chat message that people in many zones read: a
// token each chat adapter shows in the reader's own zone (Slack's date
// formatting, Discord's timestamps), and anywhere else (the console,
// files, the timeline) as Stamp(t).
func ChatTime(t time.Time) string { return fmt.Sprintf("<!date^%d^f|%s>", t.Unix(), Stamp(t)) }

// ChatClock is ChatTime for a time of day, where the day is plain from
// around it: the reader's "3:20 AM", or "02:20 UTC".
func ChatClock(t time.Time) string {
	return fmt.Sprintf("<!date^%d^t|%s>", t.Unix(), t.UTC().Format("15:04 UTC"))
}

// TimeToken matches ChatTime's and ChatClock's tokens: the Unix seconds,
// the style (f: date and time, t: time of day) and the text shown where
// a token cannot be rendered. The fallback's letters are limited so a
// token can carry nothing but a time.
var TimeToken = regexp.MustCompile(`<!date\^(\d{1,12})\^([ft])\|([0-9A-Za-z:+ -]{1,40})>`)

// PlainTimes replaces the time tokens in s with their fallback text, for
// places no chat platform renders: files, the timeline, plain-text fields.
func PlainTimes(s string) string {
	if !strings.Contains(s, "<!date^") {
		return s
	}
	return TimeToken.ReplaceAllString(s, "$3")
}

// EditDistance is the Levenshtein distance between a and b, ignoring
// case: how many letters to add, drop or change to turn one into the
// other.
func EditDistance(a, b string) int {
	ra, rb := []rune(strings.ToLower(a)), []rune(strings.ToLower(b))
	prev := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur := make([]int, len(rb)+1)
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(rb)]
}
