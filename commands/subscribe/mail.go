package subscribe

import (
	"fmt"
	"strings"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// ConfirmMail asks addr to confirm a subscription to services (names;
// none: all) by opening link.
func ConfirmMail(title, addr string, services []string, link string, ttl time.Duration) bot.Mail {
	title = bot.OneLine(title)
	var b strings.Builder
	fmt.Fprintf(&b, "Someone, probably you, asked to get %s's incident updates by email at this address", title)
	if len(services) > 0 {
		fmt.Fprintf(&b, ", for %s", strings.Join(services, ", "))
	}
	b.WriteString(".\n\nTo confirm, open this link and press Confirm:\n")
	fmt.Fprintf(&b, "%s\n\nThe link works for %s. If you did not ask for this, ignore this mail: nothing is sent to you unless you confirm.\n", link, bot.Duration(ttl))
	return bot.Mail{To: addr, Subject: fmt.Sprintf("Confirm your subscription to %s", title), Body: b.String(),
		Headers: map[string]string{"Precedence": "bulk"}}
}

// NoticeMail is a status notice as the mail to sub: what happened, the
// public update, the status page and how to unsubscribe, with the
// List-Unsubscribe headers of RFC 2369 and RFC 8058 (one click).
func NoticeMail(title, publicURL string, n bot.StatusNotice, service string, sub *bot.Subscriber, unsubscribe string) bot.Mail {
	title = bot.OneLine(title)
	head := map[string]string{
		bot.NoticeNew:      "Investigating",
		bot.NoticeUpdate:   "Update",
		bot.NoticeResolved: "Resolved",
		bot.NoticeReopened: "Reopened",
	}[n.What]
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s\n", n.Key, n.Title)
	meta := []string{}
	if service != "" {
		meta = append(meta, "Service: "+service)
	}
	meta = append(meta, "Severity: "+n.Severity, "Status: "+n.Status)
	fmt.Fprintf(&b, "%s\n\n", strings.Join(meta, " · "))
	switch n.What {
	case bot.NoticeNew:
		b.WriteString("We are investigating this incident and will post updates on the status page.\n")
	case bot.NoticeUpdate:
		fmt.Fprintf(&b, "%s\n", n.Text)
	case bot.NoticeResolved:
		b.WriteString("This incident is resolved.\n")
	case bot.NoticeReopened:
		b.WriteString("This incident was reopened: we are investigating again.\n")
	}
	fmt.Fprintf(&b, "\nPosted %s.\n", n.At.UTC().Format("2006-01-02 15:04 UTC"))
	if publicURL != "" {
		fmt.Fprintf(&b, "The status page: %s/status#%s\n", publicURL, n.Key)
	}
	scope := "every service"
	if len(sub.Services) > 0 {
		scope = "some services"
		if service != "" {
			scope = service
		}
	}
	fmt.Fprintf(&b, "\n-- \nYou get this mail because you subscribed to %s on %s.\nUnsubscribe (one click): %s\n", scope, title, unsubscribe)
	return bot.Mail{To: sub.Email, Subject: fmt.Sprintf("[%s] %s: %s %s", title, head, n.Key, n.Title), Body: b.String(),
		Headers: map[string]string{
			"List-Unsubscribe":      "<" + unsubscribe + ">",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
			"List-Id":               listID(title, publicURL),
			"Precedence":            "bulk",
		}}
}
