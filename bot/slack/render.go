package slack

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/klaxon-bot/klaxon/bot"
)

// Block Kit limits (docs.slack.dev/reference/block-kit; the strict fake
// in slackfake enforces the same numbers, with their citations).
const (
	maxBlocks       = 50 // per message
	maxHeader       = 150
	maxSectionText  = 3000
	maxFieldText    = 2000
	maxFields       = 10 // per section
	maxActions      = 25 // elements per actions block
	maxButtonLabel  = 75
	maxButtonValue  = 2000
	maxActionID     = 255
	maxModalTitle   = 24
	maxModalButton  = 24
	maxMetadata     = 3000 // private_metadata
	maxInputLabel   = 2000
	maxHint         = 2000 // input block hint
	maxInputLength  = 3000 // plain_text_input max_length
	maxOptions      = 100  // static_select options
	maxOptionLabel  = 75
	maxOptionValue  = 150
	maxPlaceholder  = 150
	maxFallbackText = 4000 // chat.update refuses longer text
	maxViewBlocks   = 100  // modals and Home tabs
)

// fallback is the plain text of m, for notifications and clients without
// blocks.
func fallback(m bot.Message) string {
	var parts []string
	for _, s := range []string{m.Title, m.Text} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		parts = append(parts, m.Context)
	}
	// The notification text: dates as plain UTC, as a notification shows them.
	return bot.Cut(mrkdwn(bot.PlainTimes(strings.Join(parts, "\n"))), maxFallbackText)
}

// blocks renders m as Block Kit. bot.Message text is Slack mrkdwn: *bold*,
// `code`, <@U…> and <#C…>; everything else is escaped (mrkdwn). Whatever m holds, the result stays
// within Block Kit's limits: fields beyond what 50 blocks hold are counted
// in a last line, and buttons go 25 to an actions block. No block_id is
// set, so Slack gives each iteration of a message fresh ones.
func blocks(m bot.Message) []slack.Block {
	var head, tail []slack.Block
	if m.Title != "" {
		head = append(head, slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, bot.Cut(plainLine(m.Title), maxHeader), true, false)))
	}
	if m.Text != "" {
		head = append(head, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, bot.Cut(mrkdwn(m.Text), maxSectionText), false, false), nil, nil))
	}
	var buttons []bot.Button
	for _, b := range m.Buttons {
		// A button whose id or value Slack would refuse cannot work; it is
		// left out rather than losing the whole message.
		if b.ActionID != "" && len(b.ActionID) <= maxActionID && utf8.RuneCountInString(b.Value) <= maxButtonValue {
			buttons = append(buttons, b)
		}
	}
	for i := 0; i < len(buttons); i += maxActions {
		var els []slack.BlockElement
		for _, b := range buttons[i:min(i+maxActions, len(buttons))] {
			btn := slack.NewButtonBlockElement(b.ActionID, b.Value, slack.NewTextBlockObject(slack.PlainTextType, bot.Cut(plainLine(b.Label), maxButtonLabel), true, false))
			switch b.Style {
			case bot.ButtonPrimary:
				btn.Style = slack.StylePrimary
			case bot.ButtonDanger:
				btn.Style = slack.StyleDanger
			}
			els = append(els, btn)
		}
		tail = append(tail, slack.NewActionBlock("", els...))
	}
	if m.Context != "" {
		tail = append(tail, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, bot.Cut(mrkdwn(m.Context), maxSectionText), false, false)))
	}
	room := maxBlocks - len(head) - len(tail)
	fields := m.Fields
	var more string
	if need := (len(fields) + maxFields - 1) / maxFields; need > room {
		shown := max(room-1, 0) * maxFields
		more = fmt.Sprintf("_… and %d more_", len(fields)-shown)
		fields = fields[:shown]
	}
	out := head
	for i := 0; i < len(fields); i += maxFields {
		var objs []*slack.TextBlockObject
		for _, f := range fields[i:min(i+maxFields, len(fields))] {
			objs = append(objs, slack.NewTextBlockObject(slack.MarkdownType, bot.Cut("*"+mrkdwn(f.Label)+"*\n"+mrkdwn(f.Value), maxFieldText), false, false))
		}
		out = append(out, slack.NewSectionBlock(nil, objs, nil))
	}
	if more != "" {
		out = append(out, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, more, false, false), nil, nil))
	}
	return append(out, tail...)
}

func msgOptions(m bot.Message) []slack.MsgOption {
	opts := []slack.MsgOption{slack.MsgOptionText(fallback(m), false), slack.MsgOptionBlocks(blocks(m)...)}
	if m.Nonce != "" {
		opts = append(opts, slack.MsgOptionMetadata(slack.SlackMetadata{EventType: nonceEvent, EventPayload: map[string]any{"job": m.Nonce}}))
	}
	return opts
}

// formMeta is what klaxon keeps in a modal's private_metadata.
type formMeta struct {
	Channel  string `json:"c,omitempty"`
	Metadata string `json:"m,omitempty"`
}

// modal renders a form as a Slack modal. Each field is an input block whose
// block_id and action_id are the field's id.
func modal(f bot.Form) (slack.ModalViewRequest, error) {
	meta, _ := json.Marshal(formMeta{Channel: f.Channel.ID, Metadata: f.Metadata})
	if len(meta) > maxMetadata {
		return slack.ModalViewRequest{}, fmt.Errorf("slack: form %s: metadata of %d bytes exceeds private_metadata's %d", f.ID, len(meta), maxMetadata)
	}
	v := slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      f.ID,
		Title:           slack.NewTextBlockObject(slack.PlainTextType, bot.Cut(f.Title, maxModalTitle), false, false),
		Submit:          slack.NewTextBlockObject(slack.PlainTextType, bot.Cut(f.Submit, maxModalButton), false, false),
		Close:           slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false),
		PrivateMetadata: string(meta),
	}
	var bs []slack.Block
	for _, fld := range f.Fields {
		label := slack.NewTextBlockObject(slack.PlainTextType, bot.Cut(fld.Label, maxInputLabel), false, false)
		var el slack.BlockElement
		switch kind := fld.Kind; {
		case kind == bot.FieldText, kind == bot.FieldTextArea, kind == bot.FieldSelect && !fitsSelect(fld.Options):
			// A choice among more options than a static select holds is
			// typed; the form's validation names the valid values.
			ph := fld.Placeholder
			if kind == bot.FieldSelect && ph == "" {
				ph = "Type one of the names"
			}
			in := slack.NewPlainTextInputBlockElement(placeholder(ph), fld.ID)
			in.Multiline = kind == bot.FieldTextArea
			in.InitialValue = fld.Initial
			if fld.MaxLength > 0 {
				in.MaxLength = min(fld.MaxLength, maxInputLength)
				in.InitialValue = bot.Cut(fld.Initial, in.MaxLength)
			}
			el = in
		case kind == bot.FieldSelect:
			var opts []*slack.OptionBlockObject
			var initial *slack.OptionBlockObject
			for _, o := range fld.Options {
				opt := slack.NewOptionBlockObject(o.Value, slack.NewTextBlockObject(slack.PlainTextType, bot.Cut(o.Label, maxOptionLabel), false, false), nil)
				opts = append(opts, opt)
				if o.Value == fld.Initial {
					initial = opt
				}
			}
			sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, placeholder(fld.Placeholder), fld.ID, opts...)
			sel.InitialOption = initial
			el = sel
		case kind == bot.FieldUser:
			sel := slack.NewOptionsSelectBlockElement(slack.OptTypeUser, placeholder(fld.Placeholder), fld.ID)
			sel.InitialUser = fld.Initial
			el = sel
		case kind == bot.FieldCheckbox:
			el = slack.NewCheckboxGroupsBlockElement(fld.ID,
				slack.NewOptionBlockObject("true", slack.NewTextBlockObject(slack.PlainTextType, "Yes", false, false), nil))
		}
		var hint *slack.TextBlockObject
		if fld.Hint != "" {
			hint = slack.NewTextBlockObject(slack.PlainTextType, bot.Cut(fld.Hint, maxHint), false, false)
		}
		in := slack.NewInputBlock(fld.ID, label, hint, el)
		in.Optional = fld.Optional
		bs = append(bs, in)
	}
	v.Blocks = slack.Blocks{BlockSet: bs}
	return v, nil
}

// fitsSelect reports whether options fit a static select: at most 100, each
// value at most 150 characters.
func fitsSelect(opts []bot.Option) bool {
	if len(opts) == 0 || len(opts) > maxOptions {
		return false
	}
	for _, o := range opts {
		if o.Value == "" || utf8.RuneCountInString(o.Value) > maxOptionValue {
			return false
		}
	}
	return true
}

func placeholder(s string) *slack.TextBlockObject {
	if s == "" {
		return nil
	}
	return slack.NewTextBlockObject(slack.PlainTextType, bot.Cut(s, maxPlaceholder), false, false)
}

// submission reads a submitted modal's values and metadata.
func submission(v slack.View) (values map[string]string, meta formMeta) {
	values = map[string]string{}
	if v.State != nil {
		for blockID, actions := range v.State.Values {
			for _, a := range actions {
				switch {
				case a.Type == "checkboxes":
					if len(a.SelectedOptions) > 0 {
						values[blockID] = "true"
					} else {
						values[blockID] = ""
					}
				case a.SelectedOption.Value != "":
					values[blockID] = a.SelectedOption.Value
				case a.SelectedUser != "":
					values[blockID] = a.SelectedUser
				default:
					values[blockID] = a.Value
				}
			}
		}
	}
	json.Unmarshal([]byte(v.PrivateMetadata), &meta)
	return values, meta
}

// homeView renders the App Home: each section as a message's blocks,
// divided, within the 100 blocks a Home tab holds.
func homeView(sections []bot.Message, at time.Time) slack.HomeTabViewRequest {
	var bs []slack.Block
	for i, m := range sections {
		mb := blocks(m)
		if len(bs)+len(mb)+2 > maxViewBlocks {
			break
		}
		if i > 0 {
			bs = append(bs, slack.NewDividerBlock())
		}
		bs = append(bs, mb...)
	}
	bs = append(bs, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType,
		"Updated <!date^"+strconv.FormatInt(at.Unix(), 10)+"^{date_short_pretty} {time}|"+at.UTC().Format("2006-01-02 15:04 UTC")+">, when you opened this tab.", false, false)))
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: bs}}
}
