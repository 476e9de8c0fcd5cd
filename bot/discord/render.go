package discord

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/klaxon-bot/klaxon/bot"
)

func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// slackBold matches *bold* in klaxon's neutral text; Discord spells it **bold**.
var slackBold = regexp.MustCompile(`(^|[^*\w])\*([^*\n]+)\*($|[^*\w])`)

// markdown turns klaxon's neutral markup into Discord's.
func markdown(s string) string { return slackBold.ReplaceAllString(s, "$1**$2**$3") }

// customID packs an action id and its value into a component's custom_id
// (Discord allows 100 characters).
func customID(parts ...string) string { return cut(strings.Join(parts, "|"), 100) }

// messageSend renders m: plain notices as content (so mentions notify),
// anything with a title or fields as an embed, buttons as components.
func messageSend(m bot.Message) *discordgo.MessageSend {
	send := &discordgo.MessageSend{AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{discordgo.AllowedMentionTypeUsers}}}
	if m.Title == "" && len(m.Fields) == 0 {
		text := markdown(m.Text)
		if m.Context != "" {
			text += "\n-# " + m.Context
		}
		send.Content = cut(text, 2000)
	} else {
		e := &discordgo.MessageEmbed{Title: cut(m.Title, 256), Description: cut(markdown(m.Text), 4096)}
		for _, f := range m.Fields[:min(len(m.Fields), 25)] {
			e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: cut(f.Label, 256), Value: cut(markdown(f.Value), 1024), Inline: true})
		}
		if m.Context != "" {
			e.Footer = &discordgo.MessageEmbedFooter{Text: cut(m.Context, 2048)}
		}
		send.Embeds = []*discordgo.MessageEmbed{e}
	}
	send.Components = buttons(m.Buttons)
	return send
}

func buttons(bs []bot.Button) []discordgo.MessageComponent {
	var rows []discordgo.MessageComponent
	for i := 0; i < len(bs) && len(rows) < 5; i += 5 {
		var row discordgo.ActionsRow
		for _, b := range bs[i:min(i+5, len(bs))] {
			style := discordgo.SecondaryButton
			switch b.Style {
			case bot.ButtonPrimary:
				style = discordgo.PrimaryButton
			case bot.ButtonDanger:
				style = discordgo.DangerButton
			}
			row.Components = append(row.Components, discordgo.Button{Label: cut(b.Label, 80), Style: style, CustomID: customID(b.ActionID, b.Value)})
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
	if len(id) >= 100 {
		return nil, fmt.Errorf("discord: form %s metadata is too long for a custom_id", f.ID)
	}
	data := &discordgo.InteractionResponseData{CustomID: id, Title: cut(f.Title, 45)}
	for _, fld := range f.Fields {
		if len(data.Components) == 5 {
			break
		}
		in := discordgo.TextInput{CustomID: fld.ID, Label: cut(fld.Label, 45), Style: discordgo.TextInputShort, Required: !fld.Optional,
			Value: cut(fld.Initial, 4000), Placeholder: cut(fld.Placeholder, 100), MaxLength: min(fld.MaxLength, 4000)}
		switch fld.Kind {
		case bot.FieldTextArea:
			in.Style = discordgo.TextInputParagraph
		case bot.FieldSelect:
			var values []string
			for _, o := range fld.Options {
				values = append(values, o.Value)
			}
			in.Placeholder = cut("One of: "+strings.Join(values, ", "), 100)
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
