package web

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
)

// Subscriptions are the status page's email subscriptions
// (commands/subscribe). client is the caller's address, for rate limits.
type Subscriptions interface {
	Request(ctx context.Context, email string, services []string, client string) error
	// ReadConfirm and CheckUnsubscribe read a link without acting on it:
	// mail scanners open links, so only a POST confirms or unsubscribes.
	ReadConfirm(token, client string) (email string, services []string, err error)
	Confirm(ctx context.Context, token, client string) (email string, services []string, err error)
	CheckUnsubscribe(token, client string) error
	Unsubscribe(ctx context.Context, token, client string) error
}

// statusMessage is a page of the status page's subscription flow: a
// heading, a text and, maybe, one button that posts.
type statusMessage struct {
	Heading string
	Text    string
	Form    *statusForm
	Error   bool
}

type statusForm struct {
	Action string
	Fields map[string]string
	Button string
}

// maxFormBytes bounds a subscription form's body.
const maxFormBytes = 8 << 10

func subscribeRoutes(mux *http.ServeMux, st Status, log zerolog.Logger) {
	subs := st.Subscriptions
	show := func(w http.ResponseWriter, code int, m statusMessage) {
		var buf bytes.Buffer
		if err := statusTemplate.Execute(&buf, map[string]any{"Title": st.Title, "Message": m}); err != nil {
			log.Error().Err(err).Msg("status page template")
			http.Error(w, "The status page is unavailable right now.", http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", st.csp())
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "no-referrer") // the links carry tokens
		w.WriteHeader(code)
		w.Write(buf.Bytes())
	}
	fail := func(w http.ResponseWriter, err error) {
		code := bot.HTTPStatus(err)
		if code == http.StatusInternalServerError {
			log.Error().Err(err).Msg("status page subscription")
		}
		if e, ok := errors.AsType[*bot.Error](err); ok && e.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(e.RetryAfter.Seconds()+0.999)))
		}
		show(w, code, statusMessage{Heading: "That did not work", Text: bot.ErrorMessage(err), Error: true})
	}
	client := func(r *http.Request) string { return clientAddr(r, st.TrustedProxies) }
	form := func(w http.ResponseWriter, r *http.Request) bool {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			fail(w, bot.Errorf(bot.EINVALID, "The form could not be read: send it as application/x-www-form-urlencoded, under %d KB.", maxFormBytes>>10))
			return false
		}
		return true
	}
	mux.HandleFunc("POST /status/subscribe", func(w http.ResponseWriter, r *http.Request) {
		if !form(w, r) {
			return
		}
		email := r.PostForm.Get("email")
		if err := subs.Request(r.Context(), email, r.PostForm["service"], client(r)); err != nil {
			fail(w, err)
			return
		}
		// The same answer whether or not the address subscribed before.
		show(w, http.StatusOK, statusMessage{Heading: "Check your inbox",
			Text: "If " + strings.TrimSpace(email) + " can receive mail, a link to confirm your subscription is on its way, unless this address asked for several links today. Nothing else is sent to it until you confirm."})
	})
	mux.HandleFunc("GET /status/confirm", func(w http.ResponseWriter, r *http.Request) {
		token := r.URL.Query().Get("t")
		email, services, err := subs.ReadConfirm(token, client(r))
		if err != nil {
			fail(w, err)
			return
		}
		show(w, http.StatusOK, statusMessage{Heading: "Confirm your subscription",
			Text: email + " will get an email when an incident " + scope(services) + " starts, gets a public update, or is resolved.",
			Form: &statusForm{Action: "/status/confirm", Fields: map[string]string{"t": token}, Button: "Confirm subscription"}})
	})
	mux.HandleFunc("POST /status/confirm", func(w http.ResponseWriter, r *http.Request) {
		if !form(w, r) {
			return
		}
		email, services, err := subs.Confirm(r.Context(), r.PostForm.Get("t"), client(r))
		if err != nil {
			fail(w, err)
			return
		}
		show(w, http.StatusOK, statusMessage{Heading: "You are subscribed",
			Text: email + " gets incident updates " + scope(services) + ". Every mail has a link to unsubscribe in one click."})
	})
	mux.HandleFunc("GET /status/unsubscribe", func(w http.ResponseWriter, r *http.Request) {
		token := r.URL.Query().Get("t")
		if err := subs.CheckUnsubscribe(token, client(r)); err != nil {
			fail(w, err)
			return
		}
		show(w, http.StatusOK, statusMessage{Heading: "Unsubscribe",
			Text: "Press Unsubscribe to stop getting " + st.Title + "'s incident updates by email.",
			Form: &statusForm{Action: "/status/unsubscribe?t=" + token, Fields: map[string]string{"List-Unsubscribe": "One-Click"}, Button: "Unsubscribe"}})
	})
	// RFC 8058: a mail client posts List-Unsubscribe=One-Click to the
	// link of the List-Unsubscribe header; the token is in the link.
	mux.HandleFunc("POST /status/unsubscribe", func(w http.ResponseWriter, r *http.Request) {
		if !form(w, r) {
			return
		}
		if err := subs.Unsubscribe(r.Context(), r.URL.Query().Get("t"), client(r)); err != nil {
			fail(w, err)
			return
		}
		show(w, http.StatusOK, statusMessage{Heading: "You are unsubscribed",
			Text: "You get no more incident updates from " + st.Title + " by email. You can subscribe again from the status page at any time."})
	})
}

// scope says which incidents a subscription covers.
func scope(services []string) string {
	if len(services) == 0 {
		return "of any service"
	}
	return "of " + strings.Join(services, ", ")
}

// clientAddr is who sent r: its peer, or, when the peer is a trusted
// proxy, the nearest address in X-Forwarded-For that is not one. IPv6
// clients count by /64, the block one host usually holds.
func clientAddr(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	addr = addr.Unmap()
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a) {
				return true
			}
		}
		return false
	}
	if isTrusted(addr) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // a hop klaxon cannot read: the last one it could is the client
			}
			addr = a.Unmap()
			if !isTrusted(addr) {
				break
			}
		}
	}
	if addr.Is6() {
		return netip.PrefixFrom(addr, 64).Masked().String()
	}
	return addr.String()
}
