package commands

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/klaxon-bot/klaxon/bot"
)

// CallLink fills the meeting-link template tmpl (incidents.call_url) for
// inc: {channel} is its channel's name, {key} INC-42, {number} 42, each
// escaped for a URL path, and {secret} a random part of its own that
// nobody can guess from the others. An empty template gives no link.
func CallLink(tmpl string, inc *bot.Incident) string {
	if tmpl == "" {
		return ""
	}
	channel := inc.Channel.Name
	if channel == "" {
		channel = strings.ToLower(inc.Key())
	}
	secret := inc.CallSecret
	if secret == "" {
		// Declared before incidents had one: the random bits of its id,
		// which only the API and hooks show.
		secret = strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(inc.ID[8:]))
	}
	return strings.NewReplacer("{channel}", url.PathEscape(channel), "{key}", url.PathEscape(inc.Key()),
		"{number}", strconv.FormatInt(inc.Number, 10), "{secret}", secret).Replace(tmpl)
}

// newCallSecret is a new incident's {secret}: 80 random bits, as 16
// lower-case letters and digits.
func newCallSecret() string {
	b := make([]byte, 10)
	rand.Read(b) // never fails (crypto/rand)
	return strings.ToLower(base32.StdEncoding.EncodeToString(b))
}

// ValidateCallURL checks a meeting-link template: an http(s) URL once
// filled, with no placeholder klaxon does not know.
func ValidateCallURL(tmpl string) error {
	if tmpl == "" {
		return nil
	}
	filled := CallLink(tmpl, &bot.Incident{Number: 42, Channel: bot.ChannelRef{Name: "inc-42-checkout-is-down"}})
	if strings.ContainsAny(filled, "{}") {
		return fmt.Errorf("%q has a placeholder other than {channel}, {key}, {number} and {secret}", tmpl)
	}
	u, err := url.Parse(filled)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL, e.g. https://meet.example.com/{channel}", tmpl)
	}
	return nil
}
