// Package notifytest has protocol-level fakes of Twilio's REST API
// (2010-04-01: Messages, Calls, their lists, the account and its numbers)
// and of ntfy's publish API, written from their documentation. What the
// real service refuses they refuse, with its status and error code.
package notifytest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/klaxon-bot/klaxon/bot/notify"
)

// Twilio is a fake Twilio account on 127.0.0.1.
type Twilio struct {
	Server     *httptest.Server
	AccountSID string
	AuthToken  string
	APIKey     string // SK…, with APIKeySecret, also authenticates
	APISecret  string
	Numbers    []string // the account's numbers (From must be one)

	mu sync.Mutex
	// Stopped are numbers that replied STOP (21610); Blocked country
	// prefixes the account may not reach (21408).
	Stopped map[string]bool
	Blocked []string
	// Limit is how many creates a second the account allows (0: no
	// limit): more get 429 with error 20429, as Twilio's queue does when
	// a burst outruns it.
	Limit int
	// FailNext answers the next n creates with 500 without acting;
	// LoseNext acts on the next n creates and then answers 500, as a
	// lost answer looks to the client.
	FailNext, LoseNext int
	// Delay holds each create's answer back this long after Twilio has
	// acted, as a slow network does: a client killed meanwhile never
	// learns that its text or call went out.
	Delay      time.Duration
	Messages   []*Resource
	Calls      []*Resource
	Violations []string
	window     time.Time
	inWindow   int
	seq        int
}

// Resource is a message or call the fake made.
type Resource struct {
	SID, To, From, Body, Twiml, Status, StatusCallback string
	Created                                            time.Time
}

var (
	e164      = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	accountRe = regexp.MustCompile(`^/2010-04-01/Accounts/([^/]+?)(/Messages\.json|/Calls\.json|/IncomingPhoneNumbers\.json|\.json)$`)
)

// NewTwilio starts a fake account with one number.
func NewTwilio() *Twilio {
	t := &Twilio{AccountSID: "AC" + strings.Repeat("a1", 16), AuthToken: "twilio-auth-token-fake-0001",
		APIKey: "SK" + strings.Repeat("b2", 16), APISecret: "twilio-api-secret-fake-0001",
		Numbers: []string{"+15005550006"}, Stopped: map[string]bool{}}
	t.Server = httptest.NewServer(http.HandlerFunc(t.serve))
	return t
}

// Close stops the fake.
func (t *Twilio) Close() { t.Server.Close() }

func (t *Twilio) fail(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status})
}

func (t *Twilio) violation(format string, args ...any) {
	t.Violations = append(t.Violations, fmt.Sprintf(format, args...))
}

func (t *Twilio) serve(w http.ResponseWriter, r *http.Request) {
	t.mu.Lock()
	defer t.mu.Unlock()
	user, pass, ok := r.BasicAuth()
	if !ok || !((user == t.AccountSID && pass == t.AuthToken) || (user == t.APIKey && pass == t.APISecret)) {
		t.fail(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	m := accountRe.FindStringSubmatch(r.URL.Path)
	if m == nil {
		t.fail(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	if m[1] != t.AccountSID {
		t.fail(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	switch {
	case m[2] == ".json" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, map[string]any{"sid": t.AccountSID, "status": "active", "type": "Full"})
	case m[2] == "/IncomingPhoneNumbers.json" && r.Method == http.MethodGet:
		var out []map[string]string
		for _, n := range t.Numbers {
			if q := r.URL.Query().Get("PhoneNumber"); q == "" || q == n {
				out = append(out, map[string]string{"phone_number": n, "sid": "PN" + strings.Repeat("0", 32)})
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"incoming_phone_numbers": out, "page": 0, "page_size": 50})
	case r.Method == http.MethodGet:
		t.list(w, r, m[2] == "/Calls.json")
	case r.Method == http.MethodPost:
		t.create(w, r, m[2] == "/Calls.json")
	default:
		t.fail(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
	}
}

func (t *Twilio) list(w http.ResponseWriter, r *http.Request, calls bool) {
	q := r.URL.Query()
	items, field := t.Messages, "messages"
	if calls {
		items, field = t.Calls, "calls"
	}
	size := 50
	if s := q.Get("PageSize"); s != "" {
		fmt.Sscan(s, &size)
	}
	var out []map[string]string
	for i := len(items) - 1; i >= 0 && len(out) < size; i-- { // newest first
		it := items[i]
		if (q.Get("To") != "" && q.Get("To") != it.To) || (q.Get("From") != "" && q.Get("From") != it.From) {
			continue
		}
		out = append(out, map[string]string{"sid": it.SID, "to": it.To, "from": it.From, "body": it.Body, "status": it.Status,
			"date_created": it.Created.UTC().Format(time.RFC1123Z)})
	}
	writeJSON(w, http.StatusOK, map[string]any{field: out, "page": 0, "page_size": size})
}

func (t *Twilio) create(w http.ResponseWriter, r *http.Request, call bool) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		t.violation("%s with Content-Type %q; Twilio takes form-encoded bodies", r.URL.Path, ct)
		t.fail(w, http.StatusBadRequest, 20001, "Invalid Content-Type")
		return
	}
	if err := r.ParseForm(); err != nil {
		t.fail(w, http.StatusBadRequest, 20001, "Unable to parse the request body")
		return
	}
	now := time.Now()
	if t.Limit > 0 {
		if now.Sub(t.window) >= time.Second {
			t.window, t.inWindow = now, 0
		}
		t.inWindow++
		if t.inWindow > t.Limit {
			t.fail(w, http.StatusTooManyRequests, 20429, "Too Many Requests")
			return
		}
	}
	if t.FailNext > 0 {
		t.FailNext--
		t.fail(w, http.StatusInternalServerError, 20500, "Internal Server Error")
		return
	}
	to, from := r.PostForm.Get("To"), r.PostForm.Get("From")
	switch {
	case to == "":
		t.fail(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	case !e164.MatchString(to):
		t.fail(w, http.StatusBadRequest, notify.TwilioInvalidTo, fmt.Sprintf("The 'To' number %s is not a valid phone number.", to))
		return
	case !slices.Contains(t.Numbers, from):
		t.fail(w, http.StatusBadRequest, 21606, fmt.Sprintf("The From phone number %s is not a valid, SMS-capable inbound phone number or short code for your account.", from))
		return
	}
	for _, p := range t.Blocked {
		if strings.HasPrefix(to, p) {
			t.fail(w, http.StatusBadRequest, notify.TwilioRegionBlocked, fmt.Sprintf("Permission to send an SMS has not been enabled for the region indicated by the 'To' number: %s.", to))
			return
		}
	}
	res := &Resource{To: to, From: from, Status: "queued", Created: now, StatusCallback: r.PostForm.Get("StatusCallback")}
	if cb := res.StatusCallback; cb != "" {
		if u, err := url.Parse(cb); err != nil || (u.Scheme != "https" && u.Scheme != "http") {
			t.fail(w, http.StatusBadRequest, 21609, "Invalid StatusCallback URL")
			return
		}
	}
	if call {
		res.Twiml = r.PostForm.Get("Twiml")
		if res.Twiml == "" && r.PostForm.Get("Url") == "" {
			t.fail(w, http.StatusBadRequest, 21205, "Url parameter is required.")
			return
		}
		if len(res.Twiml) > 4000 {
			t.fail(w, http.StatusBadRequest, 13610, "Twiml is over 4000 characters.")
			return
		}
		t.seq++
		res.SID = fmt.Sprintf("CA%032x", t.seq)
		t.Calls = append(t.Calls, res)
	} else {
		res.Body = r.PostForm.Get("Body")
		switch {
		case res.Body == "":
			t.fail(w, http.StatusBadRequest, 21602, "Message body is required.")
			return
		case len([]rune(res.Body)) > 1600:
			t.fail(w, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
			return
		case t.Stopped[to]:
			t.fail(w, http.StatusBadRequest, notify.TwilioUnsubscribed, "Attempt to send to unsubscribed recipient")
			return
		}
		t.seq++
		res.SID = fmt.Sprintf("SM%032x", t.seq)
		t.Messages = append(t.Messages, res)
	}
	if t.LoseNext > 0 {
		t.LoseNext--
		t.fail(w, http.StatusInternalServerError, 20500, "Internal Server Error")
		return
	}
	if t.Delay > 0 {
		t.mu.Unlock()
		time.Sleep(t.Delay)
		t.mu.Lock()
	}
	writeJSON(w, http.StatusCreated, map[string]string{"sid": res.SID, "status": res.Status, "to": res.To, "from": res.From, "body": res.Body,
		"date_created": res.Created.UTC().Format(time.RFC1123Z)})
}

// Sent returns copies of the messages (or calls) made to to.
func (t *Twilio) Sent(to string, calls bool) []Resource {
	t.mu.Lock()
	defer t.mu.Unlock()
	items := t.Messages
	if calls {
		items = t.Calls
	}
	var out []Resource
	for _, it := range items {
		if to == "" || it.To == to {
			out = append(out, *it)
		}
	}
	return out
}

// Progress moves what sid names to status and posts its status callback,
// signed as Twilio signs it; it returns the callback's answer status.
func (t *Twilio) Progress(sid, status string) (int, error) {
	t.mu.Lock()
	var res *Resource
	for _, it := range append(slices.Clone(t.Messages), t.Calls...) {
		if it.SID == sid {
			res = it
		}
	}
	if res == nil {
		t.mu.Unlock()
		return 0, fmt.Errorf("no %s", sid)
	}
	res.Status = status
	cb := res.StatusCallback
	form := url.Values{"AccountSid": {t.AccountSID}, "To": {res.To}, "From": {res.From}}
	if strings.HasPrefix(sid, "CA") {
		form.Set("CallSid", sid)
		form.Set("CallStatus", status)
	} else {
		form.Set("MessageSid", sid)
		form.Set("MessageStatus", status)
	}
	t.mu.Unlock()
	if cb == "" {
		return 0, fmt.Errorf("%s has no status callback", sid)
	}
	status2, _, err := t.Post(cb, form)
	return status2, err
}

// Post sends a signed webhook (an inbound SMS, a key press) to u, as
// Twilio does: form-encoded, with X-Twilio-Signature. It returns the
// answer's status and body (the TwiML klaxon answers with).
func (t *Twilio) Post(u string, form url.Values) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", notify.TwilioSignature(t.AuthToken, u, form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
