// Package subscribe keeps the status page's email subscribers: requests
// confirmed by a link (double opt-in), one-click unsubscribes (RFC 8058),
// and the mail a public incident's changes send them.
//
// Nothing is stored until an address is confirmed: the request lives in
// its signed confirmation link. Every mail goes through the outbox: a
// change to a public incident writes one notice job in its own
// transaction; the notice, when it runs, writes one mail job per
// subscriber, so a crash neither loses a mail nor sends one twice, and
// the change never waits for the mail server.
package subscribe

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands/outbox"
)

// Limits on requests, so the subscribe form cannot be used to flood an
// inbox or to probe which addresses subscribed.
const (
	// PerAddress confirmation mails go to one address per AddressWindow;
	// later requests for it are answered as usual and send nothing.
	PerAddress    = 3
	AddressWindow = 24 * time.Hour
	// PerClient requests (and PerClient bad links) are taken from one
	// client per ClientWindow; more are refused with 429.
	PerClient    = 10
	ClientWindow = time.Hour
)

// DefaultConfirmTTL is how long a confirmation link works.
const DefaultConfirmTTL = 48 * time.Hour

// Config is what subscriptions need.
type Config struct {
	Title     string // status.title: the mails' subject prefix
	PublicURL string // status.public_url: where the mails' links point
	// Secret signs the confirmation and unsubscribe links
	// (notifications.link_secret).
	Secret     []byte
	Services   bot.Services
	Types      bot.IncidentTypes
	Mailer     bot.Mailer
	Wake       *bot.Wake
	ConfirmTTL time.Duration // default DefaultConfirmTTL
}

// Subscriptions is the use case.
type Subscriptions struct {
	store   bot.Updater
	cfg     Config
	clock   bot.Clock
	log     zerolog.Logger
	clients *limiter // requests and bad links per client
	address *limiter // confirmation mails per address
}

var (
	_ bot.Follower  = (*Subscriptions)(nil)
	_ outbox.Sender = (*Subscriptions)(nil)
)

// New returns the use case. Wire it as a follower of the incidents and
// with outbox.Handle for bot.OpStatusNotice and bot.OpStatusMail.
func New(store bot.Updater, cfg Config, clock bot.Clock, log zerolog.Logger) *Subscriptions {
	if cfg.ConfirmTTL <= 0 {
		cfg.ConfirmTTL = DefaultConfirmTTL
	}
	cfg.PublicURL = strings.TrimSuffix(cfg.PublicURL, "/")
	return &Subscriptions{store: store, cfg: cfg, clock: clock, log: log.With().Str("component", "subscriptions").Logger(),
		clients: newLimiter(PerClient, ClientWindow), address: newLimiter(PerAddress, AddressWindow)}
}

// Request asks for a subscription of email to services (their ids; none:
// all) from client (an IP address). It answers the same whether or not
// the address subscribed before, so the answer tells nobody who did: a
// confirmation mail goes out unless the address had PerAddress of them
// in the window. Bad input is an EINVALID naming the field; a client over
// its limit is an ETOOMANY.
func (s *Subscriptions) Request(ctx context.Context, email string, services []string, client string) error {
	now := s.clock.Now()
	if ok, wait := s.clients.allow(client, now); !ok {
		return tooMany(wait)
	}
	addr, err := ParseAddress(email)
	if err != nil {
		return err
	}
	services, err = s.services(services)
	if err != nil {
		return err
	}
	id := bot.SubscriberID(addr)
	if ok, _ := s.address.allow(id, now); !ok {
		s.log.Info().Str("subscriber", id).Msg("a subscription was asked for again too often; no confirmation mail sent")
		return nil
	}
	link := s.cfg.PublicURL + "/status/confirm?t=" + s.confirmToken(addr, services, now.Add(s.cfg.ConfirmTTL))
	m := ConfirmMail(s.cfg.Title, addr, s.names(services), link, s.cfg.ConfirmTTL)
	j := bot.Job{Queue: "mail:" + id, Op: bot.OpStatusMail, Mail: &m, NextAttempt: now, Created: now}
	if err := s.store.Update(ctx, func(tx bot.Tx) error { return tx.Enqueue(j) }); err != nil {
		return bot.Internal(err, "klaxon could not take your subscription right now; nothing was saved. Try again in a minute.")
	}
	s.cfg.Wake.Jobs()
	return nil
}

// ReadConfirm reads a confirmation token without acting on it, for the
// page that asks to confirm (mail scanners open links; only a POST
// confirms): the address and the names of the services (none: all).
func (s *Subscriptions) ReadConfirm(token, client string) (email string, services []string, err error) {
	addr, ids, err := s.checkConfirm(token, client)
	if err != nil {
		return "", nil, err
	}
	return addr, s.names(ids), nil
}

// Confirm stores the subscription the token asks for, replacing any
// earlier one of the address, and says what it stored as ReadConfirm does.
func (s *Subscriptions) Confirm(ctx context.Context, token, client string) (email string, services []string, err error) {
	addr, ids, err := s.checkConfirm(token, client)
	if err != nil {
		return "", nil, err
	}
	sub := &bot.Subscriber{ID: bot.SubscriberID(addr), Email: addr, Services: ids, Confirmed: s.clock.Now()}
	if err := s.store.Update(ctx, func(tx bot.Tx) error { return tx.PutSubscriber(sub) }); err != nil {
		return "", nil, bot.Internal(err, "klaxon could not save your subscription right now. Try the link again in a minute.")
	}
	s.log.Info().Str("subscriber", sub.ID).Msg("status page subscription confirmed")
	return addr, s.names(ids), nil
}

// CheckUnsubscribe checks an unsubscribe token without acting on it.
func (s *Subscriptions) CheckUnsubscribe(token, client string) error {
	_, err := s.checkUnsubscribe(token, client)
	return err
}

// Unsubscribe ends the subscription the token names, and drops the mails
// still queued for it. It is done when it returns, however often it runs.
func (s *Subscriptions) Unsubscribe(ctx context.Context, token, client string) error {
	id, err := s.checkUnsubscribe(token, client)
	if err != nil {
		return err
	}
	err = s.store.Update(ctx, func(tx bot.Tx) error {
		if err := tx.DeleteSubscriber(id); err != nil {
			return err
		}
		return tx.CancelJobs("mail:" + id)
	})
	if err != nil {
		return bot.Internal(err, "klaxon could not unsubscribe you right now. Try the link again in a minute.")
	}
	s.log.Info().Str("subscriber", id).Msg("status page subscription ended")
	return nil
}

// Follow implements bot.Follower: a public incident's declaration, public
// update, resolution or reopening writes a notice for the subscribers.
func (s *Subscriptions) Follow(tx bot.Tx, ch bot.Change) error {
	inc := ch.Incident
	if ch.Again || !bot.OnStatusPage(inc, s.cfg.Types) {
		return nil
	}
	n := bot.StatusNotice{Key: inc.Key(), Title: bot.OneLine(inc.Title), Service: inc.Service, Status: bot.PublicStatus(inc.Status),
		Severity: inc.Severity.Name, At: ch.At}
	if inc.Severity.Label != "" {
		n.Severity += " (" + inc.Severity.Label + ")"
	}
	switch {
	case ch.Kind == bot.EventDeclared:
		n.What = bot.NoticeNew
	case ch.Kind == bot.EventUpdate && ch.Public:
		n.What, n.Text = bot.NoticeUpdate, inc.LastUpdate
	case ch.Kind == bot.EventResolved:
		n.What = bot.NoticeResolved
	case ch.Kind == bot.EventReopened:
		n.What = bot.NoticeReopened
	default:
		return nil
	}
	return tx.Enqueue(bot.Job{Queue: noticeQueue, Op: bot.OpStatusNotice, Notice: &n, NextAttempt: ch.At, Created: ch.At})
}

// Send implements outbox.Sender: a notice becomes one mail job per
// subscriber who wants it, written as the notice is recorded done; a
// mail is one attempt at the SMTP server.
func (s *Subscriptions) Send(ctx context.Context, j bot.Job, again bool) (outbox.Then, error) {
	switch {
	case j.Op == bot.OpStatusNotice && j.Notice != nil:
		n := *j.Notice
		return func(tx bot.Tx, j bot.Job) error {
			if j.Status != bot.JobDone {
				return nil
			}
			return s.fanOut(tx, n)
		}, nil
	case j.Op == bot.OpStatusMail && j.Mail != nil:
		if s.cfg.Mailer == nil {
			return nil, bot.Errorf(bot.EREFUSED, "klaxon has no SMTP server configured any more (notifications.smtp)")
		}
		return nil, outbox.ResultError(s.cfg.Mailer.SendMail(ctx, j.Key, *j.Mail))
	}
	return nil, bot.Errorf(bot.EREFUSED, "a %s job without its content", j.Op)
}

// FanOutPart is how many subscribers one part of a notice reads: each
// part is a short transaction, so a notice to many people never holds
// the store's write lock long (a page waits for no mailing list).
const FanOutPart = 500

// fanOut writes the notice's mail for each subscriber in the next part
// who wants it and, when more may follow, the notice's next part.
func (s *Subscriptions) fanOut(tx bot.Tx, n bot.StatusNotice) error {
	subs, err := tx.Subscribers(n.After, FanOutPart)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	service := s.serviceName(n.Service)
	var jobs []bot.Job
	for _, sub := range subs {
		if !sub.Wants(n.Service) {
			continue
		}
		m := NoticeMail(s.cfg.Title, s.cfg.PublicURL, n, service, sub, s.UnsubscribeURL(sub.ID))
		jobs = append(jobs, bot.Job{Queue: "mail:" + sub.ID, Op: bot.OpStatusMail, Mail: &m, NextAttempt: now, Created: now})
	}
	if len(subs) == FanOutPart {
		next := n
		next.After = subs[len(subs)-1].ID
		jobs = append(jobs, bot.Job{Queue: noticeQueue, Op: bot.OpStatusNotice, Notice: &next, NextAttempt: now, Created: now})
	}
	return tx.Enqueue(jobs...)
}

// noticeQueue keeps notices, and their parts, in order.
const noticeQueue = "status-notices"

// UnsubscribeURL is the one-click unsubscribe link of subscriber id.
func (s *Subscriptions) UnsubscribeURL(id string) string {
	payload := append([]byte{'u'}, id...)
	return s.cfg.PublicURL + "/status/unsubscribe?t=" + s.sign(payload)
}

// ParseAddress reads one plain email address ("ann@example.com"), as a
// form field gives it.
func ParseAddress(email string) (string, error) {
	email = strings.TrimSpace(email)
	bad := bot.Errorf(bot.EINVALID, "email: enter one email address, like ann@example.com.")
	if email == "" || len(email) > 254 || strings.ContainsAny(email, "\r\n<>\",; ") {
		return "", bad
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || a.Name != "" {
		return "", bad
	}
	local, domain, _ := strings.Cut(email, "@")
	if local == "" || !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", bad
	}
	return email, nil
}

// services checks the requested service ids: known, each once, sorted.
func (s *Subscriptions) services(ids []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" || id == "all" {
			return nil, nil // all services
		}
		svc, ok := s.cfg.Services.Find(id)
		if !ok {
			return nil, bot.Errorf(bot.EINVALID, "service: there is no service %q on this status page.", bot.Cut(id, 40))
		}
		if !slices.Contains(out, svc.ID) {
			out = append(out, svc.ID)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (s *Subscriptions) serviceName(id string) string {
	if svc, ok := s.cfg.Services.Find(id); ok && id != "" {
		return svc.Name
	}
	return id
}

func (s *Subscriptions) names(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, s.serviceName(id))
	}
	return out
}

// Links. A confirmation token carries the address, the services and when
// it expires; an unsubscribe token the subscriber's id, for good. Both
// are signed with the configured secret.

var errBadLink = bot.Errorf(bot.EINVALID, "This link is not valid or has expired. Subscribe again from the status page.")

func (s *Subscriptions) confirmToken(addr string, services []string, expires time.Time) string {
	payload := binary.BigEndian.AppendUint64([]byte{'c'}, uint64(expires.Unix()))
	payload = append(payload, strings.Join(services, ",")...)
	payload = append(payload, 0)
	payload = append(payload, addr...)
	return s.sign(payload)
}

func (s *Subscriptions) checkConfirm(token, client string) (string, []string, error) {
	payload, ok := s.verify(token, 'c')
	if !ok || len(payload) < 9 {
		return "", nil, s.badLink(client)
	}
	if time.Unix(int64(binary.BigEndian.Uint64(payload[1:9])), 0).Before(s.clock.Now()) {
		return "", nil, bot.Errorf(bot.EINVALID, "This confirmation link has expired. Subscribe again from the status page.")
	}
	list, addr, ok := strings.Cut(string(payload[9:]), "\x00")
	if !ok {
		return "", nil, s.badLink(client)
	}
	var services []string
	if list != "" {
		services = strings.Split(list, ",")
	}
	return addr, services, nil
}

func (s *Subscriptions) checkUnsubscribe(token, client string) (string, error) {
	payload, ok := s.verify(token, 'u')
	if !ok || len(payload) < 2 {
		return "", s.badLink(client)
	}
	return string(payload[1:]), nil
}

// badLink counts a bad link against the client: guessing links is as
// limited as asking for mails.
func (s *Subscriptions) badLink(client string) error {
	if ok, wait := s.clients.allow(client, s.clock.Now()); !ok {
		return tooMany(wait)
	}
	return errBadLink
}

func (s *Subscriptions) sign(payload []byte) string {
	return base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(s.mac(payload))
}

func (s *Subscriptions) verify(token string, kind byte) ([]byte, bool) {
	p, m, ok := strings.Cut(token, ".")
	if !ok || len(token) > 2048 {
		return nil, false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(p)
	sum, err2 := base64.RawURLEncoding.DecodeString(m)
	if err1 != nil || err2 != nil || len(payload) == 0 || payload[0] != kind || !hmac.Equal(sum, s.mac(payload)) {
		return nil, false
	}
	return payload, true
}

func (s *Subscriptions) mac(payload []byte) []byte {
	h := hmac.New(sha256.New, s.cfg.Secret)
	h.Write([]byte("klaxon status subscription v1\x00"))
	h.Write(payload)
	return h.Sum(nil)[:16]
}

func tooMany(wait time.Duration) error {
	err := bot.Errorf(bot.ETOOMANY, "Too many requests from your address. Try again in %s.", bot.Duration(wait))
	err.RetryAfter = wait
	return err
}

// listID is the List-Id of the mails (RFC 2919): the status page's host.
func listID(title, publicURL string) string {
	host := "status.klaxon.invalid"
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		host = "status." + u.Hostname()
	}
	return fmt.Sprintf("%q <%s>", bot.OneLine(title), host)
}
