package discordfake

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Permission bits (docs: topics/permissions#permissions-bitwise-permission-flags).
const (
	PermCreateInvite       = 1 << 0
	PermAdministrator      = 1 << 3
	PermManageChannels     = 1 << 4
	PermAddReactions       = 1 << 6
	PermViewChannel        = 1 << 10
	PermSendMessages       = 1 << 11
	PermManageMessages     = 1 << 13
	PermEmbedLinks         = 1 << 14
	PermAttachFiles        = 1 << 15
	PermReadMessageHistory = 1 << 16
	PermMentionEveryone    = 1 << 17
	PermManageRoles        = 1 << 28
	PermSendInThreads      = 1 << 38
	// PermPinMessages: "Allows for pinning messages"; since 2026-02-23 the
	// pin routes need it, and Manage Messages no longer grants it.
	PermPinMessages = 1 << 51
)

// everyonePerms is what @everyone holds in the fake guild: a new server's
// defaults for members (view, send, history, reactions, embeds, files).
const everyonePerms = PermViewChannel | PermSendMessages | PermReadMessageHistory | PermAddReactions | PermEmbedLinks | PermAttachFiles | PermCreateInvite

// allPerms is every bit, for administrators.
const allPerms = uint64(1)<<52 - 1

// Application flags (docs: resources/application#application-object-application-flags).
const (
	AppFlagGatewayGuildMembers          = 1 << 14 // the Server Members intent (verified apps)
	AppFlagGatewayGuildMembersLimited   = 1 << 15 // the Server Members intent (apps in under 100 servers)
	AppFlagGatewayMessageContent        = 1 << 18
	AppFlagGatewayMessageContentLimited = 1 << 19
)

// InvitePermissions reads the permissions= number of the invite URL in the
// repository's README, which is what a server grants klaxon's role when
// someone follows it.
func InvitePermissions() (uint64, error) {
	_, file, _, _ := runtime.Caller(0)
	path := filepath.Join(filepath.Dir(file), "..", "..", "..", "README.md")
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	m := regexp.MustCompile(`discord\.com/oauth2/authorize\?[^)\s]*permissions=(\d+)`).FindSubmatch(data)
	if m == nil {
		return 0, fmt.Errorf("%s: no Discord invite URL with permissions=", path)
	}
	return strconv.ParseUint(string(m[1]), 10, 64)
}

// formErrors collects Discord's "Invalid Form Body" errors by field path.
type formErrors map[string]string

func (e formErrors) add(path, format string, args ...any) {
	if _, dup := e[path]; !dup {
		e[path] = fmt.Sprintf(format, args...)
	}
}

func (e formErrors) maxLen(path, s string, n int) {
	if utf8.RuneCountInString(s) > n {
		e.add(path, "Must be %d or fewer in length.", n)
	}
}

func (e formErrors) lenBetween(path, s string, lo, hi int) {
	if n := utf8.RuneCountInString(s); n < lo || n > hi {
		e.add(path, "Must be between %d and %d in length.", lo, hi)
	}
}

func (e formErrors) maxItems(path string, items []any, n int) {
	if len(items) > n {
		e.add(path, "Must be %d or fewer in length.", n)
	}
}

// body nests the errors as Discord does: {"embeds": {"0": {"title":
// {"_errors": [{"code": …, "message": …}]}}}}.
func (e formErrors) body() map[string]any {
	root := map[string]any{}
	for path, msg := range e {
		node := root
		parts := strings.Split(path, ".")
		for _, p := range parts {
			next, ok := node[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				node[p] = next
			}
			node = next
		}
		code := "BASE_TYPE_MAX_LENGTH"
		if strings.Contains(msg, "unique") {
			code = "COMPONENT_CUSTOM_ID_DUPLICATED"
		} else if !strings.Contains(msg, "length") {
			code = "BASE_TYPE_INVALID"
		}
		node["_errors"] = []any{map[string]any{"code": code, "message": msg}}
	}
	return root
}

func (e formErrors) paths() []string { return slices.Sorted(maps.Keys(e)) }

// Message limits (docs: resources/message#create-message, resources/message
// #embed-object-embed-limits, components/reference).
const (
	maxContent          = 2000
	maxEmbeds           = 10
	maxEmbedTitle       = 256
	maxEmbedDesc        = 4096
	maxEmbedFields      = 25
	maxFieldName        = 256
	maxFieldValue       = 1024
	maxFooter           = 2048
	maxAuthorName       = 256
	maxEmbedTotal       = 6000 // "combined sum of characters in all title, description, field.name, field.value, footer.text, and author.name fields across all embeds"
	maxActionRows       = 5
	maxRowButtons       = 5
	maxCustomID         = 100
	maxButtonLabel      = 80
	maxSelectOptions    = 25
	maxModalTitle       = 45
	maxModalRows        = 5
	maxInputLabel       = 45
	maxInputPlaceholder = 100
	maxInputValue       = 4000
	maxChoices          = 25
	maxChoiceName       = 100
	maxCommandOptions   = 25
	maxCommandSize      = 8000 // name, description and options' names, descriptions, choices together
	maxChannelName      = 100
	maxTopic            = 1024
)

// messageErrors checks a message body: content, embeds, components.
func messageErrors(b map[string]any) formErrors {
	e := formErrors{}
	if c, ok := b["content"].(string); ok {
		e.maxLen("content", c, maxContent)
	}
	embeds, _ := b["embeds"].([]any)
	e.maxItems("embeds", embeds, maxEmbeds)
	total := 0
	count := func(path string, v any, max int) {
		s, _ := v.(string)
		e.maxLen(path, s, max)
		total += utf8.RuneCountInString(s)
	}
	for i, raw := range embeds {
		em, _ := raw.(map[string]any)
		p := "embeds." + strconv.Itoa(i)
		count(p+".title", em["title"], maxEmbedTitle)
		count(p+".description", em["description"], maxEmbedDesc)
		fields, _ := em["fields"].([]any)
		e.maxItems(p+".fields", fields, maxEmbedFields)
		for j, rf := range fields {
			f, _ := rf.(map[string]any)
			fp := p + ".fields." + strconv.Itoa(j)
			count(fp+".name", f["name"], maxFieldName)
			count(fp+".value", f["value"], maxFieldValue)
			if s, _ := f["name"].(string); s == "" {
				e.add(fp+".name", "This field is required")
			}
			if s, _ := f["value"].(string); s == "" {
				e.add(fp+".value", "This field is required")
			}
		}
		if ft, ok := em["footer"].(map[string]any); ok {
			count(p+".footer.text", ft["text"], maxFooter)
		}
		if au, ok := em["author"].(map[string]any); ok {
			count(p+".author.name", au["name"], maxAuthorName)
		}
	}
	if total > maxEmbedTotal {
		e.add("embeds", "Embed size exceeds maximum size of %d", maxEmbedTotal)
	}
	componentErrors(e, b["components"])
	return e
}

func componentErrors(e formErrors, v any) {
	rows, _ := v.([]any)
	e.maxItems("components", rows, maxActionRows)
	ids := map[string]bool{}
	for i, rr := range rows {
		row, _ := rr.(map[string]any)
		p := "components." + strconv.Itoa(i)
		if num(row["type"]) != 1 {
			e.add(p+".type", "Value must be one of {1}.")
			continue
		}
		comps, _ := row["components"].([]any)
		if len(comps) == 0 {
			e.add(p+".components", "Must be between 1 and 5 in length.")
		}
		e.maxItems(p+".components", comps, maxRowButtons)
		for j, rc := range comps {
			c, _ := rc.(map[string]any)
			cp := p + ".components." + strconv.Itoa(j)
			id, _ := c["custom_id"].(string)
			switch typ := num(c["type"]); typ {
			case 2: // button
				if l, ok := c["label"].(string); ok {
					e.maxLen(cp+".label", l, maxButtonLabel)
				}
				if num(c["style"]) != 5 && id == "" { // link buttons have a url instead
					e.add(cp+".custom_id", "This field is required")
				}
			case 3, 5, 6, 7, 8: // selects fill a row alone
				if len(comps) > 1 {
					e.add(p+".components", "A select menu must be alone in its action row.")
				}
				opts, _ := c["options"].([]any)
				e.maxItems(cp+".options", opts, maxSelectOptions)
			default:
				e.add(cp+".type", "Value must be one of {2, 3, 5, 6, 7, 8}.")
			}
			e.maxLen(cp+".custom_id", id, maxCustomID)
			if id != "" {
				if ids[id] {
					e.add(cp+".custom_id", "Component custom id must be unique")
				}
				ids[id] = true
			}
		}
	}
}

// modalErrors checks a modal (docs: interactions/receiving-and-responding
// #interaction-response-object-modal, components/reference#text-input).
func modalErrors(d map[string]any) formErrors {
	e := formErrors{}
	title, _ := d["title"].(string)
	e.lenBetween("data.title", title, 1, maxModalTitle)
	id, _ := d["custom_id"].(string)
	e.lenBetween("data.custom_id", id, 1, maxCustomID)
	rows, _ := d["components"].([]any)
	if len(rows) < 1 || len(rows) > maxModalRows {
		e.add("data.components", "Must be between 1 and %d in length.", maxModalRows)
	}
	for i, rr := range rows {
		row, _ := rr.(map[string]any)
		p := "data.components." + strconv.Itoa(i)
		comps, _ := row["components"].([]any)
		if len(comps) != 1 {
			e.add(p+".components", "Must be 1 in length.")
			continue
		}
		in, _ := comps[0].(map[string]any)
		cp := p + ".components.0"
		if num(in["type"]) != 4 {
			e.add(cp+".type", "Value must be one of {4}.")
			continue
		}
		label, _ := in["label"].(string)
		e.lenBetween(cp+".label", label, 1, maxInputLabel)
		cid, _ := in["custom_id"].(string)
		e.lenBetween(cp+".custom_id", cid, 1, maxCustomID)
		if ph, ok := in["placeholder"].(string); ok {
			e.maxLen(cp+".placeholder", ph, maxInputPlaceholder)
		}
		if v, ok := in["value"].(string); ok {
			e.maxLen(cp+".value", v, maxInputValue)
		}
		for _, k := range []string{"min_length", "max_length"} {
			if n, ok := in[k].(float64); ok && (n < 0 || n > maxInputValue || (k == "max_length" && n < 1)) {
				e.add(cp+"."+k, "Must be between %d and %d.", map[bool]int{true: 1, false: 0}[k == "max_length"], maxInputValue)
			}
		}
	}
	return e
}

// choicesErrors checks an autocomplete result.
func choicesErrors(d map[string]any) formErrors {
	e := formErrors{}
	choices, _ := d["choices"].([]any)
	e.maxItems("data.choices", choices, maxChoices)
	for i, rc := range choices {
		c, _ := rc.(map[string]any)
		p := "data.choices." + strconv.Itoa(i)
		name, _ := c["name"].(string)
		e.lenBetween(p+".name", name, 1, maxChoiceName)
		if v, ok := c["value"].(string); ok {
			e.maxLen(p+".value", v, maxChoiceName)
		}
	}
	return e
}

// commandName is the documented name pattern; chat commands must also be
// lower case.
var commandName = regexp.MustCompile(`^[-_'\p{L}\p{N}\p{Devanagari}\p{Thai}]{1,32}$`)

// commandErrors checks a bulk overwrite of application commands (docs:
// interactions/application-commands).
func commandErrors(cmds []any) formErrors {
	e := formErrors{}
	names := map[string]bool{}
	for i, rc := range cmds {
		c, _ := rc.(map[string]any)
		p := strconv.Itoa(i)
		typ := num(c["type"])
		if typ == 0 {
			typ = 1
		}
		name, _ := c["name"].(string)
		desc, _ := c["description"].(string)
		key := fmt.Sprint(typ, name)
		if names[key] {
			e.add(p+".name", "Application command names must be unique")
		}
		names[key] = true
		size := utf8.RuneCountInString(name) + utf8.RuneCountInString(desc)
		if typ == 1 {
			if !commandName.MatchString(name) || strings.ToLower(name) != name {
				e.add(p+".name", "Command name is invalid")
			}
			e.lenBetween(p+".description", desc, 1, 100)
		} else {
			e.lenBetween(p+".name", name, 1, 32)
			if desc != "" {
				e.add(p+".description", "Context menu commands cannot have a description")
			}
		}
		opts, _ := c["options"].([]any)
		size += optionErrors(e, p+".options", opts)
		if size > maxCommandSize {
			e.add(p, "Command exceeds maximum size (%d)", maxCommandSize)
		}
	}
	return e
}

// optionErrors checks options (and subcommands' options) and returns the
// characters they count towards the command's size.
func optionErrors(e formErrors, p string, opts []any) int {
	e.maxItems(p, opts, maxCommandOptions)
	size := 0
	optional := false
	names := map[string]bool{}
	for i, ro := range opts {
		o, _ := ro.(map[string]any)
		op := p + "." + strconv.Itoa(i)
		name, _ := o["name"].(string)
		desc, _ := o["description"].(string)
		size += utf8.RuneCountInString(name) + utf8.RuneCountInString(desc)
		if !commandName.MatchString(name) || strings.ToLower(name) != name {
			e.add(op+".name", "Command name is invalid")
		}
		if names[name] {
			e.add(op+".name", "Option names must be unique")
		}
		names[name] = true
		e.lenBetween(op+".description", desc, 1, 100)
		typ := num(o["type"])
		if typ == 1 || typ == 2 { // subcommands and groups
			sub, _ := o["options"].([]any)
			size += optionErrors(e, op+".options", sub)
			continue
		}
		required, _ := o["required"].(bool)
		if required && optional {
			e.add(op+".required", "Required options must be placed before non-required options")
		}
		optional = optional || !required
		choices, _ := o["choices"].([]any)
		e.maxItems(op+".choices", choices, maxChoices)
		if len(choices) > 0 && o["autocomplete"] == true {
			e.add(op+".autocomplete", "Autocomplete cannot be set on an option with choices")
		}
		for j, rc := range choices {
			c, _ := rc.(map[string]any)
			cn, _ := c["name"].(string)
			e.lenBetween(op+".choices."+strconv.Itoa(j)+".name", cn, 1, maxChoiceName)
			size += utf8.RuneCountInString(cn)
			if v, ok := c["value"].(string); ok {
				e.maxLen(op+".choices."+strconv.Itoa(j)+".value", v, maxChoiceName)
				size += utf8.RuneCountInString(v)
			}
		}
	}
	return size
}
