package commands

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// SeverityIcon is a coloured dot per level: red for the worst.
func SeverityIcon(s bot.Severity) string {
	switch s.Level {
	case 1:
		return "🔴"
	case 2:
		return "🟠"
	case 3:
		return "🟡"
	}
	return "🔵"
}

func statusText(inc *bot.Incident) string {
	switch inc.Status {
	case bot.StatusOpen:
		return bot.StatusOpen.Emoji() + " Open — not acknowledged yet"
	case bot.StatusAcknowledged:
		return bot.StatusAcknowledged.Emoji() + " Acknowledged — being worked on"
	case bot.StatusMitigated:
		return bot.StatusMitigated.Emoji() + " Mitigated — impact stopped"
	case bot.StatusResolved:
		return bot.StatusResolved.Emoji() + " Resolved"
	case bot.StatusClosed:
		return bot.StatusClosed.Emoji() + " Closed"
	}
	return string(inc.Status)
}

// Topic is the incident channel's topic: the state at a glance.
func Topic(inc *bot.Incident) string {
	return fmt.Sprintf("%s · %s · %s · %s", inc.Key(), inc.Severity.Name, inc.Status, inc.Title)
}

// Purpose says what an incident channel is for.
func Purpose(inc *bot.Incident) string {
	return fmt.Sprintf("Incident %s: %s. Declared %s by %s. Everything said here goes on the timeline.", inc.Key(), inc.Title, bot.Stamp(inc.DeclaredAt), inc.DeclaredBy.Mention())
}

// SummaryMessage is the live summary pinned in the incident channel.
func SummaryMessage(inc *bot.Incident, now time.Time) bot.Message {
	title := fmt.Sprintf("%s %s · %s · %s", SeverityIcon(inc.Severity), inc.Key(), inc.Severity.Name, inc.Title)
	if !inc.Status.Active() {
		title = fmt.Sprintf("%s · %s · %s", inc.Key(), inc.Severity.Name, inc.Title)
	}
	fields := []bot.Field{
		{Label: "Status", Value: statusText(inc)},
		{Label: "Severity", Value: fmt.Sprintf("%s (%s)", inc.Severity.Name, inc.Severity.Label)},
	}
	if inc.Service != "" {
		fields = append(fields, bot.Field{Label: "Service", Value: inc.Service})
	}
	for _, r := range sortedRoles(inc) {
		fields = append(fields, bot.Field{Label: roleLabel(r), Value: inc.Roles[r].Mention()})
	}
	if _, ok := inc.Commander(); !ok {
		fields = append(fields, bot.Field{Label: "Commander", Value: "⚠️ nobody — take it with `/incident role commander @you`"})
	}
	fields = append(fields,
		bot.Field{Label: "Declared", Value: fmt.Sprintf("%s by %s", bot.ChatTime(inc.DeclaredAt), inc.DeclaredBy.Mention())},
	)
	if !inc.ResolvedAt.IsZero() {
		fields = append(fields, bot.Field{Label: "Resolved", Value: fmt.Sprintf("%s (after %s)", bot.ChatTime(inc.ResolvedAt), bot.Duration(inc.ResolvedAt.Sub(inc.DeclaredAt)))})
	} else if inc.Status.Active() {
		fields = append(fields, bot.Field{Label: "Open for", Value: bot.Duration(now.Sub(inc.DeclaredAt))})
	}
	if inc.Resolution != "" {
		fields = append(fields, bot.Field{Label: "Resolution", Value: inc.Resolution})
	}
	if inc.LastUpdate != "" && inc.Status.Active() {
		fields = append(fields, bot.Field{Label: "Last update", Value: fmt.Sprintf("%s (%s)", inc.LastUpdate, bot.ChatTime(inc.LastUpdateAt))})
	}
	if inc.Private {
		fields = append(fields, bot.Field{Label: "Visibility", Value: "🔒 private"})
	}
	// Updated: when this rendering was made, so it moves whenever any part
	// of the summary (the Paged block too) does.
	m := bot.Message{Title: title, Text: inc.Summary, Fields: fields, Context: "Updated " + bot.ChatTime(now) + " · /incident help"}
	if inc.Status.Active() {
		if inc.AcknowledgedAt.IsZero() {
			m.Buttons = append(m.Buttons, bot.Button{ActionID: bot.ActionAcknowledge, Label: "Acknowledge", Value: inc.ID.String(), Style: bot.ButtonPrimary})
		}
		m.Buttons = append(m.Buttons,
			bot.Button{ActionID: bot.ActionUpdate, Label: "Post update", Value: inc.ID.String()},
			bot.Button{ActionID: bot.ActionSeverity, Label: "Change severity", Value: inc.ID.String()},
			bot.Button{ActionID: bot.ActionResolve, Label: "Resolve", Value: inc.ID.String(), Style: bot.ButtonDanger},
		)
	}
	return m
}

func roleLabel(r bot.Role) string {
	s := string(r)
	return strings.ToUpper(s[:1]) + s[1:]
}

// sortedRoles lists the incident's held roles: commander first, then by name.
func sortedRoles(inc *bot.Incident) []bot.Role {
	var out []bot.Role
	if _, ok := inc.Commander(); ok {
		out = append(out, bot.RoleCommander)
	}
	var rest []string
	for r, u := range inc.Roles {
		if r != bot.RoleCommander && !u.IsZero() {
			rest = append(rest, string(r))
		}
	}
	slices.Sort(rest)
	for _, r := range rest {
		out = append(out, bot.Role(r))
	}
	return out
}

// Announcement tells stakeholders an incident was declared.
func Announcement(inc *bot.Incident, call string) bot.Message {
	text := fmt.Sprintf("%s *%s* declared: %s\nSeverity %s (%s)", SeverityIcon(inc.Severity), inc.Key(), inc.Title, inc.Severity.Name, inc.Severity.Label)
	if inc.Service != "" {
		text += " · service " + inc.Service
	}
	if inc.Type != "" {
		text += " · type " + inc.Type
	}
	if c, ok := inc.Commander(); ok {
		text += " · commander " + c.Mention()
	}
	text += "\nJoin " + inc.Channel.Mention()
	if call != "" {
		text += " · call 📞 " + call
	}
	return bot.Message{Text: text}
}

// ListLine is one incident in /incident list. Private incidents show no
// title outside their own channel.
func ListLine(inc *bot.Incident, now time.Time, showPrivate bool) string {
	title := inc.Title
	if inc.Private && !showPrivate {
		title = "🔒 private incident"
	}
	age := "declared " + bot.Duration(now.Sub(inc.DeclaredAt)) + " ago"
	if !inc.ResolvedAt.IsZero() {
		age = "resolved " + bot.ChatTime(inc.ResolvedAt)
	}
	icon := SeverityIcon(inc.Severity)
	if !inc.Status.Active() {
		icon = "✅" // a red dot is for what is still burning
	}
	line := fmt.Sprintf("%s *%s* · %s · %s · %s · %s", icon, inc.Key(), inc.Severity.Name, inc.Status, title, age)
	if !inc.Channel.IsZero() && (!inc.Private || showPrivate) {
		line += " · " + inc.Channel.Mention()
	}
	return line
}
