// Package slackfake is a Slack for tests: the Web API methods klaxon calls
// and a Socket Mode websocket, on 127.0.0.1, speaking Slack's documented wire
// format. It does not import slack-go, so tests exercise the real client
// against the protocol rather than against the client's own assumptions.
//
// The fake keeps Slack's state (channels, members, topics, messages, pins,
// views, DMs), records every call and every acknowledgement, and can drop
// the socket, send a disconnect request, answer 429, slow down, and
// redeliver unacknowledged envelopes. Every call's effect is visible before
// the call returns.
package slackfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Identities the fake knows.
const (
	TeamID    = "T0FAKE"
	AppID     = "A0KLAXON"
	BotUserID = "U0KLAXON"
	BotID     = "B0KLAXON"
)

// Channel is a conversation as the fake holds it.
type Channel struct {
	ID, Name       string
	Private, IsDM  bool
	Topic, Purpose string
	Members        []string
	Pins           []string // message timestamps
}

// Message is a message as the fake holds it.
type Message struct {
	Channel, TS, User string
	Text              string          // the text field (the notification fallback)
	Blocks            json.RawMessage // Block Kit, as posted
	ThreadTS          string
	Edits             int
	Files             []File // files shared with the message
}

// File is an uploaded file.
type File struct {
	ID, Name string
	Content  []byte
	length   int
}

// Rendered returns everything a person would read in the message: its text
// and every text in its blocks.
func (m Message) Rendered() string {
	parts := []string{m.Text}
	var blocks any
	if json.Unmarshal(m.Blocks, &blocks) == nil {
		collectText(blocks, &parts)
	}
	return strings.Join(parts, "\n")
}

func collectText(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && k == "text" {
				*out = append(*out, s)
				continue
			}
			collectText(val, out)
		}
	case []any:
		for _, e := range x {
			collectText(e, out)
		}
	}
}

// Call is one Web API call.
type Call struct {
	Method string
	Params map[string]any
	At     time.Time
}

// View is a modal opened with views.open.
type View struct {
	ID      string
	Trigger string
	View    map[string]any // the view object as sent
}

// Reply is a message posted to a response_url, or with chat.postEphemeral.
type Reply struct {
	URL, Channel, User string
	Body               map[string]any
	Text               string
}

type envelope struct {
	id      string
	kind    string
	payload any
	sentAt  time.Time // last write to the socket
	retries int
}

// Server is the fake Slack.
type Server struct {
	AppToken, BotToken string

	srv      *httptest.Server
	upgrader websocket.Upgrader

	mu        sync.Mutex
	channels  map[string]*Channel
	order     []string // channel ids in creation order
	users     map[string]string
	messages  map[string][]*Message // by channel, in order
	calls     []Call
	views     []View
	uploads   map[string]*File // by file id, between upload and completion
	triggers  map[string]time.Time
	replies   []Reply
	seq       int
	conn      *websocket.Conn
	connSeq   int // connections accepted so far
	pending   []*envelope
	acks      map[string]json.RawMessage
	ackAt     map[string]time.Time
	firstSent map[string]time.Time
	limits    map[string]int // method → 429s left to answer
	retryWait int            // Retry-After seconds
	delay     time.Duration
	closed    bool

	writeMu sync.Mutex // one writer on the socket at a time

	// PingInterval is how often the fake pings the client (Slack does).
	PingInterval time.Duration
	// RedeliverAfter is how long an envelope may stay unacknowledged before
	// it is sent again, as Slack does. Zero disables timed redelivery;
	// unacknowledged envelopes are still resent after a reconnect.
	RedeliverAfter time.Duration
	// TriggerTTL is how long a trigger_id can open a view (Slack: 3 s).
	TriggerTTL time.Duration
}

// New starts a fake Slack on 127.0.0.1 with users, e.g. "U0ALICE": "alice",
// and a public channel #general (C0GENERAL) and #incidents (C0INCIDENTS).
func New(users map[string]string) *Server {
	s := &Server{
		AppToken: "xapp-1-A0KLAXON-fake", BotToken: "xoxb-fake-bot",
		channels: map[string]*Channel{}, users: map[string]string{BotUserID: "klaxon"},
		messages: map[string][]*Message{}, triggers: map[string]time.Time{}, uploads: map[string]*File{},
		acks: map[string]json.RawMessage{}, ackAt: map[string]time.Time{}, firstSent: map[string]time.Time{}, limits: map[string]int{},
		retryWait: 1, PingInterval: 2 * time.Second, RedeliverAfter: 3 * time.Second, TriggerTTL: 3 * time.Second,
	}
	for id, name := range users {
		s.users[id] = name
	}
	for _, c := range []struct{ id, name string }{{"C0GENERAL", "general"}, {"C0INCIDENTS", "incidents"}} {
		members := []string{BotUserID}
		for id := range users {
			members = append(members, id)
		}
		sort.Strings(members)
		s.channels[c.id] = &Channel{ID: c.id, Name: c.name, Members: members}
		s.order = append(s.order, c.id)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.serveAPI)
	mux.HandleFunc("/socket", s.serveSocket)
	mux.HandleFunc("/respond/", s.serveResponse)
	// slack-go sends Origin: https://api.slack.com; Slack does not check it.
	s.upgrader.CheckOrigin = func(*http.Request) bool { return true }
	s.srv = httptest.NewServer(mux)
	go s.redeliverLoop()
	return s
}

// URL is the Web API base URL for slack.OptionAPIURL.
func (s *Server) URL() string { return s.srv.URL + "/api/" }

// Close stops the fake.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	conn := s.conn
	s.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
	s.srv.CloseClientConnections()
	s.srv.Close()
}

func (s *Server) nextID(prefix string) string {
	s.seq++
	return fmt.Sprintf("%s%06d", prefix, s.seq)
}

func (s *Server) nextTS() string {
	s.seq++
	return fmt.Sprintf("%d.%06d", 1763694000+s.seq, s.seq)
}

// --- Web API -------------------------------------------------------------

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	if id, ok := strings.CutPrefix(method, "upload/"); ok {
		s.serveUpload(w, r, id)
		return
	}
	params := map[string]any{}
	token := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(r.Body).Decode(&params); err != nil && err != io.EOF {
			writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_json"})
			return
		}
	} else {
		r.ParseForm()
		for k, v := range r.Form {
			params[k] = v[0]
		}
		if t, ok := params["token"].(string); ok {
			token = t
		}
	}

	s.mu.Lock()
	delay := s.delay
	if n := s.limits[method]; n > 0 {
		s.limits[method] = n - 1
		s.calls = append(s.calls, Call{Method: method + " (429)", Params: params, At: time.Now()})
		wait := s.retryWait
		s.mu.Unlock()
		w.Header().Set("Retry-After", strconv.Itoa(wait))
		writeJSON(w, http.StatusTooManyRequests, map[string]any{"ok": false, "error": "ratelimited"})
		return
	}
	s.mu.Unlock()
	if delay > 0 {
		time.Sleep(delay)
	}

	want := s.BotToken
	if method == "apps.connections.open" {
		want = s.AppToken
	}
	if token != want {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}

	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: method, Params: params, At: time.Now()})
	resp := s.call(method, params)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func fail(code string) map[string]any { return map[string]any{"ok": false, "error": code} }

func str(p map[string]any, k string) string {
	switch v := p[k].(type) {
	case string:
		return v
	case nil:
		return ""
	case bool:
		return strconv.FormatBool(v)
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

var channelName = regexp.MustCompile(`^[a-z0-9_-]+$`)

// call applies one Web API method to the state. s.mu is held.
func (s *Server) call(method string, p map[string]any) map[string]any {
	ok := func(fields map[string]any) map[string]any {
		fields["ok"] = true
		return fields
	}
	switch method {
	case "auth.test":
		return ok(map[string]any{"url": "https://fake.slack.test/", "team": "Fake", "user": "klaxon", "team_id": TeamID, "user_id": BotUserID, "bot_id": BotID})
	case "apps.connections.open":
		return ok(map[string]any{"url": "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/socket"})
	case "conversations.create":
		name := str(p, "name")
		switch {
		case name == "":
			return fail("invalid_name_required")
		case len(name) > 80:
			return fail("invalid_name_maxlength")
		case !channelName.MatchString(name):
			return fail("invalid_name_specials")
		}
		for _, c := range s.channels {
			if c.Name == name {
				return fail("name_taken")
			}
		}
		id := s.nextID("C")
		c := &Channel{ID: id, Name: name, Private: str(p, "is_private") == "true", Members: []string{BotUserID}}
		s.channels[id] = c
		s.order = append(s.order, id)
		return ok(map[string]any{"channel": channelJSON(c)})
	case "conversations.invite":
		c, found := s.channels[str(p, "channel")]
		if !found {
			return fail("channel_not_found")
		}
		added := 0
		for _, u := range strings.Split(str(p, "users"), ",") {
			u = strings.TrimSpace(u)
			if u == BotUserID {
				return fail("cant_invite_self")
			}
			if _, known := s.users[u]; !known {
				return fail("user_not_found")
			}
			if !slices.Contains(c.Members, u) {
				c.Members = append(c.Members, u)
				added++
			}
		}
		if added == 0 {
			return fail("already_in_channel")
		}
		return ok(map[string]any{"channel": channelJSON(c)})
	case "conversations.setTopic", "conversations.setPurpose":
		c, found := s.channels[str(p, "channel")]
		if !found {
			return fail("channel_not_found")
		}
		if method == "conversations.setTopic" {
			if t := str(p, "topic"); len([]rune(t)) > 250 {
				return fail("too_long")
			}
			c.Topic = str(p, "topic")
		} else {
			c.Purpose = str(p, "purpose")
		}
		return ok(map[string]any{"channel": channelJSON(c)})
	case "conversations.open":
		u := str(p, "users")
		if _, known := s.users[u]; !known {
			return fail("user_not_found")
		}
		id := "D" + strings.TrimPrefix(u, "U")
		if _, found := s.channels[id]; !found {
			s.channels[id] = &Channel{ID: id, IsDM: true, Members: []string{BotUserID, u}}
			s.order = append(s.order, id)
		}
		return ok(map[string]any{"channel": map[string]any{"id": id}})
	case "chat.postMessage":
		c, found := s.channels[str(p, "channel")]
		if !found {
			return fail("channel_not_found")
		}
		if c.Private && !slices.Contains(c.Members, BotUserID) {
			return fail("not_in_channel")
		}
		m := &Message{Channel: c.ID, TS: s.nextTS(), User: BotUserID, Text: str(p, "text"), Blocks: rawBlocks(p), ThreadTS: str(p, "thread_ts")}
		if m.Text == "" && len(m.Blocks) == 0 {
			return fail("no_text")
		}
		s.messages[c.ID] = append(s.messages[c.ID], m)
		return ok(map[string]any{"channel": c.ID, "ts": m.TS, "message": map[string]any{"type": "message", "user": BotUserID, "text": m.Text, "ts": m.TS}})
	case "chat.update":
		m := s.message(str(p, "channel"), str(p, "ts"))
		if m == nil {
			return fail("message_not_found")
		}
		if m.User != BotUserID {
			return fail("cant_update_message")
		}
		m.Text, m.Blocks = str(p, "text"), rawBlocks(p)
		m.Edits++
		return ok(map[string]any{"channel": m.Channel, "ts": m.TS, "text": m.Text})
	case "chat.postEphemeral":
		c, found := s.channels[str(p, "channel")]
		if !found {
			return fail("channel_not_found")
		}
		if !slices.Contains(c.Members, BotUserID) {
			return fail("not_in_channel")
		}
		s.replies = append(s.replies, Reply{Channel: c.ID, User: str(p, "user"), Text: str(p, "text"), Body: p})
		return ok(map[string]any{"message_ts": s.nextTS()})
	case "pins.add":
		c, found := s.channels[str(p, "channel")]
		if !found {
			return fail("channel_not_found")
		}
		ts := str(p, "timestamp")
		if s.message(c.ID, ts) == nil {
			return fail("message_not_found")
		}
		if slices.Contains(c.Pins, ts) {
			return fail("already_pinned")
		}
		c.Pins = append(c.Pins, ts)
		return ok(map[string]any{})
	case "files.getUploadURLExternal":
		name, length := str(p, "filename"), str(p, "length")
		n, err := strconv.Atoi(length)
		if name == "" || err != nil || n <= 0 {
			return fail("invalid_arguments")
		}
		f := &File{ID: s.nextID("F"), Name: name, length: n}
		s.uploads[f.ID] = f
		return ok(map[string]any{"upload_url": s.srv.URL + "/api/upload/" + f.ID, "file_id": f.ID})
	case "files.completeUploadExternal":
		var files []struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		}
		if err := json.Unmarshal([]byte(str(p, "files")), &files); err != nil || len(files) == 0 {
			return fail("invalid_arguments")
		}
		c, found := s.channels[str(p, "channel_id")]
		if !found {
			return fail("channel_not_found")
		}
		m := &Message{Channel: c.ID, TS: s.nextTS(), User: BotUserID, Text: str(p, "initial_comment")}
		var out []any
		for _, f := range files {
			up, found := s.uploads[f.ID]
			if !found || up.Content == nil {
				return fail("file_not_found")
			}
			if len(up.Content) != up.length {
				return fail("file_upload_size_mismatch")
			}
			m.Files = append(m.Files, *up)
			delete(s.uploads, f.ID)
			out = append(out, map[string]any{"id": f.ID, "title": f.Title})
		}
		s.messages[c.ID] = append(s.messages[c.ID], m)
		return ok(map[string]any{"files": out})
	case "views.open":
		trigger := str(p, "trigger_id")
		issued, found := s.triggers[trigger]
		if !found {
			return fail("invalid_trigger_id")
		}
		if time.Since(issued) > s.TriggerTTL {
			return fail("expired_trigger_id")
		}
		delete(s.triggers, trigger)
		view, _ := p["view"].(map[string]any)
		if view == nil {
			return fail("invalid_arguments")
		}
		v := View{ID: s.nextID("V"), Trigger: trigger, View: view}
		s.views = append(s.views, v)
		out := map[string]any{"id": v.ID}
		for k, val := range view {
			out[k] = val
		}
		return ok(map[string]any{"view": out})
	}
	return fail("unknown_method")
}

func rawBlocks(p map[string]any) json.RawMessage {
	switch b := p["blocks"].(type) {
	case string:
		return json.RawMessage(b)
	case nil:
		return nil
	default:
		raw, _ := json.Marshal(b)
		return raw
	}
}

func channelJSON(c *Channel) map[string]any {
	return map[string]any{"id": c.ID, "name": c.Name, "is_channel": !c.IsDM, "is_private": c.Private, "is_member": true,
		"topic": map[string]any{"value": c.Topic}, "purpose": map[string]any{"value": c.Purpose}}
}

func (s *Server) message(channel, ts string) *Message {
	for _, m := range s.messages[channel] {
		if m.TS == ts {
			return m
		}
	}
	return nil
}

// serveUpload receives a file's bytes, as Slack's upload URLs do.
func (s *Server) serveUpload(w http.ResponseWriter, r *http.Request, id string) {
	file, _, err := r.FormFile("file")
	if err != nil {
		http.Error(w, "no file", http.StatusBadRequest)
		return
	}
	data, _ := io.ReadAll(file)
	s.mu.Lock()
	defer s.mu.Unlock()
	up, ok := s.uploads[id]
	if !ok {
		http.Error(w, "unknown upload", http.StatusNotFound)
		return
	}
	up.Content = data
	w.Write([]byte("OK - " + strconv.Itoa(len(data))))
}

func (s *Server) serveResponse(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.replies = append(s.replies, Reply{URL: r.URL.Path, Body: body, Text: str(body, "text")})
	s.mu.Unlock()
	w.Write([]byte("ok"))
}
