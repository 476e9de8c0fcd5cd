package slack

import (
	"encoding/json"
	"io"
	"testing"

	"github.com/rs/zerolog"
	"github.com/slack-go/slack/slackevents"

	"github.com/klaxon-bot/klaxon/bot"
)

// TestTranslate feeds Events API payloads in Slack's wire format through
// slack-go's own parser and checks what klaxon makes of them.
func TestTranslate(t *testing.T) {
	a := New(Config{Log: zerolog.New(io.Discard)})
	a.botUserID, a.botID = "UKLAXON", "BKLAXON"
	tests := []struct {
		name  string
		event string
		want  bot.Activity // Kind "" means ignored
		q     *bot.Question
	}{
		{"message", `{"type":"message","channel":"C1","user":"U1","text":"hi","ts":"1700000000.000100"}`,
			bot.Activity{Kind: bot.EventMessage, Text: "hi", User: bot.User{ID: "U1"}, Ref: bot.MessageRef{Channel: "C1", ID: "1700000000.000100"}}, nil},
		{"thread reply", `{"type":"message","channel":"C1","user":"U1","text":"on it","ts":"1700000001.000100","thread_ts":"1700000000.000100"}`,
			bot.Activity{Kind: bot.EventMessage, Text: "(in thread) on it", User: bot.User{ID: "U1"}, Ref: bot.MessageRef{Channel: "C1", ID: "1700000001.000100"}}, nil},
		{"file share", `{"type":"message","subtype":"file_share","channel":"C1","user":"U1","text":"graph","ts":"1700000002.000100","files":[{"id":"F1","name":"p99.png"}]}`,
			bot.Activity{Kind: bot.EventFile, Text: "graph [files: p99.png]", User: bot.User{ID: "U1"}, Ref: bot.MessageRef{Channel: "C1", ID: "1700000002.000100"}}, nil},
		{"edit", `{"type":"message","subtype":"message_changed","channel":"C1","ts":"1700000003.000100","message":{"type":"message","user":"U1","text":"new","ts":"1700000000.000100"},"previous_message":{"type":"message","user":"U1","text":"old","ts":"1700000000.000100"}}`,
			bot.Activity{Kind: bot.EventMessageEdit, Text: "new", PrevText: "old", User: bot.User{ID: "U1"}, Ref: bot.MessageRef{Channel: "C1", ID: "1700000000.000100"}}, nil},
		{"delete", `{"type":"message","subtype":"message_deleted","channel":"C1","ts":"1700000004.000100","deleted_ts":"1700000000.000100","previous_message":{"type":"message","user":"U1","text":"old","ts":"1700000000.000100"}}`,
			bot.Activity{Kind: bot.EventMessageDelete, PrevText: "old", User: bot.User{ID: "U1"}, Ref: bot.MessageRef{Channel: "C1", ID: "1700000000.000100"}}, nil},
		{"reaction", `{"type":"reaction_added","user":"U1","reaction":"pushpin","item":{"type":"message","channel":"C1","ts":"1700000000.000100"},"event_ts":"1700000005.000100"}`,
			bot.Activity{Kind: bot.EventReaction, Emoji: "📌", User: bot.User{ID: "U1"}, Ref: bot.MessageRef{Channel: "C1", ID: "1700000000.000100"}}, nil},
		{"reaction removed", `{"type":"reaction_removed","user":"U1","reaction":"pushpin","item":{"type":"message","channel":"C1","ts":"1700000000.000100"},"event_ts":"1700000006.000100"}`,
			bot.Activity{Kind: bot.EventReaction, Text: "removed 📌", User: bot.User{ID: "U1"}, Ref: bot.MessageRef{Channel: "C1", ID: "1700000000.000100"}}, nil},
		{"join", `{"type":"member_joined_channel","user":"U2","channel":"C1","channel_type":"C","event_ts":"1700000007.000100"}`,
			bot.Activity{Kind: bot.EventJoin, User: bot.User{ID: "U2"}}, nil},
		{"klaxon's own message", `{"type":"message","channel":"C1","user":"UKLAXON","bot_id":"BKLAXON","text":"INC-1 resolved","ts":"1700000008.000100"}`, bot.Activity{}, nil},
		{"topic change", `{"type":"message","subtype":"channel_topic","channel":"C1","user":"U1","text":"set the topic","ts":"1700000009.000100"}`, bot.Activity{}, nil},
		{"DM", `{"type":"message","channel":"D1","channel_type":"im","user":"U1","text":"who is on call?","ts":"1700000010.000100"}`, bot.Activity{},
			&bot.Question{Platform: bot.PlatformSlack, User: bot.User{ID: "U1"}, Channel: bot.ChannelRef{ID: "D1"}, Text: "who is on call?", Direct: true, Ref: bot.MessageRef{Channel: "D1", ID: "1700000010.000100"}}},
		{"mention", `{"type":"app_mention","user":"U1","channel":"C1","text":"<@UKLAXON> status?","ts":"1700000011.000100"}`, bot.Activity{},
			&bot.Question{Platform: bot.PlatformSlack, User: bot.User{ID: "U1"}, Channel: bot.ChannelRef{ID: "C1"}, Text: "status?", Ref: bot.MessageRef{Channel: "C1", ID: "1700000011.000100"}}},
	}
	for _, tt := range tests {
		outer := `{"type":"event_callback","team_id":"T1","api_app_id":"A1","event_id":"Ev1","event_time":1700000000,"event":` + tt.event + `}`
		ev, err := slackevents.ParseEvent(json.RawMessage(outer), slackevents.OptionNoVerifyToken())
		if err != nil {
			t.Fatalf("%s: ParseEvent: %v", tt.name, err)
		}
		act, q, ok := a.translate(ev.InnerEvent.Data, "Ev1")
		if tt.q != nil {
			if q == nil {
				t.Errorf("%s: no question", tt.name)
				continue
			}
			q.Time = tt.q.Time
			if *q != *tt.q {
				t.Errorf("%s: question = %+v; want %+v", tt.name, *q, *tt.q)
			}
			continue
		}
		if ok != (tt.want.Kind != "") {
			t.Errorf("%s: recorded = %v; want %v", tt.name, ok, tt.want.Kind != "")
			continue
		}
		if !ok {
			continue
		}
		if act.Kind != tt.want.Kind || act.Text != tt.want.Text || act.PrevText != tt.want.PrevText || act.Emoji != tt.want.Emoji ||
			act.User.ID != tt.want.User.ID || (tt.want.Ref.ID != "" && act.Ref != tt.want.Ref) {
			t.Errorf("%s: activity = %+v; want %+v", tt.name, act, tt.want)
		}
		if act.SourceID != "slack:Ev1" || act.Platform != bot.PlatformSlack || act.Channel.ID != "C1" {
			t.Errorf("%s: source %q, platform %q, channel %q", tt.name, act.SourceID, act.Platform, act.Channel.ID)
		}
	}
}
