package discord

import (
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/klaxon-bot/klaxon/bot"
)

// MessageCommandName is the message context-menu command.
const MessageCommandName = "Declare incident"

// option describes how a slash-command option becomes a word of the
// command line that package commands parses.
type option struct {
	name, desc string
	typ        discordgo.ApplicationCommandOptionType
	required   bool
	key        string // "sev" gives sev:<value>; "" puts the value in place
	flag       string // for booleans: the word to add when true
	choices    bool   // severity choices
	complete   bool   // autocomplete (services)
}

var incidentOpt = option{name: "incident", desc: "INC-n, when not typed in the incident's channel", typ: discordgo.ApplicationCommandOptionString}

type subcommand struct {
	name, desc string
	opts       []option
}

// slashCommands mirror klaxon's commands, option for option.
var slashCommands = []struct {
	name, desc string
	subs       []subcommand
}{
	{"incident", "Declare and run incidents", incidentSubs},
	{"oncall", "Who is on call; overrides, swaps and history", oncallSubs},
	{"followup", "Follow-ups (action items)", followupSubs},
}

var followUpOpt = option{name: "id", desc: "The follow-up, e.g. F-3", typ: discordgo.ApplicationCommandOptionString, required: true}

var followupSubs = []subcommand{
	{"list", "List follow-ups", []option{{name: "filter", desc: "mine, open, overdue or all", typ: discordgo.ApplicationCommandOptionString}}},
	{"done", "Mark a follow-up done", []option{followUpOpt}},
	{"reopen", "Reopen a follow-up", []option{followUpOpt}},
}

var scheduleOpt = option{name: "schedule", desc: "Schedule or service (default: yours)", typ: discordgo.ApplicationCommandOptionString, complete: true}

var oncallSubs = []subcommand{
	{"who", "Who is on call now", []option{{name: "service", desc: "A service or schedule (default: all)", typ: discordgo.ApplicationCommandOptionString, complete: true}}},
	{"override", "Put someone on call for a stretch", []option{
		{name: "person", desc: "Who", typ: discordgo.ApplicationCommandOptionUser, required: true},
		{name: "from", desc: "now, 14:00, 2026-12-01T14:00", typ: discordgo.ApplicationCommandOptionString, required: true},
		{name: "until", desc: "A time, or a duration like 4h or 2d", typ: discordgo.ApplicationCommandOptionString, required: true}, scheduleOpt}},
	{"cover", "Someone takes your shift from now on", []option{
		{name: "person", desc: "Who covers", typ: discordgo.ApplicationCommandOptionUser, required: true},
		{name: "duration", desc: "For how long, e.g. 2h", typ: discordgo.ApplicationCommandOptionString, required: true}, scheduleOpt}},
	{"swap", "Offer your next shift to a teammate", []option{scheduleOpt}},
	{"undo", "Revert your last on-call change", nil},
	{"history", "Recent on-call changes", []option{scheduleOpt}},
}

var incidentSubs = []subcommand{
	{"declare", "Declare an incident (no title: open a form)", []option{
		{name: "title", desc: "What is broken, in a few words", typ: discordgo.ApplicationCommandOptionString},
		{name: "severity", desc: "How bad", typ: discordgo.ApplicationCommandOptionString, key: "sev", choices: true},
		{name: "service", desc: "What is affected", typ: discordgo.ApplicationCommandOptionString, key: "service", complete: true},
		{name: "summary", desc: "Who is affected and how", typ: discordgo.ApplicationCommandOptionString, key: "summary"},
		{name: "commander", desc: "Who leads (default: you)", typ: discordgo.ApplicationCommandOptionUser, key: "commander"},
		{name: "private", desc: "Private channel, no announcement", typ: discordgo.ApplicationCommandOptionBoolean, flag: "private"},
	}},
	{"update", "Post a status update", []option{{name: "text", desc: "The update", typ: discordgo.ApplicationCommandOptionString, required: true}, incidentOpt}},
	{"sev", "Change the severity", []option{{name: "level", desc: "The new severity", typ: discordgo.ApplicationCommandOptionString, required: true, choices: true}, incidentOpt}},
	{"role", "Give someone a role", []option{
		{name: "role", desc: "commander, comms, scribe, …", typ: discordgo.ApplicationCommandOptionString, required: true},
		{name: "person", desc: "Who", typ: discordgo.ApplicationCommandOptionUser, required: true}, incidentOpt}},
	{"ack", "Acknowledge: you are on it", []option{incidentOpt}},
	{"mitigate", "Mark the impact as stopped", []option{incidentOpt}},
	{"resolve", "Resolve the incident", []option{{name: "summary", desc: "What fixed it", typ: discordgo.ApplicationCommandOptionString}, incidentOpt}},
	{"reopen", "Reopen a resolved incident", []option{incidentOpt}},
	{"close", "Close a resolved incident for good", []option{incidentOpt}},
	{"note", "Add a key event to the timeline", []option{{name: "text", desc: "The note", typ: discordgo.ApplicationCommandOptionString, required: true}, incidentOpt}},
	{"followup", "Add an action item", []option{{name: "text", desc: "What should be done", typ: discordgo.ApplicationCommandOptionString, required: true},
		{name: "owner", desc: "Who owns it", typ: discordgo.ApplicationCommandOptionUser},
		{name: "due", desc: "Due date, e.g. 2026-12-01", typ: discordgo.ApplicationCommandOptionString, key: "due"}, incidentOpt}},
	{"timeline", "Show the key events (all: everything)", []option{{name: "all", desc: "Show everything", typ: discordgo.ApplicationCommandOptionBoolean, flag: "all"}, incidentOpt}},
	{"stats", "Counts, MTTA, MTTM, MTTR", []option{{name: "window", desc: "e.g. 30d", typ: discordgo.ApplicationCommandOptionString},
		{name: "service", desc: "A service", typ: discordgo.ApplicationCommandOptionString, complete: true}}},
	{"page", "Page more people", []option{{name: "who", desc: "@person or a service", typ: discordgo.ApplicationCommandOptionString, required: true}, incidentOpt}},
	{"status", "Show the incident's summary", []option{incidentOpt}},
	{"list", "List open incidents", []option{{name: "all", desc: "The latest 25 of any status", typ: discordgo.ApplicationCommandOptionBoolean, flag: "all"}}},
	{"help", "Show the commands", []option{{name: "command", desc: "A command to explain", typ: discordgo.ApplicationCommandOptionString}}},
}

// applicationCommands is what klaxon registers in the guild.
func (a *Adapter) applicationCommands() []*discordgo.ApplicationCommand {
	var sevChoices []*discordgo.ApplicationCommandOptionChoice
	for _, s := range a.cfg.Severities {
		sevChoices = append(sevChoices, &discordgo.ApplicationCommandOptionChoice{Name: cut(s.Name+" — "+s.Label, 100), Value: s.Name})
	}
	var out []*discordgo.ApplicationCommand
	for _, c := range slashCommands {
		cmd := &discordgo.ApplicationCommand{Name: c.name, Description: c.desc, Type: discordgo.ChatApplicationCommand}
		for _, sc := range c.subs {
			sub := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommand, Name: sc.name, Description: sc.desc}
			for _, o := range sc.opts {
				opt := &discordgo.ApplicationCommandOption{Type: o.typ, Name: o.name, Description: o.desc, Required: o.required, Autocomplete: o.complete}
				if o.choices {
					opt.Choices = sevChoices
				}
				sub.Options = append(sub.Options, opt)
			}
			cmd.Options = append(cmd.Options, sub)
		}
		out = append(out, cmd)
	}
	return append(out, &discordgo.ApplicationCommand{Name: MessageCommandName, Type: discordgo.MessageApplicationCommand})
}

// quote writes a value as one word of a klaxon command line.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// commandText turns a slash-command interaction into the command line
// package commands parses: `/incident sev INC-4 "SEV1"`.
func commandText(d discordgo.ApplicationCommandInteractionData) (string, error) {
	if len(d.Options) != 1 || d.Options[0].Type != discordgo.ApplicationCommandOptionSubCommand {
		return "", fmt.Errorf("/%s needs a subcommand", d.Name)
	}
	sub := d.Options[0]
	words := []string{"/" + d.Name, sub.Name}
	given := map[string]*discordgo.ApplicationCommandInteractionDataOption{}
	for _, o := range sub.Options {
		given[o.Name] = o
	}
	// The incident goes first, as the commands expect.
	if o, ok := given["incident"]; ok {
		words = append(words, quote(o.StringValue()))
	}
	var subs []subcommand
	for _, c := range slashCommands {
		if c.name == d.Name {
			subs = c.subs
		}
	}
	for _, sc := range subs {
		if sc.name != sub.Name {
			continue
		}
		for _, spec := range sc.opts {
			o, ok := given[spec.name]
			if !ok || spec.name == "incident" {
				continue
			}
			var value string
			switch o.Type {
			case discordgo.ApplicationCommandOptionBoolean:
				if o.BoolValue() {
					words = append(words, spec.flag)
				}
				continue
			case discordgo.ApplicationCommandOptionUser:
				value = (&bot.User{ID: fmt.Sprint(o.Value)}).Mention()
			default:
				value = fmt.Sprint(o.Value)
			}
			if spec.key != "" {
				words = append(words, spec.key+":"+quote(value))
			} else {
				words = append(words, quote(value))
			}
		}
	}
	return strings.Join(words, " "), nil
}
