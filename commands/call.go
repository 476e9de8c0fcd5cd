package commands

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/klaxon-bot/klaxon/bot"
)

// CallLink fills the meeting-link template tmpl (incidents.call_url) for
// inc: {channel} is its channel's name, {key} INC-42, {number} 42, each
// escaped for a URL path. An empty template gives no link.
func CallLink(tmpl string, inc *bot.Incident) string {
	if tmpl == "" {
		return ""
	}
	channel := inc.Channel.Name
	if channel == "" {
		channel = strings.ToLower(inc.Key())
	}
	return strings.NewReplacer("{channel}", url.PathEscape(channel), "{key}", url.PathEscape(inc.Key()),
		"{number}", strconv.FormatInt(inc.Number, 10)).Replace(tmpl)
}

// ValidateCallURL checks a meeting-link template: an http(s) URL once
// filled, with no placeholder klaxon does not know.
func ValidateCallURL(tmpl string) error {
	if tmpl == "" {
		return nil
	}
	filled := CallLink(tmpl, &bot.Incident{Number: 42, Channel: bot.ChannelRef{Name: "inc-42-checkout-is-down"}})
	if strings.ContainsAny(filled, "{}") {
		return fmt.Errorf("%q has a placeholder other than {channel}, {key} and {number}", tmpl)
	}
	u, err := url.Parse(filled)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL, e.g. https://meet.example.com/{channel}", tmpl)
	}
	return nil
}
