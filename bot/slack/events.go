package slack

import (
	"strings"

	"github.com/slack-go/slack/slackevents"

	"github.com/klaxon-bot/klaxon/bot"
)

// translate turns a Slack event into an Activity for the timeline or a
// Question for klaxon. It reports ok=false for events klaxon ignores, such
// as its own messages.
func (a *Adapter) translate(inner any, eventID string) (act bot.Activity, q *bot.Question, ok bool) {
	act = bot.Activity{Platform: bot.PlatformSlack, SourceID: "slack:" + eventID, Time: a.clock.Now()}
	switch e := inner.(type) {
	case *slackevents.MessageEvent:
		return a.translateMessage(act, e)
	case *slackevents.AppMentionEvent:
		if e.User == a.botUserID {
			return act, nil, false
		}
		text := strings.TrimSpace(strings.ReplaceAll(e.Text, "<@"+a.botUserID+">", ""))
		ref := e.ThreadTimeStamp
		if ref == "" {
			ref = e.TimeStamp
		}
		return act, &bot.Question{Platform: bot.PlatformSlack, User: bot.User{ID: e.User}, Channel: bot.ChannelRef{ID: e.Channel},
			Text: text, Ref: bot.MessageRef{Channel: e.Channel, ID: ref}, Time: ts(e.TimeStamp)}, false
	case *slackevents.ReactionAddedEvent:
		return reaction(act, e.User, e.Item, e.Reaction, e.EventTimestamp, false), nil, e.Item.Channel != ""
	case *slackevents.ReactionRemovedEvent:
		return reaction(act, e.User, e.Item, e.Reaction, e.EventTimestamp, true), nil, e.Item.Channel != ""
	case *slackevents.PinAddedEvent:
		act.Kind, act.User, act.Channel = bot.EventPin, bot.User{ID: e.User}, bot.ChannelRef{ID: e.Channel}
		act.Time = ts(e.EventTimestamp)
		if e.Item.Message != nil {
			act.Ref = bot.MessageRef{Channel: e.Channel, ID: e.Item.Message.Timestamp}
			act.Text = e.Item.Message.Text
		}
		return act, nil, e.User != a.botUserID
	case *slackevents.MemberJoinedChannelEvent:
		act.Kind, act.User, act.Channel = bot.EventJoin, bot.User{ID: e.User}, bot.ChannelRef{ID: e.Channel}
		act.Time = ts(e.EventTimestamp)
		return act, nil, e.User != a.botUserID
	}
	return act, nil, false
}

func reaction(act bot.Activity, user string, item slackevents.Item, name, at string, removed bool) bot.Activity {
	act.Kind, act.User = bot.EventReaction, bot.User{ID: user}
	act.Channel = bot.ChannelRef{ID: item.Channel}
	act.Ref = bot.MessageRef{Channel: item.Channel, ID: item.Timestamp}
	act.Emoji = bot.NormalizeEmoji(name)
	act.Time = ts(at)
	if removed {
		act.Text = "removed " + act.Emoji
		act.Emoji = ""
	}
	return act
}

func (a *Adapter) translateMessage(act bot.Activity, e *slackevents.MessageEvent) (bot.Activity, *bot.Question, bool) {
	act.Channel = bot.ChannelRef{ID: e.Channel}
	act.Time = ts(e.TimeStamp)
	switch e.SubType {
	case "message_changed":
		if e.Message == nil || a.mine(e.Message.User, e.Message.BotID) {
			return act, nil, false
		}
		act.Kind, act.User, act.Text = bot.EventMessageEdit, bot.User{ID: e.Message.User}, e.Message.Text
		act.Ref = bot.MessageRef{Channel: e.Channel, ID: e.Message.Timestamp}
		if e.PreviousMessage != nil {
			act.PrevText = e.PreviousMessage.Text
		}
		return act, nil, true
	case "message_deleted":
		act.Kind, act.Ref = bot.EventMessageDelete, bot.MessageRef{Channel: e.Channel, ID: e.DeletedTimeStamp}
		if e.PreviousMessage != nil {
			if a.mine(e.PreviousMessage.User, e.PreviousMessage.BotID) {
				return act, nil, false
			}
			act.User, act.PrevText = bot.User{ID: e.PreviousMessage.User}, e.PreviousMessage.Text
		}
		return act, nil, true
	case "channel_join":
		act.Kind, act.User = bot.EventJoin, bot.User{ID: e.User}
		return act, nil, e.User != a.botUserID
	case "", "thread_broadcast", "file_share", "bot_message", "me_message":
	default:
		return act, nil, false // topic changes, pins echoed as messages, …
	}
	if a.mine(e.User, e.BotID) {
		return act, nil, false
	}
	if e.ChannelType == "im" {
		return act, &bot.Question{Platform: bot.PlatformSlack, User: bot.User{ID: e.User}, Channel: bot.ChannelRef{ID: e.Channel},
			Text: e.Text, Ref: bot.MessageRef{Channel: e.Channel, ID: e.TimeStamp}, Direct: true, Time: act.Time}, false
	}
	act.Kind, act.User, act.Text = bot.EventMessage, bot.User{ID: e.User, Name: e.Username}, e.Text
	act.Ref = bot.MessageRef{Channel: e.Channel, ID: e.TimeStamp}
	if e.Message != nil && len(e.Message.Files) > 0 {
		act.Kind = bot.EventFile
		var names []string
		for _, f := range e.Message.Files {
			names = append(names, f.Name)
		}
		act.Text = strings.TrimSpace(e.Text + " [files: " + strings.Join(names, ", ") + "]")
	}
	if e.ThreadTimeStamp != "" && e.ThreadTimeStamp != e.TimeStamp {
		act.Text = "(in thread) " + act.Text
	}
	return act, nil, true
}

// mine reports whether a message came from klaxon itself: its notices are
// already on the timeline as lifecycle events.
func (a *Adapter) mine(user, botID string) bool {
	return (user != "" && user == a.botUserID) || (botID != "" && botID == a.botID)
}
