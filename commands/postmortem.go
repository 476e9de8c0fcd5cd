package commands

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"

	"github.com/klaxon-bot/klaxon/bot"
)

// PostmortemTemplate is the template file klaxon renders.
const PostmortemTemplate = "postmortem.md.tmpl"

// maxDraftLines caps each list in the draft; the attached log has all.
const maxDraftLines = 300

// Postmortem is a rendered draft and the full log that goes with it.
type Postmortem struct {
	Name     string // INC-42-postmortem.md
	Markdown []byte
	LogName  string // INC-42-timeline.txt
	Log      []byte
}

type pmLine struct{ Time, Who, What string }
type pmRole struct{ Role, Who string }
type pmPerson struct {
	Who      string
	Did      string // what they did besides talking: "declared, commander, acknowledged"
	Messages int
}

// participant is someone who acted on an incident, as the draft counts
// them.
type participant struct {
	user     bot.User
	did      []string
	messages int
}

// acted names what an event of kind says its actor did, for the
// Participants table ("" for talking, which is counted apart).
var acted = map[bot.EventKind]string{bot.EventDeclared: "declared", bot.EventAcknowledged: "acknowledged", bot.EventMitigated: "mitigated",
	bot.EventResolved: "resolved", bot.EventReopened: "reopened", bot.EventClosed: "closed", bot.EventSeverity: "changed the severity",
	bot.EventRole: "gave roles", bot.EventUpdate: "posted updates", bot.EventNote: "added notes", bot.EventFollowUp: "added follow-ups"}

type pmFollowUp struct {
	Key, Text, Owner, Due string
	Ticket, TicketURL     string // the ticket's reference and link, once made
	Done                  bool
}

type pmData struct {
	Key, Title, Severity, SeverityHistory, Service, DeclaredBy, Summary, Resolution string
	Detected, Declared, Acknowledged, Mitigated, Resolved, Generated, LogFile       string
	TTD, TTA, TTM, TTR                                                              string
	Type                                                                            string
	Roles, Fields                                                                   []pmRole // Fields: the type's custom fields, as label and value
	KeyEvents, Lifecycle                                                            []pmLine
	FollowUps                                                                       []pmFollowUp
	Participants                                                                    []pmPerson
}

// mdSpecial are the characters that could start Markdown syntax in chat text.
var mdSpecial = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", `\<`, ">", `\>`,
	"|", `\|`, "#", `\#`, "~", `\~`, "!", `\!`)

// broadcast mentions must not ping anyone when the draft is pasted back.
var broadcast = regexp.MustCompile(`(?i)@(here|channel|everyone)`)

// chatTokens are klaxon's neutral mentions, <@U123> and <#C123>, which
// mean nothing outside chat.
var chatTokens = regexp.MustCompile(`<([@#])!?([^>|\s]+)(?:\|[^>]*)?>`)

// mdText makes chat text safe inside a Markdown list item or table cell:
// one line, mentions as plain @name, Markdown characters escaped,
// broadcast mentions defused, cut to max characters.
func mdText(s string, max int) string {
	s = chatTokens.ReplaceAllString(s, "$1$2")
	s = strings.Join(strings.Fields(s), " ")
	s = bot.Cut(s, max)
	s = mdSpecial.Replace(s)
	return broadcast.ReplaceAllString(s, "@\u200b$1")
}

func who(u bot.User) string {
	if u.IsZero() {
		return "klaxon"
	}
	name := u.Name
	if name == "" {
		name = u.ID
	}
	return "@" + mdText(name, 60)
}

func stampOrDash(t time.Time) string {
	if t.IsZero() {
		return "–"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

var sevChange = regexp.MustCompile(`from (\S+) to \*(\S+)\*`)

// draftLine is an event as a Markdown list entry.
func draftLine(ev bot.Event) pmLine {
	if ev.Kind != bot.EventMessage && ev.Kind != bot.EventFile {
		// klaxon's own words mark emphasis the chat way (*SEV2*), which
		// the draft would show escaped: drop it.
		ev.Text = chatBold.ReplaceAllString(ev.Text, "$1")
	}
	return pmLine{Time: ev.Time.UTC().Format("2006-01-02 15:04"), Who: who(ev.Actor), What: mdText(kindAndText(ev), 500)}
}

// chatBold is chat emphasis: *word*.
var chatBold = regexp.MustCompile(`\*([^*\n]+)\*`)

// kindAndText is an event's line: its kind, then its text, unless the
// text says the kind already ("declared: 🚨 declared SEV1" reads twice).
func kindAndText(ev bot.Event) string {
	words := strings.TrimLeftFunc(strings.ToLower(ev.Text), func(r rune) bool { return !unicode.IsLetter(r) })
	if strings.HasPrefix(words, string(ev.Kind)) {
		return ev.Text
	}
	return string(ev.Kind) + ": " + ev.Text
}

// plainName is a person's name for the plain-text log.
func plainName(u bot.User) string {
	switch {
	case u.IsZero():
		return "klaxon"
	case u.Name != "":
		return u.Name
	}
	return u.ID
}

// oneLine puts text on one line for the log, cheaply.
func oneLine(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		return strings.NewReplacer("\r\n", " ⏎ ", "\n", " ⏎ ", "\r", " ").Replace(s)
	}
	return s
}

// timelineLog is the full log as it is written, one line per event. It
// grows to fit what is left from the lines so far, not by doubling as
// bytes.Buffer does: a 13 MB log of 100k events must not hold 36 MB.
type timelineLog struct {
	b     []byte
	lines int
	left  int // events still to come (from the count read first)
}

func (l *timelineLog) add(line []byte) {
	if cap(l.b)-len(l.b) < len(line) {
		avg := len(l.b)/max(l.lines, 1) + 1
		grown := make([]byte, len(l.b), len(l.b)+len(line)+max(avg*l.left*11/10, 64<<10))
		copy(grown, l.b)
		l.b = grown
	}
	l.b = append(l.b, line...)
	l.lines++
	l.left = max(l.left-1, 0)
}

func appendPadded(buf []byte, s string, width int) []byte {
	buf = append(buf, s...)
	for n := len(s); n < width; n++ {
		buf = append(buf, ' ')
	}
	return append(buf, "  "...)
}

// Postmortem renders the incident's draft. It reads the timeline once, as a
// stream, keeping only what the draft shows; the full log is written as it
// goes. pending are events of a change not committed yet that the draft
// is for (the resolution), after the stored ones.
func (c *Reports) Postmortem(ctx context.Context, inc *bot.Incident, pending ...bot.Event) (*Postmortem, error) {
	reader := c.store
	tmpl, err := template.ParseFS(c.lc.templates, PostmortemTemplate)
	if err != nil {
		return nil, bot.Internal(err, "klaxon could not read the postmortem template.")
	}
	pm := &Postmortem{Name: draftName(inc), LogName: logName(inc)}
	d := pmData{Key: inc.Key(), Title: mdText(inc.Title, bot.MaxTitleRunes), Severity: inc.Severity.Name + " (" + inc.Severity.Label + ")",
		Service: mdText(inc.Service, 40), DeclaredBy: who(inc.DeclaredBy), Summary: mdText(inc.Summary, bot.MaxTextRunes),
		Detected: stampOrDash(inc.DetectedAt), Declared: stampOrDash(inc.DeclaredAt), Acknowledged: stampOrDash(inc.AcknowledgedAt),
		Mitigated: stampOrDash(inc.MitigatedAt), Resolved: stampOrDash(inc.ResolvedAt), Generated: stampOrDash(c.clock.Now()), LogFile: pm.LogName}
	m := inc.Metrics()
	d.TTD, d.TTA, d.TTM, d.TTR = durationOrDash(m.TTD), durationOrDash(m.TTA), durationOrDash(m.TTM), durationOrDash(m.TTR)
	for _, r := range sortedRoles(inc) {
		d.Roles = append(d.Roles, pmRole{Role: roleLabel(r), Who: who(inc.Roles[r])})
	}
	name, fields := c.lc.cfg.typeValues(inc)
	d.Type = mdText(name, 60)
	for _, f := range fields { // mdText makes a mention plain @name
		d.Fields = append(d.Fields, pmRole{Role: mdText(f.Label, 60), Who: mdText(f.Value, bot.MaxCustomText)})
	}

	log, err := c.newLog(ctx, inc, len(pending))
	if err != nil {
		return nil, err
	}
	people := map[string]*participant{} // by user id: everyone who acted
	took := func(u bot.User) *participant {
		p, ok := people[u.ID]
		if !ok {
			p = &participant{user: u}
			people[u.ID] = p
		}
		return p
	}
	for _, r := range sortedRoles(inc) {
		took(inc.Roles[r]).did = append(took(inc.Roles[r]).did, string(r))
	}
	history := []string{}
	var moreKey, moreLife int
	var buf []byte
	each := func(ev bot.Event) error {
		buf = logLine(buf[:0], ev)
		log.add(buf)

		switch {
		case ev.Highlight:
			if len(d.KeyEvents) < maxDraftLines {
				d.KeyEvents = append(d.KeyEvents, draftLine(ev))
			} else {
				moreKey++
			}
		case lifecycle[ev.Kind]:
			if len(d.Lifecycle) < maxDraftLines {
				d.Lifecycle = append(d.Lifecycle, draftLine(ev))
			} else {
				moreLife++
			}
		}
		if ev.Actor.ID != "" && !ev.Actor.IsSystem() {
			p := took(ev.Actor)
			if verb := acted[ev.Kind]; verb != "" && !slices.Contains(p.did, verb) {
				p.did = append(p.did, verb)
			}
		}
		switch ev.Kind {
		case bot.EventMessage, bot.EventFile:
			took(ev.Actor).messages++
		case bot.EventSeverity:
			if m := sevChange.FindStringSubmatch(ev.Text); m != nil {
				if len(history) == 0 {
					history = append(history, m[1])
				}
				history = append(history, m[2])
			}
		case bot.EventResolved:
			if _, summary, ok := strings.Cut(ev.Text, ": "); ok {
				d.Resolution = mdText(summary, bot.MaxTextRunes)
			}
		}
		return nil
	}
	if err := reader.EachEventBrief(ctx, inc.ID, each); err != nil {
		return nil, bot.Internal(err, "klaxon could not read the timeline.")
	}
	for _, ev := range pending {
		each(ev)
	}
	if moreKey > 0 {
		d.KeyEvents = append(d.KeyEvents, pmLine{What: fmt.Sprintf("… %d more in the attached log", moreKey)})
	}
	if moreLife > 0 {
		d.Lifecycle = append(d.Lifecycle, pmLine{What: fmt.Sprintf("… %d more in the attached log", moreLife)})
	}
	d.SeverityHistory = strings.Join(history, " → ")
	// Everyone paged took part, whether or not they answered.
	pages, err := c.store.PagesForIncident(ctx, inc.ID)
	if err != nil {
		return nil, bot.Internal(err, "klaxon could not read the incident's pages.")
	}
	for _, pg := range pages {
		for _, pd := range pg.Paged {
			u := bot.User{ID: pd.Person}
			if person, ok := c.lc.cfg.People.Get(pd.Person); ok && person.UserID(inc.Platform) != "" {
				u.ID = person.UserID(inc.Platform)
			}
			if p := took(u); !slices.Contains(p.did, "paged") {
				p.did = append(p.did, "paged")
			}
		}
	}
	for _, p := range people {
		// A platform user id alone says nothing to a reader: the
		// directory's name stands in.
		if person, ok := c.lc.cfg.People.Find(inc.Platform, p.user.ID); ok && p.user.Name == "" {
			p.user.Name = person.Name
		}
		d.Participants = append(d.Participants, pmPerson{Who: who(p.user), Did: mdText(strings.Join(p.did, ", "), 200), Messages: p.messages})
	}
	slices.SortFunc(d.Participants, func(a, b pmPerson) int {
		if a.Messages != b.Messages {
			return b.Messages - a.Messages
		}
		return strings.Compare(a.Who, b.Who)
	})
	{
		all, err := c.store.FollowUps(ctx)
		if err != nil {
			return nil, bot.Internal(err, "klaxon could not read the follow-ups.")
		}
		for _, f := range all {
			if f.IncidentID != inc.ID {
				continue
			}
			fu := pmFollowUp{Key: f.Key(), Text: mdText(f.Text, 500), Done: f.Done}
			if !f.Owner.IsZero() {
				fu.Owner = who(f.Owner)
			}
			if f.Due != (bot.Date{}) {
				fu.Due = f.Due.String()
			}
			if f.Ticket.Made() {
				fu.Ticket, fu.TicketURL = mdText(f.Ticket.Ref, 100), bot.WebLink(f.Ticket.URL)
			}
			d.FollowUps = append(d.FollowUps, fu)
		}
	}
	var out bytes.Buffer
	if err := tmpl.Execute(&out, d); err != nil {
		return nil, bot.Internal(err, "klaxon could not render the postmortem template.")
	}
	pm.Markdown, pm.Log = out.Bytes(), log.b
	return pm, nil
}

// draftName and logName are the files a postmortem is posted as.
func draftName(inc *bot.Incident) string { return inc.Key() + "-postmortem.md" }
func logName(inc *bot.Incident) string   { return inc.Key() + "-timeline.txt" }

// newLog starts the full timeline log of inc, sized for its events and
// pending more.
func (c *Reports) newLog(ctx context.Context, inc *bot.Incident, pending int) (*timelineLog, error) {
	total, err := c.store.CountEvents(ctx, inc.ID)
	if err != nil {
		return nil, bot.Internal(err, "klaxon could not read the timeline.")
	}
	total += pending
	log := &timelineLog{left: total}
	log.b = fmt.Appendf(make([]byte, 0, total*120), "%s: %s\nFull timeline, %s. Times in UTC.\n\n", inc.Key(), inc.Title, stampOrDash(c.clock.Now()))
	return log, nil
}

// logLine appends ev's line of the full log to buf: built by hand, as it
// runs for every event.
func logLine(buf []byte, ev bot.Event) []byte {
	buf = ev.Time.UTC().AppendFormat(buf, "2006-01-02 15:04:05")
	buf = append(buf, "  "...)
	buf = appendPadded(buf, string(ev.Kind), 16)
	buf = appendPadded(buf, plainName(ev.Actor), 16)
	text := ev.Text
	if strings.IndexByte(text, '<') >= 0 {
		text = chatTokens.ReplaceAllString(text, "$1$2") // <@U1> reads @U1 in a file
	}
	buf = append(buf, oneLine(text)...)
	return append(buf, '\n')
}

// storeDraft stores markdown as inc's postmortem draft and queues its
// upload, in tx: the upload posts this text, and the API and
// /incident postmortem serve it, until someone asks for a fresh one.
func (c *Reports) storeDraft(tx bot.Tx, inc *bot.Incident, markdown []byte) error {
	// Once someone edited it, the latest version is the postmortem: a
	// fresh draft from the timeline does not replace it.
	if v, ok, err := tx.LatestPostmortemVersion(inc.ID); err != nil {
		return err
	} else if ok {
		markdown = []byte(v.Markdown)
	}
	if err := tx.PutPostmortem(inc.ID, markdown); err != nil {
		return err
	}
	extra := map[string]string{"postmortem": "/api/v1/incidents/" + strconv.FormatInt(inc.Number, 10) + "/postmortem.md"}
	if err := c.lc.follow(tx, bot.Change{Kind: bot.ChangePostmortem, Incident: inc, At: c.clock.Now(), Extra: extra}); err != nil {
		return err
	}
	return tx.Enqueue(c.lc.job(inc, bot.OpPostmortem))
}

// publishPostmortem renders a fresh draft, stores it and queues its
// upload, in one transaction. It returns what went wrong, for the user.
func (c *Reports) publishPostmortem(ctx context.Context, inc *bot.Incident) error {
	pm, err := c.Postmortem(ctx, inc)
	if err != nil {
		return err
	}
	err = c.store.Update(ctx, func(tx bot.Tx) error { return c.storeDraft(tx, inc, pm.Markdown) })
	if err != nil {
		return bot.Internal(err, "klaxon could not save the postmortem draft.")
	}
	c.lc.committed()
	return nil
}

// uploadPostmortem posts the incident's stored postmortem draft, and the
// full timeline as it stands, to its channel. The outbox runs it.
func (c *Reports) uploadPostmortem(ctx context.Context, chat bot.Chat, inc *bot.Incident) error {
	draft, err := c.store.Postmortem(ctx, inc.ID)
	if err != nil {
		return err
	}
	log, err := c.newLog(ctx, inc, 0)
	if err != nil {
		return err
	}
	var buf []byte
	err = c.store.EachEventBrief(ctx, inc.ID, func(ev bot.Event) error {
		buf = logLine(buf[:0], ev)
		log.add(buf)
		return nil
	})
	if err != nil {
		return bot.Internal(err, "klaxon could not read the timeline.")
	}
	comment := fmt.Sprintf("📝 Postmortem draft for %s. Edit it, then share it; `/incident postmortem` makes a fresh one from the timeline.", inc.Key())
	if _, err := chat.Upload(ctx, inc.Channel.ID, bot.File{Name: draftName(inc), Content: draft, Comment: comment}); err != nil {
		return err
	}
	_, err = chat.Upload(ctx, inc.Channel.ID, bot.File{Name: logName(inc), Content: log.b, Comment: "🕑 The full timeline."})
	return err
}

func (c *Reports) handlePostmortem(ctx context.Context, req *bot.Request) (*bot.Response, error) {
	inc, args, err := c.lc.Target(ctx, req)
	if err != nil {
		return nil, err
	}
	if len(args) > 0 {
		return nil, bot.Errorf(bot.EINVALID, "`postmortem` takes no text.")
	}
	if err := c.publishPostmortem(ctx, inc); err != nil {
		if bot.ErrorCode(err) == bot.EINTERNAL {
			return nil, err
		}
		return nil, bot.Errorf(bot.EUNAVAILABLE, "klaxon could not post the postmortem draft: %s", bot.ErrorMessage(err))
	}
	if req.Channel.ID == inc.Channel.ID {
		return nil, nil
	}
	return bot.Reply("📝 Posted a fresh postmortem draft for %s in %s.", inc.Key(), inc.Channel.Mention()), nil
}

// MaxPostmortem bounds a saved postmortem.
const MaxPostmortem = 256 << 10 // bytes

// EditPostmortem saves markdown as the next version of the postmortem of
// incident number n, by who (person is their klaxon id), with a timeline
// event, and returns the version's number. Who may see the incident may
// edit its postmortem.
func (c *Reports) EditPostmortem(ctx context.Context, who bot.Actor, person string, n int64, markdown string) (int, error) {
	if len(markdown) > MaxPostmortem {
		return 0, bot.Errorf(bot.EINVALID, "The postmortem is longer than %d KB; shorten it.", MaxPostmortem>>10)
	}
	if strings.TrimSpace(markdown) == "" {
		return 0, bot.Errorf(bot.EINVALID, "The postmortem is empty.")
	}
	inc, err := c.store.IncidentByNumber(ctx, n)
	if err != nil {
		return 0, err
	}
	if !c.lc.MayAccess(ctx, inc, who) {
		return 0, privateError(inc)
	}
	if inc.Status == bot.StatusClosed {
		// Closed is read-only, as its notes and updates are in chat.
		return 0, bot.Errorf(bot.ECONFLICT, "%s is closed; its postmortem can't be changed. Declare a new incident if the problem is back.", inc.Key())
	}
	now := c.clock.Now()
	v := &bot.PostmortemVersion{IncidentID: inc.ID, By: person, At: now, Markdown: strings.ReplaceAll(markdown, "\r\n", "\n")}
	err = c.store.Update(ctx, func(tx bot.Tx) error {
		if err := tx.AddPostmortemVersion(v); err != nil {
			return err
		}
		return tx.AppendEvents(inc.ID, bot.NewEvent(bot.EventPostmortem, who.User, now, fmt.Sprintf("saved version %d of the postmortem", v.N)))
	})
	if err != nil {
		return 0, bot.Internal(err, "klaxon could not save the postmortem.")
	}
	return v.N, nil
}
