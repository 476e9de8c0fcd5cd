// Package chattest is the contract every bot.Chat implementation must meet.
// Each adapter's tests call Run with a fresh chat and a view of the platform
// behind it (the console itself, or a protocol-level fake of Slack or
// Discord), so all platforms behave alike where klaxon depends on it.
package chattest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/klaxon-bot/klaxon/bot"
)

// Platform is the platform's side, as a test sees it.
type Platform interface {
	// ChannelByName finds a channel the chat created.
	ChannelByName(name string) (Channel, bool)
	// Message returns a message's text as the platform shows it.
	Message(ref bot.MessageRef) (string, bool)
	// DMs returns the texts of the direct messages sent to user.
	DMs(userID string) []string
	// Files returns the files uploaded to a channel, oldest first.
	Files(channelID string) []bot.File
}

// Groups is the platform's side of a chat that keeps groups
// (bot.GroupKeeper).
type Groups interface {
	// Group is a group the chat may keep (a handle, a role id).
	Group() string
	// GroupMembers lists who the platform says is in it now, sorted.
	GroupMembers(group string) []string
}

// Channel is a channel as the platform holds it.
type Channel struct {
	ID      string
	Private bool
	Topic   string
	Members []string
	Pins    []string // message ids
	// Archived: the channel takes no more posts (Slack: archived;
	// Discord: read-only in the archive category).
	Archived bool
}

// Setup is one fresh chat under test.
type Setup struct {
	Chat     bot.Chat
	Platform Platform
	Users    []string // ids of two existing users that can be invited and DMed
	// Groups, for a chat that is a bot.GroupKeeper.
	Groups Groups
}

// Run runs the contract against chats made by newSetup.
func Run(t *testing.T, newSetup func(t *testing.T) Setup) {
	ctx := context.Background()
	// Channel names are unique per run, so one platform may serve all subtests.
	var n int
	name := func(prefix string) string { n++; return fmt.Sprintf("%s-%d", prefix, n) }

	t.Run("CreateChannel", func(t *testing.T) {
		s := newSetup(t)
		for _, private := range []bool{false, true} {
			want := name("inc-contract")
			ref, err := s.Chat.CreateChannel(ctx, bot.ChannelSpec{Name: want, Private: private, Topic: "INC-1 · SEV1"})
			if err != nil {
				t.Fatalf("CreateChannel(%s, private=%v): %v", want, private, err)
			}
			if ref.ID == "" || ref.Name != want {
				t.Errorf("CreateChannel(%s) = %+v; want an id and the name", want, ref)
			}
			ch, ok := s.Platform.ChannelByName(want)
			if !ok || ch.ID != ref.ID || ch.Private != private {
				t.Errorf("platform has %+v, %v; want channel %s private=%v", ch, ok, ref.ID, private)
			}
		}
	})

	t.Run("CreateChannelNameTaken", func(t *testing.T) {
		s := newSetup(t)
		taken := name("inc-taken")
		if _, err := s.Chat.CreateChannel(ctx, bot.ChannelSpec{Name: taken}); err != nil {
			t.Fatal(err)
		}
		_, err := s.Chat.CreateChannel(ctx, bot.ChannelSpec{Name: taken})
		if !errors.Is(err, bot.ErrNameTaken) {
			t.Errorf("second CreateChannel(%s): err = %v; want one wrapping bot.ErrNameTaken", taken, err)
		}
	})

	t.Run("InviteTopicPostUpdatePin", func(t *testing.T) {
		s := newSetup(t)
		chName := name("inc-life")
		ref, err := s.Chat.CreateChannel(ctx, bot.ChannelSpec{Name: chName})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Chat.Invite(ctx, ref.ID, s.Users...); err != nil {
			t.Fatalf("Invite: %v", err)
		}
		if err := s.Chat.Invite(ctx, ref.ID, s.Users[0]); err != nil {
			t.Errorf("inviting a member again must not fail: %v", err)
		}
		if err := s.Chat.SetTopic(ctx, ref.ID, "INC-9 · SEV2 · open"); err != nil {
			t.Fatalf("SetTopic: %v", err)
		}
		msg, err := s.Chat.Post(ctx, ref.ID, bot.Message{Title: "INC-9 summary", Text: "first version", Fields: []bot.Field{{Label: "Status", Value: "open"}},
			Buttons: []bot.Button{{ActionID: bot.ActionResolve, Label: "Resolve", Value: "x"}}})
		if err != nil {
			t.Fatalf("Post: %v", err)
		}
		if msg.ID == "" || msg.Channel != ref.ID {
			t.Errorf("Post returned %+v; want a message in %s", msg, ref.ID)
		}
		if err := s.Chat.Update(ctx, msg, bot.Message{Title: "INC-9 summary", Text: "second version"}); err != nil {
			t.Fatalf("Update: %v", err)
		}
		if err := s.Chat.Pin(ctx, msg); err != nil {
			t.Fatalf("Pin: %v", err)
		}

		ch, _ := s.Platform.ChannelByName(chName)
		for _, u := range s.Users {
			if !slices.Contains(ch.Members, u) {
				t.Errorf("members %v lack %s", ch.Members, u)
			}
		}
		if ch.Topic != "INC-9 · SEV2 · open" {
			t.Errorf("topic = %q", ch.Topic)
		}
		if !slices.Contains(ch.Pins, msg.ID) {
			t.Errorf("pins %v lack %s", ch.Pins, msg.ID)
		}
		text, ok := s.Platform.Message(msg)
		if !ok || !strings.Contains(text, "second version") || strings.Contains(text, "first version") {
			t.Errorf("message after update = %q, %v; want the second version only", text, ok)
		}
	})

	t.Run("MentionsRender", func(t *testing.T) {
		s := newSetup(t)
		chName := name("inc-mention")
		ref, err := s.Chat.CreateChannel(ctx, bot.ChannelSpec{Name: chName})
		if err != nil {
			t.Fatal(err)
		}
		u := bot.User{ID: s.Users[0]}
		msg, err := s.Chat.Post(ctx, ref.ID, bot.Message{Text: "commander " + u.Mention() + " in " + ref.Mention()})
		if err != nil {
			t.Fatal(err)
		}
		text, _ := s.Platform.Message(msg)
		if !strings.Contains(text, s.Users[0]) {
			t.Errorf("message %q does not mention %s", text, s.Users[0])
		}
	})

	t.Run("DM", func(t *testing.T) {
		s := newSetup(t)
		if _, err := s.Chat.DM(ctx, s.Users[1], bot.Message{Text: "You are paged for INC-3"}); err != nil {
			t.Fatalf("DM: %v", err)
		}
		dms := s.Platform.DMs(s.Users[1])
		if len(dms) == 0 || !strings.Contains(dms[len(dms)-1], "You are paged for INC-3") {
			t.Errorf("DMs(%s) = %q", s.Users[1], dms)
		}
	})

	t.Run("Upload", func(t *testing.T) {
		s := newSetup(t)
		chName := name("inc-upload")
		ref, err := s.Chat.CreateChannel(ctx, bot.ChannelSpec{Name: chName})
		if err != nil {
			t.Fatal(err)
		}
		content := []byte("# INC-9: DB down\n\n| a | b |\n")
		if _, err := s.Chat.Upload(ctx, ref.ID, bot.File{Name: "INC-9-postmortem.md", Content: content, Comment: "📝 Postmortem draft"}); err != nil {
			t.Fatalf("Upload: %v", err)
		}
		files := s.Platform.Files(ref.ID)
		if len(files) != 1 || files[0].Name != "INC-9-postmortem.md" || string(files[0].Content) != string(content) {
			t.Errorf("files in the channel = %+v", files)
		}
	})

	t.Run("SetGroup", func(t *testing.T) {
		s := newSetup(t)
		keeper, ok := s.Chat.(bot.GroupKeeper)
		if !ok || s.Groups == nil {
			if ok {
				t.Fatal("the chat keeps groups but the setup has no Groups to check them")
			}
			return // a chat without groups (the console) has nothing to meet here
		}
		group := s.Groups.Group()
		a, b := s.Users[0], s.Users[1]
		for _, want := range [][]string{{a}, {a, b}, {b}, {b}, {}, {}, {a}} {
			if err := keeper.SetGroup(ctx, group, want); err != nil {
				t.Fatalf("SetGroup(%s, %v): %v", group, want, err)
			}
			sorted := slices.Sorted(slices.Values(want))
			if got := s.Groups.GroupMembers(group); !slices.Equal(got, sorted) {
				t.Fatalf("after SetGroup(%s, %v) the platform has %v", group, want, got)
			}
		}
	})

	t.Run("Archive", func(t *testing.T) {
		s := newSetup(t)
		a, ok := s.Chat.(bot.Archiver)
		if !ok {
			t.Fatal("the chat cannot archive incident channels")
		}
		// Public here: an adapter not yet connected may not know its own id,
		// which it needs to see a private channel (the adapters' own tests
		// archive private ones).
		ref, err := s.Chat.CreateChannel(ctx, bot.ChannelSpec{Name: name("archive")})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Chat.Post(ctx, ref.ID, bot.Message{Text: "last words"}); err != nil {
			t.Fatal(err)
		}
		for range 2 { // idempotent
			if err := a.Archive(ctx, ref.ID); err != nil {
				t.Fatalf("Archive: %v", err)
			}
		}
		if ch, _ := s.Platform.ChannelByName(ref.Name); !ch.Archived || ch.Private {
			t.Fatalf("after Archive the platform has %+v", ch)
		}
	})

	t.Run("UnknownChannel", func(t *testing.T) {
		s := newSetup(t)
		if _, err := s.Chat.Post(ctx, "no-such-channel-id", bot.Message{Text: "x"}); err == nil {
			t.Error("Post to an unknown channel succeeded")
		}
		if err := s.Chat.Update(ctx, bot.MessageRef{Channel: "no-such-channel-id", ID: "1"}, bot.Message{Text: "x"}); err == nil {
			t.Error("Update of an unknown message succeeded")
		}
	})
}
