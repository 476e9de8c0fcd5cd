// Package reach is how klaxon reaches people itself, as each person sets
// it in chat: /oncall notify shows their contact methods and rules, adds
// a method (used only once the six-digit code sent to it comes back),
// removes one, sets their rules and sends them a test. The messages go out
// through the outbox (bot.OpNotify), committed with the change that asks
// for them.
package reach

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands/outbox"
)

// Store is what reach reads and writes.
type Store interface {
	bot.Updater
	bot.ProfileStore
}

// Config is the set-up from the configuration.
type Config struct {
	People bot.People
	// Senders are the configured providers by method; a method without
	// one cannot be added or used.
	Senders      map[bot.Method]bot.Sender
	DefaultRules []bot.Rule
	Wake         *bot.Wake
}

// Reach answers /oncall notify and sends its messages.
type Reach struct {
	store Store
	clock bot.Clock
	log   zerolog.Logger
	cfg   Config
}

var _ outbox.Sender = (*Reach)(nil)

// New returns the use case; wire it with outbox.Handle(bot.OpNotify, r).
func New(store Store, clock bot.Clock, log zerolog.Logger, cfg Config) *Reach {
	return &Reach{store: store, clock: clock, log: log, cfg: cfg}
}

// Register adds /oncall notify. Its actions are words after it, not
// commands of their own, so the command stays two words deep as Discord
// requires of a subcommand.
func (r *Reach) Register(m *bot.Mux) {
	m.Register(bot.Command{Name: "oncall notify", Params: []bot.Param{
		{Name: "action", Desc: "show (default), add, verify, remove, rules or test", Usage: "[add|verify|remove|rules|test]"},
		{Name: "what", Desc: "A method (push, sms, voice, email), a code, or rules like `push 0m, sms 1m`", Usage: "[method|code|rules]"},
		{Name: "to", Desc: "For add: an E.164 number (+14155550100), an email address or an ntfy topic", Usage: "[number|email|topic]"},
	}, Summary: "How klaxon reaches you when paged: show, add/verify/remove a method, set your rules, send a test.", Handler: r.handle})
}

// Usage is /oncall notify's help, for a malformed request.
const Usage = "`/oncall notify` shows your methods and rules · `/oncall notify add sms +14155550100` (push <ntfy topic>, voice <number>, email <address>) sends a code · " +
	"`/oncall notify verify 123456` · `/oncall notify remove sms` · `/oncall notify rules push 0m, sms 1m, voice 5m` (or `default`) · `/oncall notify test [method]`"

func (r *Reach) handle(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	if len(req.Args) == 0 {
		return r.handleShow(ctx, req)
	}
	sub := *req
	sub.Args = req.Args[1:]
	switch strings.ToLower(req.Args[0]) {
	case "show":
		return r.handleShow(ctx, &sub)
	case "add":
		return r.handleAdd(ctx, &sub)
	case "verify":
		return r.handleVerify(ctx, &sub)
	case "remove":
		return r.handleRemove(ctx, &sub)
	case "rules":
		return r.handleRules(ctx, &sub)
	case "test":
		return r.handleTest(ctx, &sub)
	}
	return nil, bot.Errorf(bot.EINVALID, "`%s` is not something /oncall notify does. %s", req.Args[0], Usage)
}

// person is the klaxon person behind the request.
func (r *Reach) person(req *bot.Request) (bot.Person, error) {
	if who, ok := r.cfg.People.Find(req.Platform, req.User.ID); ok {
		return who, nil
	}
	return bot.Person{}, bot.Errorf(bot.EFORBIDDEN, "You are not in klaxon's list of people, so klaxon never pages you; ask an admin to add you under `people:` in the configuration.")
}

// reach is who's contacts and rules, read in tx.
func (r *Reach) reach(tx bot.Tx, who bot.Person) (*bot.Profile, bot.Reach, error) {
	prof, err := tx.Profile(who.ID)
	if err != nil {
		return nil, bot.Reach{}, err
	}
	return prof, who.Reach.With(prof), nil
}

func (r *Reach) handleShow(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	who, err := r.person(req)
	if err != nil {
		return nil, err
	}
	profiles, err := r.store.Profiles(ctx)
	if err != nil {
		return nil, err
	}
	prof := &bot.Profile{Person: who.ID}
	if i := slices.IndexFunc(profiles, func(p *bot.Profile) bool { return p.Person == who.ID }); i >= 0 {
		prof = profiles[i]
	}
	return &bot.Response{Message: bot.Message{Text: r.describe(prof, who.Reach.With(prof))}}, nil
}

// describe is /oncall notify's answer.
func (r *Reach) describe(prof *bot.Profile, reach bot.Reach) string {
	var b strings.Builder
	b.WriteString("📟 *How klaxon reaches you when you are paged*\n")
	if len(reach.Contacts) == 0 {
		b.WriteString("Contact methods: none. Add one with `/oncall notify add sms +14155550100` (or push, voice, email).\n")
	} else {
		b.WriteString("Contact methods:\n")
		for _, c := range reach.Contacts {
			state := "✓ verified"
			switch {
			case !c.FromChat:
				state = "✓ from the configuration"
			case !c.Verified:
				state = "⏳ not verified: never used until you send `/oncall notify verify <code>`"
			}
			if _, ok := r.cfg.Senders[c.Method]; !ok {
				state += " ⚠️ klaxon has no " + string(c.Method) + " provider configured"
			}
			fmt.Fprintf(&b, "• %s %s — %s\n", c.Method.Label(), c.Masked(), state)
		}
	}
	rules, whose := reach.Rules, "your rules"
	if len(prof.Rules) == 0 && len(reach.Rules) == 0 {
		rules, whose = r.cfg.DefaultRules, "the default rules"
	} else if len(prof.Rules) == 0 {
		whose = "your rules (from the configuration)"
	}
	if len(rules) == 0 {
		b.WriteString("Rules: none, so klaxon reaches you only through the team's pagers and chat. Set some with `/oncall notify rules push 0m, sms 1m, voice 5m`.\n")
	} else {
		fmt.Fprintf(&b, "Rules (%s), each until someone acknowledges:\n", whose)
		for _, rule := range rules {
			mark := ""
			if _, ok := reach.Usable(rule.Method); !ok {
				mark = " ⚠️ no verified " + string(rule.Method) + " method: skipped"
			} else if _, ok := r.cfg.Senders[rule.Method]; !ok {
				mark = " ⚠️ no provider configured: skipped"
			}
			fmt.Fprintf(&b, "• %s%s\n", rule, mark)
		}
	}
	b.WriteString("Test them with `/oncall notify test`.")
	return b.String()
}

func (r *Reach) handleAdd(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	who, err := r.person(req)
	if err != nil {
		return nil, err
	}
	if len(req.Args) != 2 {
		return nil, bot.Errorf(bot.EINVALID, "Name a method and where it reaches you, e.g. `/oncall notify add sms +14155550100`.")
	}
	m, err := bot.ParseMethod(req.Args[0])
	if err != nil {
		return nil, bot.Errorf(bot.EINVALID, "%s.", err)
	}
	to := strings.TrimSpace(req.Args[1])
	if err := bot.ValidateContact(m, to); err != nil {
		return nil, bot.Errorf(bot.EINVALID, "%s.", err)
	}
	if _, ok := r.cfg.Senders[m]; !ok {
		return nil, bot.Errorf(bot.ECONFLICT, "klaxon has no %s provider configured, so it cannot reach you by %s; ask an admin to set one up under `notifications:`.", m, m.Label())
	}
	code, err := sixDigits()
	if err != nil {
		return nil, err
	}
	now := r.clock.Now()
	err = r.store.Update(ctx, func(tx bot.Tx) error {
		prof, err := tx.Profile(who.ID)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(who.Reach.Contacts, func(c bot.Contact) bool { return c.Method == m }) {
			return bot.Errorf(bot.ECONFLICT, "Your %s is set in the configuration (people[].contact); an admin changes it there.", m.Label())
		}
		// One chat-added method of a kind: a new one replaces the old.
		prof.Contacts = slices.DeleteFunc(prof.Contacts, func(c bot.Contact) bool { return c.Method == m })
		prof.Contacts = append(prof.Contacts, bot.Contact{Method: m, To: to, FromChat: true})
		prof.Pending = slices.DeleteFunc(prof.Pending, func(v bot.Verification) bool { return v.Method == m })
		prof.Pending = append(prof.Pending, bot.Verification{Method: m, To: to, Hash: codeHash(who.ID, m, to, code), Expires: now.Add(bot.VerifyFor)})
		if err := tx.PutProfile(prof); err != nil {
			return err
		}
		d := bot.Delivery{Key: fmt.Sprintf("verify:%s:%s:%d", who.ID, m, now.UnixNano()), Pager: string(m), Person: who.ID, Kind: bot.DeliverMessage,
			To: to, Summary: fmt.Sprintf("Your klaxon verification code is %s. Send /oncall notify verify %s in chat within %s.", code, code, bot.Duration(bot.VerifyFor)),
			Created: now, Status: bot.DeliveryPending}
		return tx.Enqueue(r.job(req, d, now))
	})
	if err != nil {
		return nil, err
	}
	r.cfg.Wake.Jobs()
	return bot.Reply("📨 Sending a six-digit code by %s to %s now (if it cannot go out, klaxon tells you by direct message). Send `/oncall notify verify <code>` within %s; until then klaxon does not use it.",
		m.Label(), bot.Contact{Method: m, To: to}.Masked(), bot.Duration(bot.VerifyFor)), nil
}

// job is the outbox job that sends d for the person who asked in req:
// one queue per person, and a refusal is told to them by DM.
func (r *Reach) job(req *bot.Request, d bot.Delivery, now time.Time) bot.Job {
	j := bot.ChatJob(req.Platform, "notify:"+d.Person, bot.OpNotify, now)
	j.Delivery = &d
	j.Users = []string{req.User.ID}
	return j
}

func (r *Reach) handleVerify(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	who, err := r.person(req)
	if err != nil {
		return nil, err
	}
	if len(req.Args) != 1 || len(strings.TrimSpace(req.Args[0])) != 6 || strings.Trim(req.Args[0], "0123456789") != "" {
		return nil, bot.Errorf(bot.EINVALID, "The code is six digits, e.g. `/oncall notify verify 123456`.")
	}
	code := req.Args[0]
	now := r.clock.Now()
	var verified bot.Contact
	var refusal error
	err = r.store.Update(ctx, func(tx bot.Tx) error {
		verified, refusal = bot.Contact{}, nil
		prof, err := tx.Profile(who.ID)
		if err != nil {
			return err
		}
		if len(prof.Pending) == 0 {
			refusal = bot.Errorf(bot.ECONFLICT, "No code is waiting for you: the method was verified already or never added. See `/oncall notify`.")
			return nil
		}
		live := prof.Pending[:0]
		for _, v := range prof.Pending {
			if now.After(v.Expires) {
				continue // expired: dropped
			}
			live = append(live, v)
		}
		if len(live) == 0 {
			prof.Pending = nil
			refusal = bot.Errorf(bot.ECONFLICT, "That code has expired (codes work for %s). Add the method again with `/oncall notify add`.", bot.Duration(bot.VerifyFor))
			return tx.PutProfile(prof)
		}
		for i, v := range live {
			if subtle.ConstantTimeCompare([]byte(v.Hash), []byte(codeHash(who.ID, v.Method, v.To, code))) == 1 {
				for j := range prof.Contacts {
					if c := &prof.Contacts[j]; c.Method == v.Method && c.To == v.To {
						c.Verified = true
						verified = *c
					}
				}
				prof.Pending = slices.Delete(live, i, i+1)
				return tx.PutProfile(prof)
			}
		}
		// Wrong: every waiting code loses a try; one out of tries is gone.
		kept := live[:0]
		for _, v := range live {
			if v.Tries++; v.Tries < bot.MaxVerifyTries {
				kept = append(kept, v)
			}
		}
		prof.Pending = kept
		if len(kept) == 0 {
			refusal = bot.Errorf(bot.ECONFLICT, "That code is wrong, and that was the last try. Add the method again with `/oncall notify add` for a new code.")
		} else if left := bot.MaxVerifyTries - kept[0].Tries; left == 1 {
			refusal = bot.Errorf(bot.ECONFLICT, "That code is wrong. 1 try left.")
		} else {
			refusal = bot.Errorf(bot.ECONFLICT, "That code is wrong. %d tries left.", left)
		}
		return tx.PutProfile(prof)
	})
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, refusal
	}
	r.log.Info().Str("person", who.ID).Str("method", string(verified.Method)).Msg("contact method verified")
	return bot.Reply("✅ Verified: klaxon now reaches you by %s at %s when your rules say so. Send yourself a test with `/oncall notify test %s`.",
		verified.Method.Label(), verified.Masked(), verified.Method), nil
}

func (r *Reach) handleRemove(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	who, err := r.person(req)
	if err != nil {
		return nil, err
	}
	if len(req.Args) != 1 {
		return nil, bot.Errorf(bot.EINVALID, "Name the method to remove, e.g. `/oncall notify remove sms`.")
	}
	m, err := bot.ParseMethod(req.Args[0])
	if err != nil {
		return nil, bot.Errorf(bot.EINVALID, "%s.", err)
	}
	err = r.store.Update(ctx, func(tx bot.Tx) error {
		prof, err := tx.Profile(who.ID)
		if err != nil {
			return err
		}
		n := len(prof.Contacts)
		prof.Contacts = slices.DeleteFunc(prof.Contacts, func(c bot.Contact) bool { return c.Method == m })
		prof.Pending = slices.DeleteFunc(prof.Pending, func(v bot.Verification) bool { return v.Method == m })
		if n == len(prof.Contacts) {
			if slices.ContainsFunc(who.Reach.Contacts, func(c bot.Contact) bool { return c.Method == m }) {
				return bot.Errorf(bot.ECONFLICT, "Your %s is set in the configuration (people[].contact); an admin changes it there.", m.Label())
			}
			return bot.Errorf(bot.ENOTFOUND, "You have no %s method to remove. See `/oncall notify`.", m)
		}
		return tx.PutProfile(prof)
	})
	if err != nil {
		return nil, err
	}
	return bot.Reply("🗑️ Removed your %s method; klaxon no longer uses it.", m.Label()), nil
}

func (r *Reach) handleRules(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	who, err := r.person(req)
	if err != nil {
		return nil, err
	}
	line := strings.TrimSpace(strings.Join(req.Args, " "))
	var rules []bot.Rule
	if !strings.EqualFold(line, "default") {
		seen := map[bot.Method]bool{}
		for _, part := range strings.Split(line, ",") {
			rule, err := bot.ParseRule(strings.TrimSpace(part))
			if err != nil {
				return nil, bot.Errorf(bot.EINVALID, "%s. Write rules like `/oncall notify rules push 0m, sms 1m, voice 5m`.", err)
			}
			if seen[rule.Method] {
				return nil, bot.Errorf(bot.EINVALID, "%s appears twice; one rule per method.", rule.Method)
			}
			seen[rule.Method] = true
			if _, ok := r.cfg.Senders[rule.Method]; !ok {
				return nil, bot.Errorf(bot.ECONFLICT, "klaxon has no %s provider configured; leave %s out.", rule.Method, rule.Method)
			}
			rules = append(rules, rule)
		}
		bot.SortRules(rules)
	}
	var text string
	err = r.store.Update(ctx, func(tx bot.Tx) error {
		prof, err := tx.Profile(who.ID)
		if err != nil {
			return err
		}
		prof.Rules = rules
		if err := tx.PutProfile(prof); err != nil {
			return err
		}
		_, reach, err := r.reach(tx, who)
		text = r.describe(prof, reach)
		return err
	})
	if err != nil {
		return nil, err
	}
	return bot.Reply("Saved.\n%s", text), nil
}

func (r *Reach) handleTest(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	who, err := r.person(req)
	if err != nil {
		return nil, err
	}
	var only bot.Method
	if len(req.Args) == 1 {
		if only, err = bot.ParseMethod(req.Args[0]); err != nil {
			return nil, bot.Errorf(bot.EINVALID, "%s.", err)
		}
	} else if len(req.Args) > 1 {
		return nil, bot.Errorf(bot.EINVALID, "Name at most one method, e.g. `/oncall notify test sms`.")
	}
	now := r.clock.Now()
	var sent []string
	err = r.store.Update(ctx, func(tx bot.Tx) error {
		sent = nil
		_, reach, err := r.reach(tx, who)
		if err != nil {
			return err
		}
		var jobs []bot.Job
		for _, m := range bot.Methods {
			c, ok := reach.Usable(m)
			if _, has := r.cfg.Senders[m]; !ok || !has || (only != "" && m != only) {
				continue
			}
			d := bot.Delivery{Key: fmt.Sprintf("test:%s:%s:%d", who.ID, m, now.UnixNano()), Pager: string(m), Person: who.ID, Kind: bot.DeliverMessage, To: c.To,
				Summary: fmt.Sprintf("Test from klaxon: this is how klaxon reaches you (%s) when you are paged. Nothing is wrong.", m.Label()), Created: now, Status: bot.DeliveryPending}
			jobs = append(jobs, r.job(req, d, now))
			sent = append(sent, m.Label()+" to "+c.Masked())
		}
		return tx.Enqueue(jobs...)
	})
	if err != nil {
		return nil, err
	}
	if len(sent) == 0 {
		if only != "" {
			return nil, bot.Errorf(bot.ENOTFOUND, "You have no verified %s method klaxon can use. See `/oncall notify`.", only)
		}
		return nil, bot.Errorf(bot.ENOTFOUND, "You have no verified contact method klaxon can use. Add one with `/oncall notify add`.")
	}
	r.cfg.Wake.Jobs()
	return bot.Reply("🔔 Sending a test now: %s. If one does not arrive within a minute, klaxon will tell you why here.", strings.Join(sent, ", ")), nil
}

// Send implements outbox.Sender for OpNotify: one attempt at the method's
// provider (bot.SendOnce); a refusal for good is told to the person by DM.
func (r *Reach) Send(ctx context.Context, j bot.Job, again bool) (outbox.Then, error) {
	d := *j.Delivery
	sender, ok := r.cfg.Senders[bot.Method(d.Pager)]
	if !ok {
		return r.tell(d), bot.Errorf(bot.EREFUSED, "klaxon has no %s provider configured any more", d.Pager)
	}
	return r.tell(d), outbox.ResultError(bot.SendOnce(ctx, sender, d, again))
}

// tell DMs the person when their message failed for good.
func (r *Reach) tell(d bot.Delivery) outbox.Then {
	return func(tx bot.Tx, j bot.Job) error {
		if j.Status != bot.JobFailed || len(j.Users) == 0 {
			return nil
		}
		what := "test"
		if strings.HasPrefix(d.Key, "verify:") {
			what = "verification code"
		}
		dm := bot.ChatJob(j.Platform, "dm:"+j.Users[0], bot.OpDM, r.clock.Now())
		dm.Users = j.Users
		dm.Message = bot.Message{Text: fmt.Sprintf("⚠️ klaxon could not send your %s by %s to %s: %s", what, bot.Method(d.Pager).Label(), bot.Contact{Method: bot.Method(d.Pager), To: d.To}.Masked(), j.LastError)}
		return tx.Enqueue(dm)
	}
}

// sixDigits is a uniformly random code from 000000 to 999999.
func sixDigits() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%06d", n.Int64()), nil
}

// codeHash is how a code is kept: bound to the person, method and address
// it was sent to, so a code for one method cannot verify another.
func codeHash(person string, m bot.Method, to, code string) string {
	h := sha256.Sum256([]byte("klaxon verify v1\x00" + person + "\x00" + string(m) + "\x00" + to + "\x00" + code))
	return hex.EncodeToString(h[:])
}
