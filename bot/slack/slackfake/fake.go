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
	"testing"
	"time"
	"unicode/utf8"

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
	Creator        string
	Private, IsDM  bool
	Archived       bool
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
	Metadata          json.RawMessage // message metadata, as posted
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
	User    string         // for a published Home tab
	View    map[string]any // the view object as sent
}

// Rendered returns every text in the view.
func (v View) Rendered() string {
	var parts []string
	collectText(v.View, &parts)
	return strings.Join(parts, "\n")
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
	sentAt  time.Time       // last write to the socket
	conn    *websocket.Conn // that socket
	retries int
}

// Server is the fake Slack.
type Server struct {
	AppToken, BotToken string

	srv      *httptest.Server
	upgrader websocket.Upgrader

	mu         sync.Mutex
	channels   map[string]*Channel
	order      []string // channel ids in creation order
	users      map[string]string
	messages   map[string][]*Message // by channel, in order
	calls      []Call
	views      []View
	homes      map[string]View  // Home tab per user, from views.publish
	uploads    map[string]*File // by file id, between upload and completion
	triggers   map[string]time.Time
	replies    []Reply
	seq        int
	conns      []*websocket.Conn // open sockets, oldest first
	maxConns   int               // how many the app may hold (SetMaxConnections); 0: 1
	next       int               // round-robin over conns
	connSeq    int               // connections accepted so far
	pending    []*envelope
	acks       map[string]json.RawMessage
	ackAt      map[string]time.Time
	firstSent  map[string]time.Time
	envelopes  map[string]*envelope // every envelope made, by id
	limits     map[string]int       // method → 429s left to answer
	retryWait  int                  // Retry-After seconds
	delay      time.Duration
	closed     bool
	manifest   Manifest
	rates      *limiter // nil until EnforceRateLimits
	responses  map[string]*responseURLUse
	violations []Violation
	groups     userGroups

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

// Violation is a request the real Slack would refuse for breaking one of
// its documented rules: a Block Kit limit, a missing scope, a length.
type Violation struct {
	Method string
	Error  string   // Slack's error code, e.g. invalid_blocks
	Detail []string // Slack's messages, with the JSON pointer of the field
}

func (v Violation) String() string {
	return fmt.Sprintf("%s: %s %s", v.Method, v.Error, strings.Join(v.Detail, "; "))
}

// New starts a strict fake Slack on 127.0.0.1 with users, e.g. "U0ALICE":
// "alice", and a public channel #general (C0GENERAL) and #incidents
// (C0INCIDENTS). It grants exactly the bot scopes and events of the
// repository's slack-app-manifest.yaml. When t ends, the fake closes, and
// every request it refused for breaking Slack's rules that the test did
// not take with TakeViolations fails t.
func New(t testing.TB, users map[string]string) *Server {
	t.Helper()
	manifest, err := ReadManifest(ManifestPath())
	if err != nil {
		t.Fatalf("slackfake: %v", err)
	}
	s := &Server{manifest: manifest, responses: map[string]*responseURLUse{}, homes: map[string]View{}, groups: userGroups{byID: map[string]*UserGroup{}},
		AppToken: "xapp-1-A0KLAXON-fake", BotToken: "xoxb-fake-bot",
		channels: map[string]*Channel{}, users: map[string]string{BotUserID: "klaxon"},
		messages: map[string][]*Message{}, triggers: map[string]time.Time{}, uploads: map[string]*File{},
		acks: map[string]json.RawMessage{}, ackAt: map[string]time.Time{}, firstSent: map[string]time.Time{}, envelopes: map[string]*envelope{}, limits: map[string]int{},
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
	t.Cleanup(func() {
		s.Close()
		for _, v := range s.TakeViolations() {
			t.Errorf("slackfake: real Slack would refuse %s", v)
		}
	})
	return s
}

// URL is the Web API base URL for slack.OptionAPIURL.
func (s *Server) URL() string { return s.srv.URL + "/api/" }

// Close stops the fake. It may be called more than once.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	for _, conn := range conns {
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
	call := Call{Method: method, Params: params, At: time.Now()}
	if method != "apps.connections.open" {
		// Slack names a bot token's scopes in every answer.
		w.Header().Set("X-OAuth-Scopes", strings.Join(s.manifest.OAuth.Scopes.Bot, ","))
	}
	if s.rates != nil {
		if wait := s.rates.allow(call, str(params, "channel"), call.At); wait > 0 {
			s.calls = append(s.calls, Call{Method: method + " (429)", Params: params, At: call.At})
			s.mu.Unlock()
			w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
			writeJSON(w, http.StatusTooManyRequests, map[string]any{"ok": false, "error": "ratelimited"})
			return
		}
	}
	s.calls = append(s.calls, call)
	var resp map[string]any
	if needed := s.missingScope(method, params); needed != "" {
		resp = s.refuse(method, map[string]any{"ok": false, "error": "missing_scope", "needed": needed,
			"provided": strings.Join(s.manifest.OAuth.Scopes.Bot, ",")})
	} else {
		resp = s.call(method, params)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, resp)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func fail(code string) map[string]any { return map[string]any{"ok": false, "error": code} }

// refuse records a violation of Slack's rules and returns Slack's answer to
// it. s.mu is held.
func (s *Server) refuse(method string, resp map[string]any) map[string]any {
	v := Violation{Method: method, Error: str(resp, "error")}
	if n := str(resp, "needed"); n != "" {
		v.Detail = append(v.Detail, "needed "+n)
	}
	if errs, ok := resp["errors"].([]string); ok {
		v.Detail = append(v.Detail, errs...)
	}
	if md, ok := resp["response_metadata"].(map[string]any); ok {
		if msgs, ok := md["messages"].([]string); ok && len(v.Detail) == 0 {
			v.Detail = append(v.Detail, msgs...)
		}
	}
	s.violations = append(s.violations, v)
	return resp
}

// refuseCode refuses with a bare error code.
func (s *Server) refuseCode(method, code string) map[string]any { return s.refuse(method, fail(code)) }

// invalidBlocks is Slack's answer to blocks that break Block Kit's rules.
func (s *Server) invalidBlocks(method string, errs blockErrors) map[string]any {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = "[ERROR] " + e
	}
	return s.refuse(method, map[string]any{"ok": false, "error": "invalid_blocks", "errors": []string(errs),
		"response_metadata": map[string]any{"messages": msgs}})
}

// invalidView is Slack's answer to a view that breaks its rules.
func (s *Server) invalidView(method string, errs blockErrors) map[string]any {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = "[ERROR] " + e
	}
	return s.refuse(method, map[string]any{"ok": false, "error": "invalid_arguments", "response_metadata": map[string]any{"messages": msgs}})
}

// messageErrors checks a message's blocks and text. Slack truncates text
// over 40,000 characters in chat.postMessage and refuses more than 4,000
// in chat.update ("msg_too_long").
func messageErrors(p map[string]any, maxText int) (code string, errs blockErrors) {
	if utf8.RuneCountInString(str(p, "text")) > maxText {
		return "msg_too_long", nil
	}
	blocks, err := decodeBlocks(p)
	if err != nil {
		return "invalid_blocks_format", nil
	}
	if errs := validateBlocks("/blocks", blocks, "message"); len(errs) > 0 {
		return "invalid_blocks", errs
	}
	return "", nil
}

func decodeBlocks(p map[string]any) (any, error) {
	switch b := p["blocks"].(type) {
	case string:
		var v any
		if b == "" {
			return nil, nil
		}
		err := json.Unmarshal([]byte(b), &v)
		return v, err
	default:
		return b, nil
	}
}

// checkMessage refuses a message that breaks Slack's rules; nil means it
// may be posted.
func (s *Server) checkMessage(method string, p map[string]any, maxText int) map[string]any {
	switch code, errs := messageErrors(p, maxText); code {
	case "":
		return nil
	case "invalid_blocks":
		return s.invalidBlocks(method, errs)
	default:
		return s.refuseCode(method, code)
	}
}

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
	// An archived channel is read-only: "is_archived".
	switch method {
	case "conversations.invite", "conversations.setTopic", "conversations.setPurpose", "chat.update", "pins.add", "chat.postEphemeral":
		if c, found := s.channels[str(p, "channel")]; found && c.Archived {
			return fail("is_archived")
		}
	}
	switch method {
	case "auth.test":
		return ok(map[string]any{"url": "https://fake.slack.test/", "team": "Fake", "user": "klaxon", "team_id": TeamID, "user_id": BotUserID, "bot_id": BotID})
	case "apps.connections.open":
		return ok(map[string]any{"url": "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/socket"})
	case "conversations.create":
		name := str(p, "name")
		switch {
		// "Channel names may only contain lowercase letters, numbers,
		// hyphens, and underscores, and must be 80 characters or less."
		case name == "":
			return s.refuseCode(method, "invalid_name_required")
		case utf8.RuneCountInString(name) > 80:
			return s.refuseCode(method, "invalid_name_maxlength")
		case !channelName.MatchString(name):
			return s.refuseCode(method, "invalid_name_specials")
		case strings.Trim(name, "-_") == "":
			return s.refuseCode(method, "invalid_name_punctuation")
		}
		for _, c := range s.channels {
			if c.Name == name {
				return fail("name_taken")
			}
		}
		id := s.nextID("C")
		c := &Channel{ID: id, Name: name, Creator: BotUserID, Private: str(p, "is_private") == "true", Members: []string{BotUserID}}
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
	case "conversations.archive":
		c, found := s.channels[str(p, "channel")]
		switch {
		case !found:
			return fail("channel_not_found")
		case c.IsDM:
			return fail("method_not_supported_for_channel_type")
		case c.Archived:
			return fail("already_archived")
		case !slices.Contains(c.Members, BotUserID):
			return fail("not_in_channel")
		}
		c.Archived = true
		return ok(map[string]any{})
	case "conversations.setTopic", "conversations.setPurpose":
		c, found := s.channels[str(p, "channel")]
		if !found {
			return fail("channel_not_found")
		}
		// Topics and purposes: "too_long: ... longer than 250 characters".
		field := "topic"
		if method == "conversations.setPurpose" {
			field = "purpose"
		}
		if utf8.RuneCountInString(str(p, field)) > 250 {
			return s.refuseCode(method, "too_long")
		}
		if !slices.Contains(c.Members, BotUserID) {
			return fail("not_in_channel")
		}
		if field == "topic" {
			c.Topic = str(p, field)
		} else {
			c.Purpose = str(p, field)
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
		if c.Archived {
			return fail("is_archived")
		}
		// A bot posts where it is a member, or in any public channel with
		// chat:write.public.
		if !slices.Contains(c.Members, BotUserID) && (c.Private || c.IsDM || !s.hasScope("chat:write.public")) {
			return fail("not_in_channel")
		}
		if refused := s.checkMessage(method, p, 40000); refused != nil {
			return refused
		}
		m := &Message{Channel: c.ID, TS: s.nextTS(), User: BotUserID, Text: str(p, "text"), Blocks: rawBlocks(p), ThreadTS: str(p, "thread_ts"),
			Metadata: rawParam(p, "metadata")}
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
		if refused := s.checkMessage(method, p, 4000); refused != nil {
			return refused
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
		if !slices.Contains(c.Members, str(p, "user")) {
			return fail("user_not_in_channel")
		}
		if refused := s.checkMessage(method, p, 40000); refused != nil {
			return refused
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
		// "trigger_id ... expires after 3 seconds" and opens one view.
		issued, found := s.triggers[trigger]
		if !found {
			return s.refuseCode(method, "invalid_trigger_id")
		}
		if time.Since(issued) > s.TriggerTTL {
			return s.refuseCode(method, "expired_trigger_id")
		}
		delete(s.triggers, trigger)
		view := viewParam(p)
		if view == nil {
			return s.refuseCode(method, "invalid_arguments")
		}
		if errs := validateView(view); len(errs) > 0 {
			return s.invalidView(method, errs)
		}
		v := View{ID: s.nextID("V"), Trigger: trigger, View: view}
		s.views = append(s.views, v)
		out := map[string]any{"id": v.ID}
		for k, val := range view {
			out[k] = val
		}
		return ok(map[string]any{"view": out})
	case "conversations.list":
		// Pagination: klaxon asks for up to 1,000 at once; the fake has fewer.
		if n, _ := strconv.Atoi(str(p, "limit")); n > 1000 {
			return s.refuseCode(method, "invalid_limit")
		}
		types := str(p, "types")
		var out []any
		for _, id := range s.order {
			c := s.channels[id]
			if c.IsDM || (c.Private && !strings.Contains(types, "private_channel")) || (!c.Private && types != "" && !strings.Contains(types, "public_channel")) {
				continue
			}
			j := channelJSON(c)
			j["creator"] = c.Creator
			out = append(out, j)
		}
		return ok(map[string]any{"channels": out, "response_metadata": map[string]any{"next_cursor": ""}})
	case "conversations.history":
		c, found := s.channels[str(p, "channel")]
		if !found {
			return fail("channel_not_found")
		}
		if !slices.Contains(c.Members, BotUserID) {
			return fail("not_in_channel")
		}
		// Apps outside the Marketplace: "limit ... maximum of 15" (and one
		// call a minute), since 2025-05-29.
		limit, _ := strconv.Atoi(str(p, "limit"))
		if limit > 15 {
			return s.refuseCode(method, "invalid_limit")
		}
		if limit == 0 {
			limit = 15
		}
		withMeta := str(p, "include_all_metadata") == "true" || str(p, "include_all_metadata") == "1"
		var out []any
		msgs := s.messages[c.ID]
		for i := len(msgs) - 1; i >= 0 && len(out) < limit; i-- {
			m := msgs[i]
			j := map[string]any{"type": "message", "user": m.User, "text": m.Text, "ts": m.TS}
			if withMeta && len(m.Metadata) > 0 {
				j["metadata"] = json.RawMessage(m.Metadata)
			}
			out = append(out, j)
		}
		return ok(map[string]any{"messages": out, "has_more": len(msgs) > len(out)})
	case "views.publish":
		user := str(p, "user_id")
		if _, known := s.users[user]; !known {
			return fail("user_not_found")
		}
		view := viewParam(p)
		if view == nil {
			return s.refuseCode(method, "invalid_arguments")
		}
		if view["type"] != "home" {
			return s.refuseCode(method, "invalid_arguments")
		}
		if errs := validateView(view); len(errs) > 0 {
			return s.invalidView(method, errs)
		}
		v := View{ID: s.nextID("V"), View: view, User: user}
		s.homes[user] = v
		return ok(map[string]any{"view": map[string]any{"id": v.ID, "type": "home"}})
	}
	if strings.HasPrefix(method, "usergroups.") {
		if _, known := MethodScopes[method]; known {
			return s.callUserGroups(method, p)
		}
	}
	return s.refuseCode(method, "unknown_method")
}

// viewParam decodes the view argument, sent as JSON text in a form or as an
// object in a JSON body.
func viewParam(p map[string]any) map[string]any {
	switch v := p["view"].(type) {
	case map[string]any:
		return v
	case string:
		var m map[string]any
		json.Unmarshal([]byte(v), &m)
		return m
	}
	return nil
}

// rawParam returns a JSON-valued argument, sent as text in a form or as
// JSON in a JSON body.
func rawParam(p map[string]any, k string) json.RawMessage {
	switch v := p[k].(type) {
	case string:
		if json.Valid([]byte(v)) {
			return json.RawMessage(v)
		}
	case nil:
	default:
		raw, _ := json.Marshal(v)
		return raw
	}
	return nil
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
	return map[string]any{"id": c.ID, "name": c.Name, "is_channel": !c.IsDM, "is_private": c.Private, "is_member": true, "is_archived": c.Archived,
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

// responseURLUse is what the fake knows of a response_url it issued.
type responseURLUse struct {
	issued time.Time
	uses   int
}

// Response URLs: "You can use a response_url up to 5 times within 30
// minutes" (docs.slack.dev/interactivity/handling-user-interaction).
const (
	responseURLUses = 5
	responseURLTTL  = 30 * time.Minute
)

func (s *Server) serveResponse(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	use, ok := s.responses[r.URL.Path]
	refuse := func(code string) {
		s.refuseCode("response_url", code)
		http.Error(w, code, http.StatusNotFound)
	}
	switch {
	case !ok:
		http.Error(w, "no_service", http.StatusNotFound)
		return
	case use.uses >= responseURLUses:
		refuse("used_url")
		return
	case time.Since(use.issued) > responseURLTTL:
		refuse("expired_url")
		return
	}
	if str(body, "text") == "" && body["blocks"] == nil {
		refuse("no_text")
		return
	}
	if code, errs := messageErrors(body, 40000); code != "" {
		s.refuse("response_url", map[string]any{"ok": false, "error": code, "errors": []string(errs)})
		http.Error(w, code, http.StatusBadRequest)
		return
	}
	use.uses++
	s.replies = append(s.replies, Reply{URL: r.URL.Path, Body: body, Text: str(body, "text")})
	w.Write([]byte("ok"))
}
