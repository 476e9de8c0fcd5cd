package bot

import (
	"cmp"
	"context"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Method is a way klaxon reaches a person itself, without anyone else's
// pager: a text, a phone call, a push to the ntfy app, an email.
type Method string

// Contact methods.
const (
	MethodSMS   Method = "sms"
	MethodVoice Method = "voice"
	MethodEmail Method = "email"
	MethodPush  Method = "push"
)

// Methods are the contact methods, in the order klaxon lists them.
var Methods = []Method{MethodPush, MethodSMS, MethodVoice, MethodEmail}

// ParseMethod reads a method name.
func ParseMethod(s string) (Method, error) {
	m := Method(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(Methods, m) {
		return "", fmt.Errorf("%q is not a contact method; use push, sms, voice or email", s)
	}
	return m, nil
}

// Label names the method in messages: "SMS", "call", "push", "email".
func (m Method) Label() string {
	switch m {
	case MethodSMS:
		return "SMS"
	case MethodVoice:
		return "call"
	}
	return string(m)
}

// Contact is one way to reach a person: where (a phone number, an email
// address, an ntfy topic) and whether it is proven to reach them. A method
// from the configuration is taken as proven; one added from chat is used
// only once its code came back (Verified).
type Contact struct {
	Method Method `json:"method"`
	// To is an E.164 phone number (sms, voice), an email address, or an
	// ntfy topic (push).
	To string `json:"to"`
	// Server is the ntfy server for push (empty: notifications.ntfy.server).
	Server   string `json:"server,omitempty"`
	Verified bool   `json:"verified"`
	// FromChat marks a method the person added in chat (they may remove
	// it there); methods from the configuration are changed there.
	FromChat bool `json:"from_chat,omitempty"`
}

var (
	e164      = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	ntfyTopic = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// ValidateContact checks that to is an address method can use: an E.164
// number (+ and 7 to 15 digits, no spaces) for sms and voice, one plain
// email address, an ntfy topic name.
func ValidateContact(m Method, to string) error {
	switch m {
	case MethodSMS, MethodVoice:
		if !e164.MatchString(to) {
			return fmt.Errorf("%q is not an E.164 phone number: write + and the country code, then the number, digits only, e.g. +14155550100", to)
		}
	case MethodEmail:
		a, err := mail.ParseAddress(to)
		if err != nil || a.Address != to || a.Name != "" {
			return fmt.Errorf("%q is not an email address like alice@example.com", to)
		}
	case MethodPush:
		if !ntfyTopic.MatchString(to) {
			return fmt.Errorf("%q is not an ntfy topic: letters, digits, '-' and '_', at most 64", to)
		}
	default:
		_, err := ParseMethod(string(m))
		return err
	}
	return nil
}

// Masked shows where a contact goes without giving all of it away, for
// chat: +1415•••0100, a•••@example.com, the topic's first letters.
func (c Contact) Masked() string {
	switch c.Method {
	case MethodSMS, MethodVoice:
		if len(c.To) > 8 {
			return c.To[:5] + "•••" + c.To[len(c.To)-4:]
		}
	case MethodEmail:
		if at := strings.LastIndexByte(c.To, '@'); at > 0 {
			return c.To[:1] + "•••" + c.To[at:]
		}
	case MethodPush:
		if len(c.To) > 4 {
			return c.To[:4] + "•••"
		}
	}
	return "•••"
}

// Rule is one of a person's notification rules: reach them by Method
// After a page reached them, unless they acknowledged by then.
type Rule struct {
	Method Method        `json:"method"`
	After  time.Duration `json:"after"`
}

// MaxRuleDelay bounds a rule's delay: a page waits at most this long for
// a rule, so a typo (60h for 60m) cannot silence one.
const MaxRuleDelay = 24 * time.Hour

// ParseRule reads "sms 1m" or "push 0m": a method and its delay, which
// must be given (0m for at once).
func ParseRule(s string) (Rule, error) {
	f := strings.Fields(s)
	if len(f) == 1 {
		if _, err := ParseMethod(f[0]); err == nil {
			return Rule{}, fmt.Errorf("%q has no delay: write how long after the page, e.g. %q (0m for at once)", s, f[0]+" 1m")
		}
	}
	if len(f) != 2 {
		return Rule{}, fmt.Errorf("%q is not a rule: write a method and a delay, e.g. \"sms 1m\"", s)
	}
	m, err := ParseMethod(f[0])
	if err != nil {
		return Rule{}, err
	}
	d, err := time.ParseDuration(f[1])
	if err != nil || d < 0 || d > MaxRuleDelay {
		return Rule{}, fmt.Errorf("%q is not a delay between 0m and %s, e.g. 1m or 90s", f[1], Duration(MaxRuleDelay))
	}
	return Rule{Method: m, After: d}, nil
}

func (r Rule) String() string {
	if r.After == 0 {
		return r.Method.Label() + " at once"
	}
	return fmt.Sprintf("%s after %s", r.Method.Label(), Duration(r.After))
}

// SortRules orders rules by delay, then by the order of Methods.
func SortRules(rs []Rule) {
	slices.SortStableFunc(rs, func(a, b Rule) int {
		if c := cmp.Compare(a.After, b.After); c != 0 {
			return c
		}
		return slices.Index(Methods, a.Method) - slices.Index(Methods, b.Method)
	})
}

// Reach is how klaxon reaches one person itself: their contact methods
// and their rules (the configured default when they set none).
type Reach struct {
	Contacts []Contact `json:"contacts,omitempty"`
	Rules    []Rule    `json:"rules,omitempty"`
}

// Usable is the person's contact for m that klaxon may use: verified,
// the configured one first.
func (r Reach) Usable(m Method) (Contact, bool) {
	for _, c := range r.Contacts {
		if c.Method == m && c.Verified {
			return c, true
		}
	}
	return Contact{}, false
}

// Steps are the rules klaxon can carry out for the person: those whose
// method they have a usable contact for, with that contact.
func (r Reach) Steps() []RuleStep {
	var out []RuleStep
	for _, rule := range r.Rules {
		if c, ok := r.Usable(rule.Method); ok {
			out = append(out, RuleStep{Rule: rule, Contact: c})
		}
	}
	return out
}

// RuleStep is a rule with the contact it reaches.
type RuleStep struct {
	Rule
	Contact Contact
}

// Profile is what a person set in chat about reaching them: contact
// methods they added (used once verified) and their own rules.
type Profile struct {
	Person   string    `json:"person"`
	Contacts []Contact `json:"contacts,omitempty"` // FromChat, verified or not
	// Rules replace the configured ones when set.
	Rules []Rule `json:"rules,omitempty"`
	// Pending are the codes sent to methods not yet verified.
	Pending []Verification `json:"pending,omitempty"`
}

// Verification is a code klaxon sent to a contact method to prove it
// reaches the person: six digits, kept only as a hash, good for
// VerifyFor and MaxVerifyTries wrong answers.
type Verification struct {
	Method  Method    `json:"method"`
	To      string    `json:"to"`
	Hash    string    `json:"hash"`
	Expires time.Time `json:"expires"`
	Tries   int       `json:"tries,omitempty"`
}

// How long a verification code works, and how many wrong answers it takes.
const (
	VerifyFor      = 15 * time.Minute
	MaxVerifyTries = 5
)

// With is r with what the person set in chat: their verified methods
// after the configured ones (a configured method of the same kind wins),
// unverified ones listed but never used, and their own rules.
func (r Reach) With(p *Profile) Reach {
	if p == nil {
		return r
	}
	out := Reach{Contacts: slices.Clone(r.Contacts), Rules: r.Rules}
	for _, c := range p.Contacts {
		if !slices.ContainsFunc(out.Contacts, func(x Contact) bool { return x.Method == c.Method && x.To == c.To }) {
			out.Contacts = append(out.Contacts, c)
		}
	}
	if len(p.Rules) > 0 {
		out.Rules = p.Rules
	}
	return out
}

// ProfileStore reads people's profiles (written through Tx.PutProfile).
type ProfileStore interface {
	Profiles(ctx context.Context) ([]*Profile, error)
}
