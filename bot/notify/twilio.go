// Package notify reaches people itself, without anyone else's pager:
// texts and phone calls through Twilio, pushes through ntfy, email over
// SMTP. Each sender makes one attempt at one notification and says what
// came of it (bot.SendResult); the outbox decides about retries.
//
// Twilio is spoken through a small client of the four calls klaxon makes
// (send a message, place a call, list each): Twilio's Go SDK is generated
// from its whole API, hundreds of packages, for what is here a few form
// posts and two look-ups.
package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/klaxon-bot/klaxon/bot"
)

// TwilioAPI is Twilio's REST API.
const TwilioAPI = "https://api.twilio.com"

// Twilio sends SMS and places voice calls through Twilio's 2010-04-01 API.
type Twilio struct {
	URL        string // TwilioAPI, or a test's
	AccountSID string // AC…
	// Username and Password authenticate: the account SID and its auth
	// token, or an API key's SID (SK…) and secret.
	Username, Password string
	From               string // the sending number, E.164
	// PublicURL is where Twilio reaches klaxon (http.public_url): replies
	// and key presses acknowledge there, and status callbacks arrive.
	// Empty: messages and calls say how to acknowledge in chat.
	PublicURL string
	// Links signs the acknowledgement links for calls.
	Links  *Links
	Client *http.Client
}

// twilioError is the body of a refused request.
type twilioError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// Twilio error codes klaxon treats as a refusal of the number for good.
const (
	TwilioInvalidTo     = 21211 // the To number is not valid
	TwilioUnsubscribed  = 21610 // the recipient replied STOP
	TwilioRegionBlocked = 21408 // the account may not send to that region
	TwilioNotMobile     = 21614 // To is not a mobile number
)

func (t *Twilio) base() string {
	return strings.TrimSuffix(t.URL, "/") + "/2010-04-01/Accounts/" + url.PathEscape(t.AccountSID)
}

// do sends one form request and decodes a 2xx answer into out.
func (t *Twilio) do(ctx context.Context, method, path string, form url.Values, out any) (int, *twilioError, error) {
	var body io.Reader
	u := t.base() + path
	if method == http.MethodGet {
		if len(form) > 0 {
			u += "?" + form.Encode()
		}
	} else {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, nil, err
	}
	req.SetBasicAuth(t.Username, t.Password)
	req.Header.Set("User-Agent", "klaxon")
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := t.Client.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("Twilio did not answer: %w", bot.UnwrapURL(err))
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				return resp.StatusCode, nil, fmt.Errorf("the answer from Twilio is not JSON: %w", err)
			}
		}
		return resp.StatusCode, nil, nil
	}
	var te twilioError
	if json.Unmarshal(raw, &te) != nil || te.Code == 0 {
		te = twilioError{Status: resp.StatusCode, Message: bot.Cut(strings.TrimSpace(bot.Scrub(string(raw), req, t.Password)), 200)}
	}
	return resp.StatusCode, &te, nil
}

// result classifies one answer: 2xx sent; 429 wait; 5xx and no answer
// try again; 401 and any other 4xx refuse for good, with Twilio's code.
func (t *Twilio) result(what string, status int, te *twilioError, err error, rateWait string) bot.SendResult {
	switch {
	case err != nil:
		return bot.SendResult{Err: err}
	case te == nil:
		return bot.SendResult{Sent: true}
	case status == http.StatusTooManyRequests:
		return bot.SendResult{RetryAfter: bot.RetryAfterOrDefault(rateWait), Err: fmt.Errorf("Twilio is rate limiting (429)")}
	case status >= 500:
		return bot.SendResult{Err: fmt.Errorf("Twilio answered %d", status)}
	case status == http.StatusUnauthorized:
		return bot.SendResult{Permanent: true, Err: fmt.Errorf("Twilio refused klaxon's credentials (401, error %d): check notifications.twilio.account_sid and its auth token or API key", te.Code)}
	}
	msg := te.Message
	switch te.Code {
	case TwilioInvalidTo:
		msg = "the number is not a valid phone number"
	case TwilioUnsubscribed:
		msg = "the person replied STOP to klaxon's number; they must text START to it before klaxon can text them again"
	case TwilioRegionBlocked:
		msg = "the Twilio account may not send to that country; enable it in Twilio's geographic permissions"
	}
	return bot.SendResult{Permanent: true, Err: fmt.Errorf("Twilio refused the %s (error %d): %s", what, te.Code, msg)}
}

// SMS sends the text messages of a Twilio.
type SMS struct{ *Twilio }

// Voice places the phone calls of a Twilio.
type Voice struct{ *Twilio }

var (
	_ bot.Sender = SMS{}
	_ bot.Looker = SMS{}
	// Voice is no bot.Looker: Twilio's call records keep nothing klaxon
	// could tell its calls apart by (no body, no callback URL), so a
	// look-up could take another page's call to the same phone for this
	// one and lose a call. A retry after a lost answer calls again.
	_ bot.Sender = Voice{}
)

type twilioResource struct {
	SID         string `json:"sid"`
	Status      string `json:"status"`
	To          string `json:"to"`
	From        string `json:"from"`
	Body        string `json:"body"`
	DateCreated string `json:"date_created"` // RFC 2822
}

// Send implements bot.Sender: one text.
func (s SMS) Send(ctx context.Context, d bot.Delivery) bot.SendResult {
	if d.Kind != bot.DeliverTrigger && d.Kind != bot.DeliverMessage {
		return bot.SendResult{Sent: true} // a text needs no acknowledge or resolve
	}
	form := url.Values{"To": {d.To}, "From": {s.From}, "Body": {SMSBody(d, s.PublicURL != "")}}
	if s.PublicURL != "" {
		form.Set("StatusCallback", s.PublicURL+"/twilio/status?delivery="+url.QueryEscape(d.Key))
	}
	var r twilioResource
	status, te, err := s.do(ctx, http.MethodPost, "/Messages.json", form, &r)
	res := s.result("text", status, te, err, "")
	res.Ref, res.Progress = r.SID, r.Status
	return res
}

// Sent implements bot.Looker: a message to d.To from klaxon's number with
// d's body, made since d was.
func (s SMS) Sent(ctx context.Context, d bot.Delivery) (string, bool, error) {
	return s.find(ctx, "/Messages.json", "messages", d, SMSBody(d, s.PublicURL != ""))
}

// find lists what Twilio made to d.To from klaxon's number (newest
// first, one page of 50) and finds one made since d with body.
func (t *Twilio) find(ctx context.Context, path, field string, d bot.Delivery, body string) (string, bool, error) {
	var page map[string]json.RawMessage
	status, te, err := t.do(ctx, http.MethodGet, path, url.Values{"To": {d.To}, "From": {t.From}, "PageSize": {"50"}}, &page)
	if err != nil {
		return "", false, err
	}
	if te != nil {
		return "", false, fmt.Errorf("Twilio refused the look-up (%d, error %d): %s", status, te.Code, te.Message)
	}
	var items []twilioResource
	if err := json.Unmarshal(page[field], &items); err != nil {
		return "", false, fmt.Errorf("the list from Twilio has no %s: %w", field, err)
	}
	since := d.Created.Add(-time.Minute) // clocks differ
	for _, it := range items {
		at, err := time.Parse(time.RFC1123Z, it.DateCreated)
		if err != nil || at.Before(since) {
			continue
		}
		if it.Body == body {
			return it.SID, true, nil
		}
	}
	return "", false, nil
}

// Send implements bot.Sender: one call that reads the page out twice
// and, with a public URL, takes 1 to acknowledge.
func (v Voice) Send(ctx context.Context, d bot.Delivery) bot.SendResult {
	if d.Kind != bot.DeliverTrigger && d.Kind != bot.DeliverMessage {
		return bot.SendResult{Sent: true}
	}
	form := url.Values{"To": {d.To}, "From": {v.From}, "Twiml": {v.TwiML(d)}, "Timeout": {"45"}}
	if v.PublicURL != "" {
		form.Set("StatusCallback", v.PublicURL+"/twilio/status?delivery="+url.QueryEscape(d.Key))
		form["StatusCallbackEvent"] = []string{"answered", "completed"}
	}
	var r twilioResource
	status, te, err := v.do(ctx, http.MethodPost, "/Calls.json", form, &r)
	res := v.result("call", status, te, err, "")
	res.Ref, res.Progress = r.SID, r.Status
	return res
}

// TwiML is what the call says: the page twice, and with a public URL a
// prompt to press 1, which Twilio posts back to the acknowledgement link.
func (v Voice) TwiML(d bot.Delivery) string {
	say := func(s string) string { return "<Say>" + XMLText(s) + "</Say>" }
	if d.Kind == bot.DeliverMessage {
		text := "This is klaxon. " + spokenDigits(d.Summary)
		return "<Response>" + say(text) + "<Pause length=\"1\"/>" + say("Again. "+text+" Goodbye.") + "</Response>"
	}
	text := "This is klaxon. You are paged. " + spoken(d.Summary) + "."
	if v.PublicURL == "" || v.Links == nil {
		return "<Response>" + say(text+" Acknowledge in chat.") + "<Pause length=\"1\"/>" + say(text+" Acknowledge in chat. Goodbye.") + "</Response>"
	}
	action := v.PublicURL + "/twilio/voice?t=" + url.QueryEscape(v.Links.Token(d.PageID, d.Person, time.Now()))
	gather := "<Gather numDigits=\"1\" timeout=\"10\" action=\"" + XMLText(action) + "\" method=\"POST\">" + say(text+" Press 1 to acknowledge.") + "</Gather>"
	return "<Response>" + gather + gather + say("No key was pressed. Goodbye.") + "</Response>"
}

// XMLText escapes s for TwiML text and attributes.
func XMLText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// spoken makes a summary easier to hear: INC-7 as "incident 7".
func spoken(s string) string {
	return strings.NewReplacer("INC-", "incident ", "SEV", "sev ", "_", " ").Replace(s)
}

// spokenDigits spaces out runs of digits so a code is read digit by
// digit: "123456" as "1 2 3 4 5 6".
func spokenDigits(s string) string {
	var b strings.Builder
	for i, r := range s {
		b.WriteRune(r)
		if r >= '0' && r <= '9' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9' {
			b.WriteString(", ")
		}
	}
	return b.String()
}

// SMSBody is the text for d: the page, where to acknowledge, and a
// reference that tells this text from klaxon's others to the same phone
// (so a retry can find it).
func SMSBody(d bot.Delivery, replies bool) string {
	if d.Kind == bot.DeliverMessage {
		return fmt.Sprintf("klaxon: %s [%s]", d.Summary, shortRef(d.Key))
	}
	how := "Acknowledge in chat."
	if replies {
		how = "Reply 1 to acknowledge."
	}
	return fmt.Sprintf("klaxon: you are paged. %s. %s [%s]", d.Summary, how, shortRef(d.Key))
}

// TwilioSignature is Twilio's X-Twilio-Signature of a request to u with
// form params: base64 HMAC-SHA1 keyed with the auth token over the URL
// followed by each parameter's name and value, names sorted.
func TwilioSignature(authToken, u string, params url.Values) string {
	mac := hmac.New(sha1.New, []byte(authToken))
	io.WriteString(mac, u)
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		vs := slices.Clone(params[k])
		slices.Sort(vs)
		for _, v := range vs {
			io.WriteString(mac, k)
			io.WriteString(mac, v)
		}
	}
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// VerifyTwilio checks a request's X-Twilio-Signature against the URL
// Twilio was given (u) and the form it posted.
func VerifyTwilio(authToken, u string, params url.Values, signature string) bool {
	want := TwilioSignature(authToken, u, params)
	return hmac.Equal([]byte(want), []byte(signature))
}

// Check verifies the credentials (the account answers) and that From is
// one of the account's numbers, sending nothing.
func (t *Twilio) Check(ctx context.Context) error {
	status, te, err := t.do(ctx, http.MethodGet, ".json", nil, nil)
	if err != nil {
		return err
	}
	if te != nil {
		return fmt.Errorf("Twilio refused the credentials (%d, error %d): check notifications.twilio.account_sid and auth_token (or api_key_sid and api_key_secret)", status, te.Code)
	}
	var page struct {
		Numbers []struct {
			PhoneNumber string `json:"phone_number"`
		} `json:"incoming_phone_numbers"`
	}
	status, te, err = t.do(ctx, http.MethodGet, "/IncomingPhoneNumbers.json", url.Values{"PhoneNumber": {t.From}}, &page)
	if err != nil {
		return err
	}
	if te != nil {
		return fmt.Errorf("Twilio refused to list the account's numbers (%d, error %d): %s", status, te.Code, te.Message)
	}
	if len(page.Numbers) == 0 {
		return fmt.Errorf("%s is not a number of this Twilio account: set notifications.twilio.from to one of its numbers", t.From)
	}
	return nil
}
