package paging

import (
	"context"
	"fmt"

	"github.com/klaxon-bot/klaxon/bot"
)

// ChatPager pages people with a direct message on every chat platform
// they have an account on. The DM carries an Acknowledge button, and a
// reaction with an acknowledgement emoji on it acknowledges too.
type ChatPager struct {
	Chats  []bot.Chat
	People bot.People
}

var _ bot.Sender = (*ChatPager)(nil)

// Send implements bot.Sender.
func (c *ChatPager) Send(ctx context.Context, d bot.Delivery) bot.SendResult {
	if d.Kind != bot.DeliverTrigger {
		return bot.SendResult{Sent: true} // a DM needs no acknowledge or resolve
	}
	var person bot.Person
	for _, p := range c.People {
		if p.ID == d.Person {
			person = p
		}
	}
	text := fmt.Sprintf("📟 You are paged: *%s*.", d.Summary)
	if d.Detail != "" {
		text += "\n" + d.Detail + "."
	}
	msg := bot.Message{Text: text + "\nAcknowledge with the button or react ✅: you will be invited to the channel.",
		Buttons: []bot.Button{{ActionID: ActionAckPage, Label: "Acknowledge", Value: d.PageID.String(), Style: bot.ButtonPrimary}}}
	var posted []bot.PostedRef
	var lastErr error
	for _, chat := range c.Chats {
		uid := person.UserID(chat.Platform())
		if uid == "" {
			continue
		}
		ref, err := chat.DM(ctx, uid, msg)
		if err != nil {
			lastErr = err
			continue
		}
		posted = append(posted, bot.PostedRef{Platform: chat.Platform(), Ref: ref})
	}
	switch {
	case len(posted) > 0:
		// The page's record links the messages, so a reaction acknowledges.
		return bot.SendResult{Sent: true, Posted: posted}
	case lastErr != nil:
		return bot.SendResult{Err: fmt.Errorf("chat DM: %s", bot.ErrorMessage(lastErr))}
	}
	return bot.SendResult{Permanent: true, Err: fmt.Errorf("%s has no account on a connected chat platform", d.Person)}
}
