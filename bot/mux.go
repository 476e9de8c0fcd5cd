package bot

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Request is one command from a user, translated by an adapter.
type Request struct {
	Platform Platform
	User     User
	Channel  ChannelRef // where the command was typed
	Text     string     // the whole command line, e.g. `/incident declare "DB down" sev:1`
	Trigger  string     // lets a handler open a form, where the platform has them
	Time     time.Time

	// Set by the Mux before the handler runs.
	Command *Command
	Args    []string // the words after the command's name
}

// Response is what the requester sees in reply.
type Response struct {
	Message
	InChannel bool // everyone in the channel sees it, not only the requester
}

// Reply returns an ephemeral response with the given text.
func Reply(format string, args ...any) *Response {
	return &Response{Message: Message{Text: fmt.Sprintf(format, args...)}}
}

// HandlerFunc runs a command.
type HandlerFunc func(ctx context.Context, req *Request) (*Response, error)

// Command is one command klaxon understands, such as "incident declare".
type Command struct {
	Name    string  // words without the slash: "incident declare"
	Params  []Param // its arguments, in order
	Summary string  // one line for the command list
	Help    string  // more detail for `help <sub>`; may be empty
	// AliasOf names the command this one is another name for ("oncall" for
	// "oncall who"); platforms that list commands list the original only.
	AliasOf string
	Handler HandlerFunc
}

// UsageLine returns "/incident declare <title> …".
func (c *Command) UsageLine() string {
	if len(c.Params) == 0 {
		return "/" + c.Name
	}
	return "/" + c.Name + " " + usage(c.Params)
}

// ActivityFunc handles an Activity.
type ActivityFunc func(ctx context.Context, a Activity) error

// Mux routes requests to commands and activities to their handler. It is the
// one place where errors become chat replies: user-safe messages go to the
// user, internal details go to the log.
type Mux struct {
	Log zerolog.Logger
	// mu guards the tables below: Replace swaps them while requests run.
	mu       sync.RWMutex
	commands map[string]*Command
	roots    map[string]string // root → description
	activity ActivityFunc
	interactions
}

// NewMux returns an empty Mux that logs to log.
func NewMux(log zerolog.Logger) *Mux {
	return &Mux{Log: log, commands: map[string]*Command{}}
}

// Register adds commands. A name registered twice is a programming error.
func (m *Mux) Register(cmds ...Command) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range cmds {
		c := cmds[i]
		if _, dup := m.commands[c.Name]; dup {
			panic("bot: command registered twice: " + c.Name)
		}
		m.commands[c.Name] = &c
	}
}

// HandleActivity sets the handler for channel activity.
func (m *Mux) HandleActivity(fn ActivityFunc) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.activity = fn
}

// Replace makes m route as from does: its commands, actions, forms,
// questions, home sections and activity handler, at once. Requests
// already running finish with the handlers they started with. It is how
// a configuration reload swaps the use cases under the chat platforms,
// which keep their connections and this Mux.
func (m *Mux) Replace(from *Mux) {
	from.mu.RLock()
	defer from.mu.RUnlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.commands, m.roots, m.activity, m.interactions = from.commands, from.roots, from.activity, from.interactions
}

// Lookup finds the command for a command line's words and returns it with
// the remaining words. The longest registered name wins.
func (m *Mux) Lookup(words []string) (*Command, []string) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	for n := min(len(words), 3); n > 0; n-- {
		name := strings.ToLower(strings.Join(words[:n], " "))
		if c, ok := m.commands[name]; ok {
			return c, words[n:]
		}
	}
	return nil, nil
}

// Describe sets the one-line description of a root ("incident"), shown
// where a platform lists commands by root.
func (m *Mux) Describe(root, summary string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.roots == nil {
		m.roots = map[string]string{}
	}
	m.roots[root] = summary
}

// Roots returns the roots of the registered commands that are not aliases,
// sorted, with their descriptions.
func (m *Mux) Roots() []Root {
	m.mu.RLock()
	defer m.mu.RUnlock()
	seen := map[string]bool{}
	var out []Root
	for name, c := range m.commands {
		root, _, _ := strings.Cut(name, " ")
		if c.AliasOf != "" || seen[root] {
			continue
		}
		seen[root] = true
		out = append(out, Root{Name: root, Summary: m.roots[root]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Root is the first word of commands: /incident, /oncall.
type Root struct {
	Name, Summary string
}

// Commands returns the commands under root ("incident"), sorted by name.
func (m *Mux) Commands(root string) []*Command {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []*Command
	for name, c := range m.commands {
		if name == root || strings.HasPrefix(name, root+" ") {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Dispatch runs the command in req.Text and always returns a response to
// show: the handler's, or an error message with usage help. It never panics.
func (m *Mux) Dispatch(ctx context.Context, req *Request) (resp *Response) {
	log := m.Log.With().Str("platform", string(req.Platform)).Str("user", req.User.ID).Logger()
	resp, err := m.Run(ctx, req)
	if u, ok := err.(unknownCommand); ok {
		return m.unknown(u.words)
	}
	if err != nil {
		return m.errorResponse(log, req, err)
	}
	if resp == nil {
		resp = &Response{}
	}
	return resp
}

// unknownCommand is Run's error for a line that names no command.
type unknownCommand struct{ words []string }

func (u unknownCommand) Error() string {
	return fmt.Sprintf("%s: klaxon has no command %q", EINVALID, strings.Join(u.words, " "))
}

// Run runs a command line as Dispatch does, but returns the handler's
// error as it is, for callers that answer with their own status codes
// (the write API). A line naming no command is an EINVALID.
func (m *Mux) Run(ctx context.Context, req *Request) (resp *Response, err error) {
	log := m.Log.With().Str("platform", string(req.Platform)).Str("user", req.User.ID).Logger()
	defer func() {
		if p := recover(); p != nil {
			log.Error().Interface("panic", p).Bytes("stack", debug.Stack()).Str("command", commandName(req)).Msg("command panicked")
			resp, err = nil, Internal(fmt.Errorf("panic: %v", p), ErrorMessage(errors.New("panic")))
		}
	}()
	words, err := Tokenize(req.Text)
	if err != nil {
		return nil, err
	}
	if len(words) > 0 {
		words[0] = strings.TrimPrefix(words[0], "/")
	}
	if len(words) == 0 || words[0] == "" {
		return &Response{Message: Message{Text: "Type a command, e.g. `/incident help`."}}, nil
	}
	cmd, args := m.Lookup(words)
	if cmd == nil {
		return nil, unknownCommand{words}
	}
	req.Command, req.Args = cmd, args
	start := time.Now()
	resp, err = cmd.Handler(ctx, req)
	log.Debug().Str("command", cmd.Name).Dur("took", time.Since(start)).Err(err).Msg("command")
	return resp, err
}

func commandName(req *Request) string {
	if req.Command != nil {
		return req.Command.Name
	}
	return ""
}

// Activity passes a to the activity handler, recovering from panics.
func (m *Mux) Activity(ctx context.Context, a Activity) (err error) {
	m.mu.RLock()
	fn := m.activity
	m.mu.RUnlock()
	if fn == nil {
		return nil
	}
	defer func() {
		if p := recover(); p != nil {
			m.Log.Error().Interface("panic", p).Bytes("stack", debug.Stack()).Str("kind", string(a.Kind)).Msg("activity handler panicked")
			err = Internal(fmt.Errorf("panic: %v", p), "klaxon could not record that.")
		}
	}()
	return fn(ctx, a)
}

func (m *Mux) errorResponse(log zerolog.Logger, req *Request, err error) *Response {
	code := ErrorCode(err)
	text := ErrorMessage(err)
	switch code {
	case EINTERNAL:
		log.Error().Err(err).Str("command", commandName(req)).Msg("command failed")
		text = "⚠️ " + text
	case EINVALID:
		if req.Command != nil {
			text += "\nUsage: `" + req.Command.UsageLine() + "`"
		}
	default:
		log.Debug().Err(err).Str("command", commandName(req)).Msg("command refused")
	}
	return &Response{Message: Message{Text: text}}
}

func (m *Mux) unknown(words []string) *Response {
	root := strings.ToLower(words[0])
	cmds := m.Commands(root)
	if len(cmds) == 0 {
		roots := map[string]bool{}
		for _, r := range m.Roots() {
			roots[r.Name] = true
		}
		if near := nearest(root, slices.Collect(maps.Keys(roots))); near != "" {
			return &Response{Message: Message{Text: fmt.Sprintf("klaxon doesn't know `/%s`. Did you mean `/%s`?", root, near)}}
		}
		return &Response{Message: Message{Text: fmt.Sprintf("klaxon doesn't know `/%s`. Try `/incident help`.", root)}}
	}
	if len(words) == 1 {
		return &Response{Message: Message{Text: fmt.Sprintf("`/%s` needs a subcommand. Try `/%s help`.", root, root)}}
	}
	sub := strings.ToLower(words[1])
	var subs []string
	for _, c := range cmds {
		if s, ok := strings.CutPrefix(c.Name, root+" "); ok && !strings.Contains(s, " ") {
			subs = append(subs, s)
		}
	}
	near := nearest(sub, subs)
	if alias, ok := synonyms[sub]; ok && slices.Contains(subs, alias) {
		near = alias
	}
	if near != "" {
		return &Response{Message: Message{Text: fmt.Sprintf("`/%s %s` is not a command. Did you mean `/%s %s`?", root, words[1], root, near)}}
	}
	return &Response{Message: Message{Text: fmt.Sprintf("`/%s %s` is not a command. Try `/%s help`.", root, words[1], root)}}
}

// synonyms are words people type for a subcommand of another name.
var synonyms = map[string]string{"close": "done", "finish": "done", "complete": "done", "open": "reopen", "lead": "role", "severity": "sev"}

// nearest is the word of words closest to w, if it is a likely typo (at
// most two letters off, and fewer than half of w), else "".
func nearest(w string, words []string) string {
	best, bestD := "", 3
	slices.Sort(words)
	for _, c := range words {
		if d := EditDistance(w, c); d < bestD && d*2 < max(len(w), 2) {
			best, bestD = c, d
		}
	}
	return best
}

// Help is the handler of "<root> help": it lists the commands under
// root, or explains one.
func (m *Mux) Help(root string) HandlerFunc {
	return func(ctx context.Context, req *Request) (*Response, error) {
		if len(req.Args) > 0 {
			cmd, _ := m.Lookup(append([]string{root}, req.Args...))
			if cmd == nil || cmd.Name == root+" help" && len(req.Args) > 1 {
				return nil, Errorf(ENOTFOUND, "There is no `/%s %s`. Try `/%s help`.", root, req.Args[0], root)
			}
			text := "`" + cmd.UsageLine() + "`\n" + cmd.Summary
			if cmd.Help != "" {
				text += "\n" + cmd.Help
			}
			return &Response{Message: Message{Text: text}}, nil
		}
		text := ""
		for _, cmd := range m.Commands(root) {
			text += fmt.Sprintf("`%s` — %s\n", cmd.UsageLine(), cmd.Summary)
		}
		return &Response{Message: Message{Title: "klaxon commands", Text: text,
			Context: "Inside an incident channel, commands act on that incident; elsewhere, name it: INC-42."}}, nil
	}
}
