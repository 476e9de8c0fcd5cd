package web

import (
	"context"
	"encoding/xml"
	"html/template"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/notify"
)

// PhoneAcks is what the phone endpoints ask of paging.
type PhoneAcks interface {
	// AckPage acknowledges page id as person (a key press, a push's
	// action, a mail's link) and says what to tell them.
	AckPage(ctx context.Context, id uuid.UUID, person, via string) (string, error)
	// Reply answers a text from phone.
	Reply(ctx context.Context, phone, body string) string
	// Progress records a provider's status for a delivery.
	Progress(ctx context.Context, key, ref, status string) error
}

// Phone is the set-up of acknowledgement from phones: Twilio's webhooks
// (replies, key presses, status callbacks), checked with its signature,
// and the signed links in pushes and mails.
type Phone struct {
	Acks PhoneAcks
	// PublicURL is http.public_url: Twilio signs the URL it was given,
	// which is this one, not the one a reverse proxy passes on.
	PublicURL       string
	TwilioAuthToken string // empty: the Twilio endpoints refuse everything
	Links           *notify.Links
	Clock           bot.Clock
	Log             zerolog.Logger
}

func phoneRoutes(mux *http.ServeMux, p Phone) {
	mux.HandleFunc("POST /twilio/sms", p.twilio(func(w http.ResponseWriter, r *http.Request) {
		reply := p.Acks.Reply(r.Context(), r.PostForm.Get("From"), r.PostForm.Get("Body"))
		twiml(w, "<Message>"+notify.XMLText(reply)+"</Message>")
	}))
	mux.HandleFunc("POST /twilio/voice", p.twilio(func(w http.ResponseWriter, r *http.Request) {
		if r.PostForm.Get("Digits") != "1" {
			twiml(w, "<Say>No acknowledgement. Goodbye.</Say>")
			return
		}
		id, person, err := p.Links.Check(r.URL.Query().Get("t"), p.Clock.Now())
		if err != nil {
			twiml(w, "<Say>This call can no longer acknowledge. Acknowledge in chat.</Say>")
			return
		}
		text, err := p.Acks.AckPage(r.Context(), id, person, "voice")
		if err != nil {
			text = bot.ErrorMessage(err)
		}
		twiml(w, "<Say>"+notify.XMLText(strings.NewReplacer("INC-", "incident ").Replace(text))+"</Say>")
	}))
	mux.HandleFunc("POST /twilio/status", p.twilio(func(w http.ResponseWriter, r *http.Request) {
		ref, status := r.PostForm.Get("MessageSid"), r.PostForm.Get("MessageStatus")
		if ref == "" {
			ref, status = r.PostForm.Get("CallSid"), r.PostForm.Get("CallStatus")
		}
		if err := p.Acks.Progress(r.Context(), r.URL.Query().Get("delivery"), ref, status); err != nil {
			http.Error(w, bot.ErrorMessage(err), bot.HTTPStatus(err))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	mux.HandleFunc("GET /ack/{token}", func(w http.ResponseWriter, r *http.Request) {
		// A GET never acknowledges: mail scanners open links. It shows
		// what the link is for, with a button that posts.
		_, person, err := p.Links.Check(r.PathValue("token"), p.Clock.Now())
		if err != nil {
			ackPage(w, http.StatusNotFound, err.Error(), false)
			return
		}
		ackPage(w, http.StatusOK, "Acknowledge this page as "+person+"? The escalation stops and the incident's channel is told.", true)
	})
	mux.HandleFunc("POST /ack/{token}", func(w http.ResponseWriter, r *http.Request) {
		id, person, err := p.Links.Check(r.PathValue("token"), p.Clock.Now())
		if err != nil {
			ackPage(w, http.StatusNotFound, err.Error(), false)
			return
		}
		text, err := p.Acks.AckPage(r.Context(), id, person, "link")
		if err != nil {
			ackPage(w, bot.HTTPStatus(err), bot.ErrorMessage(err), false)
			return
		}
		ackPage(w, http.StatusOK, text, false)
	})
}

// twilio checks X-Twilio-Signature against the public URL the request
// was made to and its form, then serves it; a request Twilio did not
// sign gets 403 and changes nothing.
func (p Phone) twilio(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "the body is not a form", http.StatusBadRequest)
			return
		}
		u := p.PublicURL + r.URL.RequestURI()
		if p.TwilioAuthToken == "" || p.PublicURL == "" || !notify.VerifyTwilio(p.TwilioAuthToken, u, r.PostForm, r.Header.Get("X-Twilio-Signature")) {
			p.Log.Warn().Str("path", r.URL.Path).Msg("a Twilio request without a valid X-Twilio-Signature was refused")
			http.Error(w, "X-Twilio-Signature does not match: klaxon takes only requests Twilio signed for "+p.PublicURL, http.StatusForbidden)
			return
		}
		next(w, r)
	}
}

func twiml(w http.ResponseWriter, inner string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write([]byte(xml.Header + "<Response>" + inner + "</Response>"))
}

var ackTmpl = template.Must(template.New("ack").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>klaxon: acknowledge</title>
<style>body{font:1.1rem/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#111;background:#fff}
button{font:inherit;padding:.6rem 1.4rem;border:0;border-radius:.4rem;background:#0b57d0;color:#fff}
@media (prefers-color-scheme:dark){body{color:#eee;background:#111}}</style></head>
<body><main><h1>klaxon</h1><p>{{.Text}}</p>{{if .Form}}<form method="post"><button type="submit">Acknowledge</button></form>{{end}}</main></body></html>
`))

// ackPage shows text, with the Acknowledge button that posts back to the
// same address when form is set.
func ackPage(w http.ResponseWriter, status int, text string, form bool) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	ackTmpl.Execute(w, struct {
		Text string
		Form bool
	}{text, form})
}
