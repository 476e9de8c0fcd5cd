package bot

import (
	"context"
	"errors"
	"time"
)

// Chat is what klaxon needs from a chat platform. Adapters implement it;
// commands use it. Every implementation passes the contract suite in
// bot/chattest.
type Chat interface {
	Platform() Platform
	// CreateChannel creates a channel. If the name is taken it returns an
	// error that wraps ErrNameTaken, so the caller can pick another name.
	CreateChannel(ctx context.Context, spec ChannelSpec) (ChannelRef, error)
	Invite(ctx context.Context, channelID string, userIDs ...string) error
	SetTopic(ctx context.Context, channelID, topic string) error
	Post(ctx context.Context, channelID string, m Message) (MessageRef, error)
	// Update replaces a message klaxon posted earlier.
	Update(ctx context.Context, ref MessageRef, m Message) error
	Pin(ctx context.Context, ref MessageRef) error
	DM(ctx context.Context, userID string, m Message) (MessageRef, error)
	// OpenForm shows a form (a modal) to the user whose action produced
	// trigger. Platforms without forms return an *Error with EUNSUPPORTED.
	OpenForm(ctx context.Context, trigger string, f Form) error
	// Upload posts a file to a channel, with an optional comment.
	Upload(ctx context.Context, channelID string, f File) (MessageRef, error)

	// Chat calls are not idempotent. After a crash between a call and
	// recording its result, the outbox finds what the call made instead
	// of making it again:
	//
	// FindChannel returns the channel named name that klaxon created for
	// the incident key ("INC-7"), if there is one.
	FindChannel(ctx context.Context, name, incidentKey string) (ChannelRef, bool, error)
	// FindPost returns klaxon's message in channelID that carries nonce
	// (Message.Nonce), if there is one. A platform that refuses a second
	// message with the same nonce itself may always report none.
	FindPost(ctx context.Context, channelID, nonce string) (MessageRef, bool, error)
}

// File is a document klaxon posts, such as a postmortem draft.
type File struct {
	Name    string // e.g. INC-42-postmortem.md
	Content []byte
	Comment string // a short message with it
}

// ErrNameTaken is wrapped by Chat.CreateChannel when the name is in use.
var ErrNameTaken = errors.New("channel name is taken")

// ChannelSpec describes a channel to create.
type ChannelSpec struct {
	Name    string
	Topic   string // the state at a glance; klaxon keeps it current
	Purpose string // what the channel is for; set once
	Private bool
}

// Mention returns the neutral channel mention "<#ID>", which Slack and
// Discord render as a link and the console as #name.
func (c ChannelRef) Mention() string {
	if c.ID == "" {
		return "(no channel)"
	}
	return "<#" + c.ID + ">"
}

// Message is a platform-neutral message. Commands say what to say; each
// adapter decides how it looks (Block Kit, Discord embeds, plain text).
// Text may contain *bold*, `code` and the mention tokens of User.Mention and
// ChannelRef.Mention.
type Message struct {
	Title   string   `json:"title,omitempty"`
	Text    string   `json:"text,omitempty"`
	Fields  []Field  `json:"fields,omitempty"`
	Buttons []Button `json:"buttons,omitempty"`
	Context string   `json:"context,omitempty"` // small print under the message
	// Nonce identifies the outbox job that posts the message, kept with it
	// by the platform (Slack metadata, Discord nonce) so the job can find
	// it after a crash.
	Nonce string `json:"nonce,omitempty"`
}

// IsZero reports whether m says nothing.
func (m Message) IsZero() bool {
	return m.Title == "" && m.Text == "" && len(m.Fields) == 0 && len(m.Buttons) == 0 && m.Context == ""
}

// Field is a labelled value, shown as a two-column table where possible.
type Field struct {
	Label string `json:"label"`
	Value string `json:"value"`
}

// ButtonStyle colours a button.
type ButtonStyle string

// Button styles.
const (
	ButtonDefault ButtonStyle = ""
	ButtonPrimary ButtonStyle = "primary"
	ButtonDanger  ButtonStyle = "danger"
)

// Button is an action a user can take on a message.
type Button struct {
	ActionID string      `json:"action_id"`
	Label    string      `json:"label"`
	Value    string      `json:"value,omitempty"`
	Style    ButtonStyle `json:"style,omitempty"`
}

// Action ids of klaxon's buttons. Adapters switch on these, nothing else.
const (
	ActionAcknowledge = "klaxon.acknowledge"
	ActionUpdate      = "klaxon.update"
	ActionSeverity    = "klaxon.severity"
	ActionResolve     = "klaxon.resolve"
	// ActionTakeShift is the button on a swap offer (its value: the
	// offer's id); ActionOfferShift offers one of the person's shifts
	// (its value: "schedule|start", the start in RFC 3339).
	ActionTakeShift  = "klaxon.swap.take"
	ActionOfferShift = "klaxon.swap.offer"
)

// FieldKind is the kind of input a form field takes.
type FieldKind string

// Form field kinds.
const (
	FieldText     FieldKind = "text"
	FieldTextArea FieldKind = "textarea"
	FieldSelect   FieldKind = "select"
	FieldUser     FieldKind = "user"
	FieldCheckbox FieldKind = "checkbox"
)

// Form is a modal dialog.
type Form struct {
	ID       string      `json:"id"` // callback id; names the handler of the submission
	Title    string      `json:"title"`
	Submit   string      `json:"submit"`
	Fields   []FormField `json:"fields"`
	Metadata string      `json:"metadata,omitempty"` // round-trips with the submission
	// Channel is where the form was opened from; the submission's reply
	// goes there.
	Channel ChannelRef `json:"channel,omitzero"`
}

// FormField is one input of a form.
type FormField struct {
	ID          string    `json:"id"`
	Label       string    `json:"label"`
	Kind        FieldKind `json:"kind"`
	Options     []Option  `json:"options,omitempty"`
	Initial     string    `json:"initial,omitempty"`
	Placeholder string    `json:"placeholder,omitempty"`
	Optional    bool      `json:"optional,omitempty"`
	MaxLength   int       `json:"max_length,omitempty"`
	// Hint is a line shown under the field where the platform has room
	// (Slack); a form must read right without it.
	Hint string `json:"hint,omitempty"`
}

// Option is one choice of a select field.
type Option struct {
	Value string `json:"value"`
	Label string `json:"label"`
}

// Activity is something a person did in a channel that klaxon watches: a
// message, an edit, a reaction. Adapters translate platform events into
// Activities; commands decide what they mean.
type Activity struct {
	Platform Platform   `json:"platform"`
	Channel  ChannelRef `json:"channel"`
	User     User       `json:"user"`
	Kind     EventKind  `json:"kind"`
	Text     string     `json:"text,omitempty"`
	PrevText string     `json:"prev_text,omitempty"` // for edits
	Emoji    string     `json:"emoji,omitempty"`     // for reactions
	Ref      MessageRef `json:"ref,omitzero"`
	SourceID string     `json:"source_id"` // platform event id, for de-duplication
	Time     time.Time  `json:"time"`
}

// GroupKeeper is a chat with groups of people that one mention reaches (a
// Slack user group, a Discord role), which klaxon keeps in step with who
// is on call.
type GroupKeeper interface {
	// SetGroup makes userIDs exactly the members of group (a Slack user
	// group's handle, a Discord role's id). It is idempotent.
	SetGroup(ctx context.Context, group string, userIDs []string) error
	// GroupMention shows group in a message without notifying its
	// members (klaxon's posts mention groups to say who is on call, not
	// to page them).
	GroupMention(group string) string
}

// Archiver is a chat that can put an incident's channel away once the
// incident is closed: the timeline and postmortem stay in klaxon.
type Archiver interface {
	// Archive archives the channel (Slack), or moves it into the archive
	// category and makes it read-only (Discord). It is idempotent.
	Archive(ctx context.Context, channelID string) error
}

// SelfChecker is a chat that can check its own installation against what
// klaxon needs (Slack scopes; Discord permissions and intents).
type SelfChecker interface {
	// Check asks the platform and returns one line per missing item: what
	// stops working and how to fix it. An error means the platform could
	// not be asked or refused klaxon's credentials.
	Check(ctx context.Context) ([]string, error)
	// Problems returns what the check at connection found missing.
	Problems() []string
}
