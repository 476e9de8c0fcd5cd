package discord

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/klaxon-bot/klaxon/bot"
)

// MessageCommandName is the message context-menu command.
const MessageCommandName = "Declare incident"

// applicationCommands is what klaxon registers in the guild: one slash
// command per root of the command registry (/incident, /oncall,
// /followup), one subcommand per command, one typed option per parameter,
// and the message command. It is made from the registry, so every chat
// command and option exists on Discord too.
func (a *Adapter) applicationCommands(m *bot.Mux) []*discordgo.ApplicationCommand {
	var sevChoices []*discordgo.ApplicationCommandOptionChoice
	for _, s := range a.cfg.Severities {
		sevChoices = append(sevChoices, &discordgo.ApplicationCommandOptionChoice{Name: bot.Cut(s.Name+" — "+s.Label, 100), Value: s.Name})
	}
	var out []*discordgo.ApplicationCommand
	for _, root := range m.Roots() {
		cmd := &discordgo.ApplicationCommand{Name: root.Name, Description: bot.Cut(cmp.Or(root.Summary, "klaxon /"+root.Name), 100), Type: discordgo.ChatApplicationCommand}
		for _, c := range m.Commands(root.Name) {
			name, ok := strings.CutPrefix(c.Name, root.Name+" ")
			if !ok || c.AliasOf != "" {
				continue
			}
			sub := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommand, Name: name, Description: bot.Cut(c.Summary, 100)}
			// Discord wants required options first; the command line keeps
			// the registry's order (commandText).
			params := slices.Clone(c.Params)
			slices.SortStableFunc(params, func(x, y bot.Param) int { return cmp.Compare(boolInt(!x.Required), boolInt(!y.Required)) })
			for _, p := range params {
				opt := &discordgo.ApplicationCommandOption{Type: optionType(p.Kind), Name: p.Name, Description: bot.Cut(p.Desc, 100), Required: p.Required}
				switch p.Kind {
				case bot.ParamSeverity:
					opt.Choices = sevChoices
				case bot.ParamService, bot.ParamSchedule:
					opt.Autocomplete = true
				}
				sub.Options = append(sub.Options, opt)
			}
			cmd.Options = append(cmd.Options, sub)
		}
		out = append(out, cmd)
	}
	return append(out, &discordgo.ApplicationCommand{Name: MessageCommandName, Type: discordgo.MessageApplicationCommand})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// optionType is the Discord option type of a parameter kind.
func optionType(k bot.ParamKind) discordgo.ApplicationCommandOptionType {
	switch k {
	case bot.ParamUser:
		return discordgo.ApplicationCommandOptionUser
	case bot.ParamFlag:
		return discordgo.ApplicationCommandOptionBoolean
	}
	return discordgo.ApplicationCommandOptionString
}

// quote writes a value as one word of a klaxon command line.

// commandText turns a slash-command interaction into the command line
// package commands parses, `/incident sev "INC-4" "SEV1"`, with the words
// in the order of the command's parameters in the registry.
func commandText(d discordgo.ApplicationCommandInteractionData, m *bot.Mux) (string, error) {
	if len(d.Options) != 1 || d.Options[0].Type != discordgo.ApplicationCommandOptionSubCommand {
		return "", fmt.Errorf("/%s needs a subcommand", d.Name)
	}
	sub := d.Options[0]
	words := []string{"/" + d.Name, sub.Name}
	cmd, rest := m.Lookup([]string{d.Name, sub.Name})
	if cmd == nil || len(rest) > 0 {
		return "", fmt.Errorf("/%s %s is not a klaxon command", d.Name, sub.Name)
	}
	given := map[string]*discordgo.ApplicationCommandInteractionDataOption{}
	for _, o := range sub.Options {
		given[o.Name] = o
	}
	for _, p := range cmd.Params {
		o, ok := given[p.Name]
		if !ok {
			continue
		}
		var value string
		switch o.Type {
		case discordgo.ApplicationCommandOptionBoolean:
			if o.BoolValue() {
				words = append(words, p.Flag)
			}
			continue
		case discordgo.ApplicationCommandOptionUser:
			value = (&bot.User{ID: fmt.Sprint(o.Value)}).Mention()
		default:
			value = fmt.Sprint(o.Value)
		}
		if p.Key != "" {
			words = append(words, p.Key+":"+bot.QuoteArg(value))
		} else {
			words = append(words, bot.QuoteArg(value))
		}
	}
	return strings.Join(words, " "), nil
}
