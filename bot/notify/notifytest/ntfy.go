package notifytest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"

	"github.com/klaxon-bot/klaxon/bot/notify"
)

// Ntfy is a fake ntfy server: the JSON publish API at /, /v1/health and
// /v1/account, with access control like ntfy's auth-file: a topic in
// Protected takes only its token.
type Ntfy struct {
	Server *httptest.Server

	mu sync.Mutex
	// Protected maps a topic to the one token that may publish to it;
	// other topics are open to anyone (ntfy's default-access read-write).
	Protected map[string]string
	Tokens    map[string]bool // tokens the server knows
	Limit     int             // publishes accepted before 429 (0: no limit)
	Published []notify.NtfyMessage
	published int
}

var ntfyTopic = regexp.MustCompile(`^[-_A-Za-z0-9]{1,64}$`)

// NewNtfy starts a fake ntfy server.
func NewNtfy() *Ntfy {
	n := &Ntfy{Protected: map[string]string{}, Tokens: map[string]bool{}}
	n.Server = httptest.NewServer(http.HandlerFunc(n.serve))
	return n
}

// Close stops it.
func (n *Ntfy) Close() { n.Server.Close() }

func ntfyError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"code": code, "http": status, "error": msg, "link": "https://ntfy.sh/docs/publish/"})
}

func (n *Ntfy) serve(w http.ResponseWriter, r *http.Request) {
	n.mu.Lock()
	defer n.mu.Unlock()
	token := ""
	if a := r.Header.Get("Authorization"); a != "" {
		t, ok := strings.CutPrefix(a, "Bearer ")
		if !ok || !n.Tokens[t] {
			ntfyError(w, http.StatusUnauthorized, 40101, "unauthorized")
			return
		}
		token = t
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/v1/health":
		writeJSON(w, http.StatusOK, map[string]bool{"healthy": true})
	case r.Method == http.MethodGet && r.URL.Path == "/v1/account":
		if token == "" {
			ntfyError(w, http.StatusUnauthorized, 40101, "unauthorized")
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"username": "klaxon"})
	case (r.Method == http.MethodPost || r.Method == http.MethodPut) && r.URL.Path == "/":
		raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var m notify.NtfyMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			ntfyError(w, http.StatusBadRequest, 40024, "invalid request: request body must be message JSON")
			return
		}
		if !ntfyTopic.MatchString(m.Topic) {
			ntfyError(w, http.StatusBadRequest, 40009, "invalid request: topic invalid")
			return
		}
		if m.Priority < 0 || m.Priority > 5 {
			ntfyError(w, http.StatusBadRequest, 40007, "invalid priority")
			return
		}
		if len(m.Actions) > 3 {
			ntfyError(w, http.StatusBadRequest, 40018, "invalid request: actions invalid, too many actions, max 3")
			return
		}
		for _, a := range m.Actions {
			if a.Action != "view" && a.Action != "http" && a.Action != "broadcast" || a.Label == "" || (a.Action != "broadcast" && a.URL == "") {
				ntfyError(w, http.StatusBadRequest, 40018, "invalid request: actions invalid")
				return
			}
		}
		if want, ok := n.Protected[m.Topic]; ok && token != want {
			ntfyError(w, http.StatusForbidden, 40301, "forbidden")
			return
		}
		n.published++
		if n.Limit > 0 && n.published > n.Limit {
			ntfyError(w, http.StatusTooManyRequests, 42901, "limit reached: too many requests")
			return
		}
		n.Published = append(n.Published, m)
		writeJSON(w, http.StatusOK, map[string]any{"id": "msg" + strings.Repeat("x", 9), "event": "message", "topic": m.Topic, "message": m.Message, "priority": m.Priority})
	default:
		ntfyError(w, http.StatusNotFound, 40401, "page not found")
	}
}

// Count is how many pushes the server took.
func (n *Ntfy) Count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.Published)
}

// Pushes returns copies of what was published to topic.
func (n *Ntfy) Pushes(topic string) []notify.NtfyMessage {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []notify.NtfyMessage
	for _, m := range n.Published {
		if m.Topic == topic {
			out = append(out, m)
		}
	}
	return out
}
