package bot

import "strings"

// emojiNames maps the short names Slack uses (and people type) to the
// characters Discord and the console use, for the emoji klaxon gives meaning.
var emojiNames = map[string]string{
	"pushpin":               "📌",
	"round_pushpin":         "📍",
	"white_check_mark":      "✅",
	"heavy_check_mark":      "✔️",
	"eyes":                  "👀",
	"ok_hand":               "👌",
	"thumbsup":              "👍",
	"+1":                    "👍",
	"rotating_light":        "🚨",
	"fire":                  "🔥",
	"ballot_box_with_check": "☑️",
}

// NormalizeEmoji turns "pushpin", ":pushpin:" or "📌" into "📌", so config and
// platforms can name an emoji either way. Unknown names come back without
// their colons.
func NormalizeEmoji(s string) string {
	s = strings.Trim(strings.TrimSpace(s), ":")
	if u, ok := emojiNames[strings.ToLower(s)]; ok {
		return u
	}
	return s
}
