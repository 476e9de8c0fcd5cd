package slack

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/klaxon-bot/klaxon/bot"
)

// Block Kit limits (docs: reference/block-kit/blocks).
const (
	maxHeader       = 150
	maxSectionText  = 3000
	maxFieldText    = 2000
	maxFields       = 10
	maxButtonLabel  = 75
	maxModalTitle   = 24
	maxModalButton  = 24
	maxFallbackText = 4000
)

// cut shortens s to at most n characters, marking the cut with "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

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
	return cut(strings.Join(parts, "\n"), maxFallbackText)
}

// blocks renders m as Block Kit. bot.Message text is already Slack mrkdwn:
// *bold*, `code`, <@U…> and <#C…>.
func blocks(m bot.Message) []slack.Block {
	var out []slack.Block
	if m.Title != "" {
		out = append(out, slack.NewHeaderBlock(slack.NewTextBlockObject(slack.PlainTextType, cut(m.Title, maxHeader), true, false)))
	}
	if m.Text != "" {
		out = append(out, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, cut(m.Text, maxSectionText), false, false), nil, nil))
	}
	for i := 0; i < len(m.Fields); i += maxFields {
		var fields []*slack.TextBlockObject
		for _, f := range m.Fields[i:min(i+maxFields, len(m.Fields))] {
			fields = append(fields, slack.NewTextBlockObject(slack.MarkdownType, cut("*"+f.Label+"*\n"+f.Value, maxFieldText), false, false))
		}
		out = append(out, slack.NewSectionBlock(nil, fields, nil))
	}
	if len(m.Buttons) > 0 {
		var els []slack.BlockElement
		for _, b := range m.Buttons {
			btn := slack.NewButtonBlockElement(b.ActionID, b.Value, slack.NewTextBlockObject(slack.PlainTextType, cut(b.Label, maxButtonLabel), true, false))
			switch b.Style {
			case bot.ButtonPrimary:
				btn.Style = slack.StylePrimary
			case bot.ButtonDanger:
				btn.Style = slack.StyleDanger
			}
			els = append(els, btn)
		}
		out = append(out, slack.NewActionBlock("actions", els...))
	}
	if m.Context != "" {
		out = append(out, slack.NewContextBlock("", slack.NewTextBlockObject(slack.MarkdownType, cut(m.Context, maxSectionText), false, false)))
	}
	return out
}

func msgOptions(m bot.Message) []slack.MsgOption {
	return []slack.MsgOption{slack.MsgOptionText(fallback(m), false), slack.MsgOptionBlocks(blocks(m)...)}
}

// formMeta is what klaxon keeps in a modal's private_metadata.
type formMeta struct {
	Channel  string `json:"c,omitempty"`
	Metadata string `json:"m,omitempty"`
}

// modal renders a form as a Slack modal. Each field is an input block whose
// block_id and action_id are the field's id.
func modal(f bot.Form) slack.ModalViewRequest {
	meta, _ := json.Marshal(formMeta{Channel: f.Channel.ID, Metadata: f.Metadata})
	v := slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      f.ID,
		Title:           slack.NewTextBlockObject(slack.PlainTextType, cut(f.Title, maxModalTitle), false, false),
		Submit:          slack.NewTextBlockObject(slack.PlainTextType, cut(f.Submit, maxModalButton), false, false),
		Close:           slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false),
		PrivateMetadata: string(meta),
	}
	var bs []slack.Block
	for _, fld := range f.Fields {
		label := slack.NewTextBlockObject(slack.PlainTextType, cut(fld.Label, 2000), false, false)
		var el slack.BlockElement
		switch fld.Kind {
		case bot.FieldText, bot.FieldTextArea:
			in := slack.NewPlainTextInputBlockElement(placeholder(fld.Placeholder), fld.ID)
			in.Multiline = fld.Kind == bot.FieldTextArea
			in.InitialValue = fld.Initial
			in.MaxLength = fld.MaxLength
			el = in
		case bot.FieldSelect:
			var opts []*slack.OptionBlockObject
			var initial *slack.OptionBlockObject
			for _, o := range fld.Options {
				opt := slack.NewOptionBlockObject(o.Value, slack.NewTextBlockObject(slack.PlainTextType, cut(o.Label, 75), false, false), nil)
				opts = append(opts, opt)
				if o.Value == fld.Initial {
					initial = opt
				}
			}
			sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, placeholder(fld.Placeholder), fld.ID, opts...)
			sel.InitialOption = initial
			el = sel
		case bot.FieldUser:
			sel := slack.NewOptionsSelectBlockElement(slack.OptTypeUser, placeholder(fld.Placeholder), fld.ID)
			sel.InitialUser = fld.Initial
			el = sel
		case bot.FieldCheckbox:
			el = slack.NewCheckboxGroupsBlockElement(fld.ID,
				slack.NewOptionBlockObject("true", slack.NewTextBlockObject(slack.PlainTextType, "Yes", false, false), nil))
		}
		in := slack.NewInputBlock(fld.ID, label, nil, el)
		in.Optional = fld.Optional
		bs = append(bs, in)
	}
	v.Blocks = slack.Blocks{BlockSet: bs}
	return v
}

func placeholder(s string) *slack.TextBlockObject {
	if s == "" {
		return nil
	}
	return slack.NewTextBlockObject(slack.PlainTextType, cut(s, 150), false, false)
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
