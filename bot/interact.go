package bot

import (
	"context"
	"fmt"
	"runtime/debug"
	"sort"
	"strings"
	"time"
)

// Action is a click on a button klaxon posted, or a shortcut run on a
// message, translated by an adapter.
type Action struct {
	Platform Platform
	ActionID string // one of the Action* or Shortcut* constants
	Value    string // the button's value
	User     User
	Channel  ChannelRef
	Message  MessageRef // the message the button or shortcut belongs to
	Text     string     // for shortcuts: the message's text
	Trigger  string     // lets the handler open a form
	Time     time.Time
}

// Shortcut ids: actions run on a message rather than a button.
const (
	ShortcutDeclareFromMessage = "klaxon.declare_from_message"
)

// Submission is a submitted form.
type Submission struct {
	Platform Platform
	FormID   string
	Values   map[string]string // field id → value; checkboxes are "true" or ""
	Metadata string            // Form.Metadata, returned unchanged
	Channel  ChannelRef        // Form.Channel: where the form was opened from
	User     User
	Time     time.Time
}

// FieldErrors reports invalid form fields: field id → what is wrong. Adapters
// show each message next to its field.
type FieldErrors map[string]string

func (fe FieldErrors) Error() string {
	keys := make([]string, 0, len(fe))
	for k := range fe {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + fe[k]
	}
	return "invalid form: " + strings.Join(parts, "; ")
}

// Question is something said to klaxon in plain language: a mention or a
// direct message.
type Question struct {
	Platform Platform
	User     User
	Channel  ChannelRef
	Text     string // without the mention of klaxon itself
	Ref      MessageRef
	Direct   bool // a direct message rather than a mention in a channel
	Time     time.Time
}

// ActionFunc handles an Action.
type ActionFunc func(ctx context.Context, a Action) (*Response, error)

// FormHandler handles a form's submission in two steps. Validate is fast and
// writes nothing: platforms want validation errors in their immediate
// acknowledgement. Submit does the work afterwards.
type FormHandler struct {
	Validate func(ctx context.Context, s Submission) error
	Submit   func(ctx context.Context, s Submission) (*Response, error)
}

// QuestionFunc answers a Question; a nil Response means klaxon stays quiet.
type QuestionFunc func(ctx context.Context, q Question) (*Response, error)

type interactions struct {
	actions   map[string]ActionFunc
	forms     map[string]FormHandler
	questions []QuestionFunc
	home      []HomeFunc
}

// HandleAction routes an action id to fn.
func (m *Mux) HandleAction(actionID string, fn ActionFunc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.actions == nil {
		m.actions = map[string]ActionFunc{}
	}
	if _, dup := m.actions[actionID]; dup {
		panic("bot: action registered twice: " + actionID)
	}
	m.actions[actionID] = fn
}

// HandleForm routes a form id to h.
func (m *Mux) HandleForm(formID string, h FormHandler) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.forms == nil {
		m.forms = map[string]FormHandler{}
	}
	if _, dup := m.forms[formID]; dup {
		panic("bot: form registered twice: " + formID)
	}
	m.forms[formID] = h
}

// HandleQuestion adds a handler for plain-language questions. Handlers are
// asked in the order they were added; the first to answer wins.
func (m *Mux) HandleQuestion(fn QuestionFunc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.questions = append(m.questions, fn)
}

// action, form, questionFuncs and homeFuncs read the tables under the lock.
func (m *Mux) action(id string) (ActionFunc, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	fn, ok := m.actions[id]
	return fn, ok
}

func (m *Mux) form(id string) (FormHandler, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	h, ok := m.forms[id]
	return h, ok
}

func (m *Mux) questionFuncs() []QuestionFunc {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.questions
}

func (m *Mux) homeFuncs() []HomeFunc {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.home
}

// Act runs an action and returns what to show the user who took it.
func (m *Mux) Act(ctx context.Context, a Action) (resp *Response) {
	defer m.recoverTo(&resp, "action", a.ActionID)
	fn, ok := m.action(a.ActionID)
	if !ok {
		m.Log.Warn().Str("action", a.ActionID).Msg("unknown action")
		return &Response{Message: Message{Text: "klaxon doesn't know that button. It may be from an older version; try the command instead."}}
	}
	return m.respond(fn(ctx, a))
}

// ValidateForm checks a submission without acting on it. It returns nil,
// FieldErrors, or an error whose message belongs at the top of the form.
func (m *Mux) ValidateForm(ctx context.Context, s Submission) (err error) {
	defer func() {
		if p := recover(); p != nil {
			m.Log.Error().Interface("panic", p).Bytes("stack", debug.Stack()).Str("form", s.FormID).Msg("form validation panicked")
			err = Internal(fmt.Errorf("panic: %v", p), "klaxon could not check that form.")
		}
	}()
	h, ok := m.form(s.FormID)
	if !ok {
		return Errorf(EINVALID, "klaxon doesn't know this form. Close it and try again.")
	}
	if h.Validate == nil {
		return nil
	}
	return h.Validate(ctx, s)
}

// SubmitForm acts on a validated submission.
func (m *Mux) SubmitForm(ctx context.Context, s Submission) (resp *Response) {
	defer m.recoverTo(&resp, "form", s.FormID)
	h, ok := m.form(s.FormID)
	if !ok {
		return &Response{Message: Message{Text: "klaxon doesn't know this form. Close it and try again."}}
	}
	return m.respond(h.Submit(ctx, s))
}

// Ask passes a question to the question handlers. It returns nil when
// klaxon has nothing to say.
func (m *Mux) Ask(ctx context.Context, q Question) (resp *Response) {
	defer m.recoverTo(&resp, "question", "")
	for _, fn := range m.questionFuncs() {
		resp, err := fn(ctx, q)
		if err != nil {
			return m.respond(nil, err)
		}
		if resp != nil {
			return resp
		}
	}
	return nil
}

// respond turns a handler's result into what the user sees.
func (m *Mux) respond(resp *Response, err error) *Response {
	if err != nil {
		text := ErrorMessage(err)
		if ErrorCode(err) == EINTERNAL {
			m.Log.Error().Err(err).Msg("interaction failed")
			text = "⚠️ " + text
		}
		return &Response{Message: Message{Text: text}}
	}
	if resp == nil {
		return &Response{}
	}
	return resp
}

func (m *Mux) recoverTo(resp **Response, kind, id string) {
	if p := recover(); p != nil {
		m.Log.Error().Interface("panic", p).Bytes("stack", debug.Stack()).Str(kind, id).Msg(kind + " handler panicked")
		*resp = &Response{Message: Message{Text: "⚠️ " + ErrorMessage(fmt.Errorf("panic"))}}
	}
}

// Visitor is someone opening klaxon's home (Slack's App Home tab).
type Visitor struct {
	Platform Platform
	User     User
	Time     time.Time
}

// HomeFunc returns one section of the home a visitor sees, or nil for none.
type HomeFunc func(ctx context.Context, v Visitor) (*Message, error)

// HandleHome adds a section to the home; sections show in the order added.
func (m *Mux) HandleHome(fn HomeFunc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.home = append(m.home, fn)
}

// Home returns the sections of the home v sees. A section that fails is
// shown as its error, so the rest still shows.
func (m *Mux) Home(ctx context.Context, v Visitor) (sections []Message) {
	for _, fn := range m.homeFuncs() {
		if resp := m.homeSection(ctx, fn, v); resp != nil && !resp.IsZero() {
			sections = append(sections, resp.Message)
		}
	}
	return sections
}

func (m *Mux) homeSection(ctx context.Context, fn HomeFunc, v Visitor) (resp *Response) {
	defer m.recoverTo(&resp, "home", "")
	msg, err := fn(ctx, v)
	if err != nil {
		return m.respond(nil, err)
	}
	if msg == nil {
		return nil
	}
	return &Response{Message: *msg}
}
