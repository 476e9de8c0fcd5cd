package slackfake

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Block Kit's documented limits. Each is cited from Slack's reference:
// docs.slack.dev/reference/block-kit/blocks (blocks),
// docs.slack.dev/reference/block-kit/block-elements (elements),
// docs.slack.dev/reference/block-kit/composition-objects (text, option),
// docs.slack.dev/reference/views (modal and home views).
const (
	maxMessageBlocks   = 50   // "You can include up to 50 blocks in each message"
	maxViewBlocks      = 100  // "and 100 blocks in modals or Home tabs"
	maxBlockID         = 255  // block_id: "Maximum length for this field is 255 characters"
	maxActionID        = 255  // action_id: "Maximum length is 255 characters"
	maxSectionText     = 3000 // section text: "Minimum length 1, maximum length 3000"
	maxSectionFields   = 10   // section fields: "Maximum number of items is 10"
	maxFieldText       = 2000 // "Maximum length for the text in each item is 2000"
	maxHeaderText      = 150  // header text: plain_text, "Maximum length 150"
	maxActionsElements = 25   // actions: "There is a maximum of 25 elements"
	maxContextElements = 10   // context: "Maximum number of items is 10"
	maxInputLabel      = 2000 // input label and hint: "Maximum length 2000"
	maxButtonText      = 75   // button text: "Maximum length 75"
	maxButtonValue     = 2000 // button value: "Maximum length 2000"
	maxURL             = 3000 // button url: "Maximum length 3000"
	maxPlaceholder     = 150  // placeholders: "Maximum length 150"
	maxSelectOptions   = 100  // static_select options: "Maximum number of options is 100"
	maxCheckboxOptions = 10   // checkboxes options: "A maximum of 10 options are allowed"
	maxOptionText      = 75   // option text: "Maximum length 75"
	maxOptionValue     = 150  // option value: "Maximum length 150"
	maxInputLength     = 3000 // plain_text_input max_length/min_length: "maximum of 3000"
	maxViewTitle       = 24   // view title/submit/close: "Max length 24 characters"
	maxPrivateMetadata = 3000 // private_metadata: "Max length 3000 characters"
	maxCallbackID      = 255  // callback_id / external_id: "Max length 255 characters"
)

// blockErrors collects Slack's error strings: "must be less than 3001
// characters [json-pointer:/blocks/1/text/text]".
type blockErrors []string

func (e *blockErrors) add(ptr, format string, args ...any) {
	*e = append(*e, fmt.Sprintf(format, args...)+" [json-pointer:"+ptr+"]")
}

func (e *blockErrors) maxLen(ptr, s string, n int) {
	if utf8.RuneCountInString(s) > n {
		e.add(ptr, "must be less than %d characters", n+1)
	}
}

func (e *blockErrors) maxItems(ptr string, items []any, n int) {
	if len(items) > n {
		e.add(ptr, "must be no more than %d items", n)
	}
}

func (e *blockErrors) required(ptr string, present bool) {
	if !present {
		e.add(ptr, "must provide an object")
	}
}

// text validates a text object; kinds lists the types allowed there.
func (e *blockErrors) text(ptr string, v any, max int, kinds ...string) {
	t, ok := v.(map[string]any)
	if !ok {
		e.add(ptr, "must provide an object")
		return
	}
	typ, _ := t["type"].(string)
	allowed := false
	for _, k := range kinds {
		allowed = allowed || typ == k
	}
	if !allowed {
		if len(kinds) == 1 {
			e.add(ptr+"/type", "must be a valid enum value [%s]", kinds[0])
		} else {
			e.add(ptr+"/type", "must be a valid enum value [plain_text, mrkdwn]")
		}
		return
	}
	s, _ := t["text"].(string)
	if s == "" {
		e.add(ptr+"/text", "must be more than 0 characters")
	}
	e.maxLen(ptr+"/text", s, max)
	if _, has := t["emoji"]; has && typ != "plain_text" {
		e.add(ptr+"/emoji", "emoji is only allowed in plain_text")
	}
	if _, has := t["verbatim"]; has && typ != "mrkdwn" {
		e.add(ptr+"/verbatim", "verbatim is only allowed in mrkdwn")
	}
}

// uniqueID checks the id under key of obj at p: its length, and that no
// object before it in seen had it. block_id: "should be unique for each
// message and each iteration of a message".
func (e *blockErrors) uniqueID(p string, obj map[string]any, key string, max int, seen map[string]bool) {
	id, ok := obj[key].(string)
	if !ok {
		return
	}
	e.maxLen(p+"/"+key, id, max)
	if seen[id] {
		e.add(p+"/"+key, "duplicate %s %q", key, id)
	}
	seen[id] = true
}

// blocks validates a list of blocks for a surface ("message", "modal",
// "home") and returns Slack's error strings.
func validateBlocks(ptr string, v any, surface string) blockErrors {
	var e blockErrors
	list, ok := v.([]any)
	if !ok {
		if v != nil {
			e.add(ptr, "must provide an array")
		}
		return e
	}
	max := maxMessageBlocks
	if surface != "message" {
		max = maxViewBlocks
	}
	e.maxItems(ptr, list, max)
	blockIDs := map[string]bool{}
	for i, b := range list {
		p := ptr + "/" + strconv.Itoa(i)
		block, ok := b.(map[string]any)
		if !ok {
			e.add(p, "must provide an object")
			continue
		}
		e.uniqueID(p, block, "block_id", maxBlockID, blockIDs)
		e.block(p, block, surface)
	}
	return e
}

func (e *blockErrors) block(p string, b map[string]any, surface string) {
	typ, _ := b["type"].(string)
	switch typ {
	case "section":
		text, hasText := b["text"]
		fields, hasFields := b["fields"].([]any)
		if !hasText && !hasFields {
			e.add(p, "must provide either text or fields")
		}
		if hasText {
			e.text(p+"/text", text, maxSectionText, "plain_text", "mrkdwn")
		}
		if hasFields {
			e.maxItems(p+"/fields", fields, maxSectionFields)
			for i, f := range fields {
				e.text(p+"/fields/"+strconv.Itoa(i), f, maxFieldText, "plain_text", "mrkdwn")
			}
		}
		if acc, ok := b["accessory"].(map[string]any); ok {
			e.element(p+"/accessory", acc, map[string]bool{})
		}
	case "header":
		e.text(p+"/text", b["text"], maxHeaderText, "plain_text")
	case "divider":
	case "actions":
		els, _ := b["elements"].([]any)
		if len(els) == 0 {
			e.add(p+"/elements", "must provide at least 1 item")
		}
		e.maxItems(p+"/elements", els, maxActionsElements)
		ids := map[string]bool{}
		for i, el := range els {
			m, _ := el.(map[string]any)
			e.element(p+"/elements/"+strconv.Itoa(i), m, ids)
		}
	case "context":
		els, _ := b["elements"].([]any)
		if len(els) == 0 {
			e.add(p+"/elements", "must provide at least 1 item")
		}
		e.maxItems(p+"/elements", els, maxContextElements)
		for i, el := range els {
			m, _ := el.(map[string]any)
			if t, _ := m["type"].(string); t == "image" {
				continue
			}
			e.text(p+"/elements/"+strconv.Itoa(i), m, maxSectionText, "plain_text", "mrkdwn")
		}
	case "input":
		e.text(p+"/label", b["label"], maxInputLabel, "plain_text")
		if h, ok := b["hint"]; ok {
			e.text(p+"/hint", h, maxInputLabel, "plain_text")
		}
		el, ok := b["element"].(map[string]any)
		e.required(p+"/element", ok)
		if ok {
			e.element(p+"/element", el, map[string]bool{})
		}
	default:
		e.add(p+"/type", "must be a valid enum value (got %q)", typ)
	}
}

// element validates an interactive element; ids holds the action_ids of
// the elements before it in the same block ("action_id should be unique
// among all other action_ids in the containing block").
func (e *blockErrors) element(p string, el map[string]any, ids map[string]bool) {
	if el == nil {
		e.add(p, "must provide an object")
		return
	}
	e.uniqueID(p, el, "action_id", maxActionID, ids)
	if ph, ok := el["placeholder"]; ok {
		e.text(p+"/placeholder", ph, maxPlaceholder, "plain_text")
	}
	typ, _ := el["type"].(string)
	switch typ {
	case "button":
		e.text(p+"/text", el["text"], maxButtonText, "plain_text")
		if v, ok := el["value"].(string); ok {
			e.maxLen(p+"/value", v, maxButtonValue)
		}
		if u, ok := el["url"].(string); ok {
			e.maxLen(p+"/url", u, maxURL)
		}
		if st, ok := el["style"].(string); ok && st != "primary" && st != "danger" {
			e.add(p+"/style", "must be a valid enum value [primary, danger]")
		}
	case "static_select":
		opts, _ := el["options"].([]any)
		if len(opts) == 0 && el["option_groups"] == nil {
			e.add(p+"/options", "must provide at least 1 item")
		}
		e.maxItems(p+"/options", opts, maxSelectOptions)
		values := e.options(p+"/options", opts, "plain_text")
		if init, ok := el["initial_option"].(map[string]any); ok {
			// "initial_option: A single option that exactly matches one
			// of the options".
			if v, _ := init["value"].(string); !values[v] {
				e.add(p+"/initial_option", "must match one of the options")
			}
		}
	case "checkboxes", "radio_buttons":
		opts, _ := el["options"].([]any)
		if len(opts) == 0 {
			e.add(p+"/options", "must provide at least 1 item")
		}
		e.maxItems(p+"/options", opts, maxCheckboxOptions)
		e.options(p+"/options", opts, "plain_text", "mrkdwn")
	case "plain_text_input":
		for _, k := range []string{"min_length", "max_length"} {
			if n, ok := el[k].(float64); ok && (n > maxInputLength || n < 0 || (k == "max_length" && n < 1)) {
				e.add(p+"/"+k, "must be between %d and %d", map[bool]int{true: 1, false: 0}[k == "max_length"], maxInputLength)
			}
		}
		if iv, ok := el["initial_value"].(string); ok {
			if n, ok := el["max_length"].(float64); ok && utf8.RuneCountInString(iv) > int(n) {
				e.add(p+"/initial_value", "must be less than %d characters", int(n)+1)
			}
		}
	case "users_select", "conversations_select", "channels_select", "datepicker", "timepicker", "overflow", "image":
	default:
		e.add(p+"/type", "must be a valid enum value (got %q)", typ)
	}
}

// options validates option objects and returns their values.
func (e *blockErrors) options(p string, opts []any, kinds ...string) map[string]bool {
	values := map[string]bool{}
	for i, o := range opts {
		op := p + "/" + strconv.Itoa(i)
		m, ok := o.(map[string]any)
		if !ok {
			e.add(op, "must provide an object")
			continue
		}
		e.text(op+"/text", m["text"], maxOptionText, kinds...)
		v, _ := m["value"].(string)
		e.maxLen(op+"/value", v, maxOptionValue)
		values[v] = true
	}
	return values
}

// validateView checks a view object (docs.slack.dev/reference/views).
func validateView(v map[string]any) blockErrors {
	var e blockErrors
	typ, _ := v["type"].(string)
	switch typ {
	case "modal":
		e.text("/view/title", v["title"], maxViewTitle, "plain_text")
		for _, k := range []string{"submit", "close"} {
			if t, ok := v[k]; ok {
				e.text("/view/"+k, t, maxViewTitle, "plain_text")
			}
		}
		// "submit ... required when an input block is within the blocks array"
		if _, ok := v["submit"]; !ok && hasInput(v["blocks"]) {
			e.add("/view/submit", "must provide submit when the view has input blocks")
		}
	case "home":
	default:
		e.add("/view/type", "must be a valid enum value [modal, home]")
	}
	if s, ok := v["private_metadata"].(string); ok {
		e.maxLen("/view/private_metadata", s, maxPrivateMetadata)
	}
	for _, k := range []string{"callback_id", "external_id"} {
		if s, ok := v[k].(string); ok {
			e.maxLen("/view/"+k, s, maxCallbackID)
		}
	}
	return append(e, validateBlocks("/view/blocks", v["blocks"], typ)...)
}

func hasInput(v any) bool {
	list, _ := v.([]any)
	for _, b := range list {
		if m, _ := b.(map[string]any); m != nil && m["type"] == "input" {
			return true
		}
	}
	return false
}
