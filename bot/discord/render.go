package discord

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/klaxon-bot/klaxon/bot"
)

// slackBold matches *bold* in klaxon's neutral text; Discord spells it **bold**.
var slackBold = regexp.MustCompile(`(^|[^*\w])\*([^*\n]+)\*($|[^*\w])`)

// markdown turns klaxon's neutral markup into Discord's.
// Square brackets are escaped, so text from people and alerts cannot
// make a masked link ([click to re-auth](https://evil.example)), and
// control characters are dropped. (@everyone, @here and role mentions in
// such text do not notify: klaxon's messages only let user mentions.)
// A time token (bot.ChatTime, bot.ChatClock) becomes a Discord timestamp,
// which each reader sees in their own zone.
func markdown(s string) string {
	s = strings.NewReplacer("[", `\[`, "]", `\]`).Replace(bot.CleanText(s))
	s = bot.TimeToken.ReplaceAllString(s, "<t:$1:$2>")
	return slackBold.ReplaceAllString(s, "$1**$2**$3")
}

// Discord's limits (docs: resources/message#embed-object-embed-limits,
// components/reference); the strict fake in discordfake enforces them.
const (
	maxContent    = 2000
	maxTitle      = 256
	maxDesc       = 4096
	maxFields     = 25
	maxFieldName  = 256
	maxFieldValue = 1024
	maxFooter     = 2048
	maxEmbedTotal = 6000 // title, description, fields and footer of all embeds together
	maxRows       = 5
	maxRowButtons = 5
	maxCustomID   = 100
	maxLabel      = 80
)

// customID packs an action id and its value into a component's custom_id.
func customID(parts ...string) string { return strings.Join(parts, "|") }

// messageSend renders m: plain notices as content (so mentions notify),
// anything with a title or fields as an embed, buttons as components.
func messageSend(m bot.Message) *discordgo.MessageSend {
	send := &discordgo.MessageSend{AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{discordgo.AllowedMentionTypeUsers}}}
	if m.Title == "" && len(m.Fields) == 0 {
		text := markdown(m.Text)
		if m.Context != "" {
			text += "\n-# " + m.Context
		}
		send.Content = bot.Cut(text, maxContent)
	} else {
		send.Embeds = []*discordgo.MessageEmbed{embed(m)}
	}
	send.Components = buttons(m.Buttons)
	return send
}

// embed renders m as one embed within Discord's limits, the 6,000
// characters of all its texts included: the footer, then the description,
// then fields from the end give way, and a last field counts what was
// left out.
func embed(m bot.Message) *discordgo.MessageEmbed {
	// Titles and footers render no timestamps: their times read as UTC.
	e := &discordgo.MessageEmbed{Title: bot.Cut(bot.PlainTimes(m.Title), maxTitle), Description: bot.Cut(markdown(m.Text), maxDesc)}
	if m.Context != "" {
		e.Footer = &discordgo.MessageEmbedFooter{Text: bot.Cut(bot.PlainTimes(m.Context), maxFooter)}
	}
	var fields []*discordgo.MessageEmbedField
	for _, f := range m.Fields {
		name, value := bot.Cut(f.Label, maxFieldName), bot.Cut(markdown(f.Value), maxFieldValue)
		if name == "" {
			name = "\u200b" // Discord requires both; a zero-width space reads as nothing
		}
		if value == "" {
			value = "\u200b"
		}
		fields = append(fields, &discordgo.MessageEmbedField{Name: name, Value: value, Inline: true})
	}
	n := utf8.RuneCountInString
	size := func() int {
		t := n(e.Title) + n(e.Description)
		if e.Footer != nil {
			t += n(e.Footer.Text)
		}
		for _, f := range e.Fields {
			t += n(f.Name) + n(f.Value)
		}
		return t
	}
	fit := func(keep int) {
		e.Fields = fields[:keep]
		if keep < len(fields) {
			e.Fields = append(e.Fields[:keep:keep], &discordgo.MessageEmbedField{Name: "…", Value: fmt.Sprintf("and %d more", len(fields)-keep)})
		}
	}
	keep := min(len(fields), maxFields)
	if keep < len(fields) {
		keep = maxFields - 1
	}
	fit(keep)
	for size() > maxEmbedTotal && keep > 0 {
		keep--
		fit(keep)
	}
	if over := size() - maxEmbedTotal; over > 0 && e.Footer != nil {
		e.Footer.Text = bot.Cut(e.Footer.Text, max(n(e.Footer.Text)-over, 1))
	}
	if over := size() - maxEmbedTotal; over > 0 {
		e.Description = bot.Cut(e.Description, max(n(e.Description)-over, 1))
	}
	return e
}

// buttons lays out bs in action rows. A button whose custom_id Discord
// would refuse (too long, or the same as another's) cannot work, and is
// left out rather than losing the message.
func buttons(bs []bot.Button) []discordgo.MessageComponent {
	seen := map[string]bool{}
	var ok []bot.Button
	for _, b := range bs {
		id := customID(b.ActionID, b.Value)
		if b.ActionID == "" || len(id) > maxCustomID || seen[id] {
			continue
		}
		seen[id] = true
		ok = append(ok, b)
	}
	bs = ok
	var rows []discordgo.MessageComponent
	for i := 0; i < len(bs) && len(rows) < maxRows; i += maxRowButtons {
		var row discordgo.ActionsRow
		for _, b := range bs[i:min(i+maxRowButtons, len(bs))] {
			style := discordgo.SecondaryButton
			switch b.Style {
			case bot.ButtonPrimary:
				style = discordgo.PrimaryButton
			case bot.ButtonDanger:
				style = discordgo.DangerButton
			}
			row.Components = append(row.Components, discordgo.Button{Label: bot.Cut(b.Label, maxLabel), Style: style, CustomID: customID(b.ActionID, b.Value)})
		}
		rows = append(rows, row)
	}
	return rows
}

// modal renders a form. Discord modals hold at most five text inputs, so
// selects become text inputs that list their choices, and user pickers and
// checkboxes are left out (the slash command has options for them).
func modal(f bot.Form) (*discordgo.InteractionResponseData, error) {
	id := customID(f.ID, f.Channel.ID, f.Metadata)
	if len(id) > maxCustomID {
		return nil, fmt.Errorf("discord: form %s metadata is too long for a custom_id", f.ID)
	}
	data := &discordgo.InteractionResponseData{CustomID: id, Title: bot.Cut(f.Title, 45)}
	for _, fld := range f.Fields {
		if len(data.Components) == 5 {
			break
		}
		in := discordgo.TextInput{CustomID: fld.ID, Label: bot.Cut(fld.Label, 45), Style: discordgo.TextInputShort, Required: !fld.Optional,
			Value: bot.Cut(fld.Initial, 4000), Placeholder: bot.Cut(fld.Placeholder, 100), MaxLength: min(fld.MaxLength, 4000)}
		switch fld.Kind {
		case bot.FieldTextArea:
			in.Style = discordgo.TextInputParagraph
		case bot.FieldSelect:
			var values []string
			for _, o := range fld.Options {
				values = append(values, o.Value)
			}
			in.Placeholder = bot.Cut("One of: "+strings.Join(values, ", "), 100)
		case bot.FieldUser, bot.FieldCheckbox:
			continue
		}
		data.Components = append(data.Components, discordgo.ActionsRow{Components: []discordgo.MessageComponent{in}})
	}
	return data, nil
}

// parseModal reads a submitted modal's custom_id and values.
func parseModal(d discordgo.ModalSubmitInteractionData) (formID, channelID, metadata string, values map[string]string) {
	parts := strings.SplitN(d.CustomID, "|", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	values = map[string]string{}
	for _, row := range d.Components {
		r, ok := row.(*discordgo.ActionsRow)
		if !ok {
			continue
		}
		for _, c := range r.Components {
			if in, ok := c.(*discordgo.TextInput); ok {
				values[in.CustomID] = in.Value
			}
		}
	}
	return parts[0], parts[1], parts[2], values
}
