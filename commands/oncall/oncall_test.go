package oncall_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/bot/console"
	"github.com/klaxon-bot/klaxon/commands/commandstest"
	"github.com/klaxon-bot/klaxon/commands/oncall"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

// oncallEnv is the on-call commands over a real store, at a fake time:
// Tuesday 2026-11-17 10:00 UTC (the shared harness with the team's
// schedules).
type oncallEnv struct {
	*commandstest.Env
	t     *testing.T
	store *bolt.Store
	clock *bot.FakeClock
	mux   *bot.Mux
	cfg   oncall.Config
}

func onCallConfig(t *testing.T) oncall.Config { return commandstest.Team(t) }

func mustLoc(t *testing.T, name string) *time.Location { return commandstest.Location(t, name) }

func newOnCallEnv(t *testing.T, path string) *oncallEnv {
	t.Helper()
	cfg := onCallConfig(t)
	// bob owns payments and alice db: they may put anyone on those
	// schedules (TestWhoMayChangeOnCall covers the rules).
	cfg.Owners = map[string][]string{"payments": {"bob"}, "db": {"alice"}}
	opts := []commandstest.Option{commandstest.OnCall(cfg), commandstest.OnCallAlone(), commandstest.PollEvery(0)}
	if path != "" {
		opts = append(opts, commandstest.At(path))
	}
	h := commandstest.New(t, opts...)
	return &oncallEnv{Env: h, t: t, store: h.Store, clock: h.Clock, mux: h.Mux, cfg: cfg}
}

func (e *oncallEnv) do(user, text string) string {
	e.t.Helper()
	resp := e.mux.Dispatch(context.Background(), &bot.Request{Platform: bot.PlatformConsole, User: bot.User{ID: user, Name: user},
		Channel: bot.ChannelRef{ID: "general"}, Text: text, Time: e.clock.Now()})
	return console.Plain(console.RenderMessage(resp.Message))
}

func TestWhoIsOnCall(t *testing.T) {
	e := newOnCallEnv(t, "")
	got := e.do("alice", "/oncall")
	for _, want := range []string{
		"*payments* primary: @alice (since Mon 16 Nov 09:00, until Mon 23 Nov 09:00)", // Berlin times for alice
		"*payments* secondary: @carol",
		"*db* primary: @bob (since Tue 17 Nov 01:00, until Wed 18 Nov 01:00)",
		"Times in Europe/Berlin",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("/oncall as alice lacks %q:\n%s", want, got)
		}
	}
	// Bob reads New York times.
	if got := e.do("bob", "/oncall db"); !strings.Contains(got, "since Mon 16 Nov 19:00") || strings.Contains(got, "payments") {
		t.Errorf("/oncall db as bob:\n%s", got)
	}
	if got := e.do("alice", "/oncall paymnts"); !strings.Contains(got, `I don't know a service or schedule called "paymnts". Known: payments, db, payments-primary`) {
		t.Errorf("unknown service: %s", got)
	}
}

func TestOverrideCoverUndoHistory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	e := newOnCallEnv(t, path)
	if got := e.do("bob", "/oncall override @carol now 2h payments-primary"); !strings.Contains(got, "@carol is on call for *payments-primary* from Tue 17 Nov 05:00 until Tue 17 Nov 07:00 (America/New_York)") {
		t.Fatalf("override: %s", got)
	}
	if got := e.do("alice", "/oncall payments"); !strings.Contains(got, "primary: @carol (since Tue 17 Nov 11:00, until Tue 17 Nov 13:00) · override") {
		t.Errorf("after the override:\n%s", got)
	}
	// Alice is on call for payments-primary underneath: "take my shift".
	e.clock.Advance(3 * time.Hour)
	if got := e.do("alice", "/oncall cover @bob 4h"); !strings.Contains(got, "@bob is on call for *payments-primary*") {
		t.Fatalf("cover: %s", got)
	}
	if got := e.do("alice", "/oncall payments"); !strings.Contains(got, "primary: @bob") {
		t.Errorf("after the cover:\n%s", got)
	}
	// Bob's undo reverts his own override, not alice's later cover.
	if got := e.do("bob", "/oncall undo"); !strings.Contains(got, "undid their override: @carol on *payments-primary*") || !strings.Contains(got, "On call for *payments-primary* now: @bob.") {
		t.Errorf("bob's undo: %s", got)
	}
	if got := e.do("bob", "/oncall undo"); !strings.Contains(got, "no on-call change left to undo") {
		t.Errorf("second undo: %s", got)
	}
	hist := e.do("alice", "/oncall history")
	lines := strings.Split(strings.TrimSpace(hist), "\n")
	if !strings.Contains(hist, "undo · reverted @carol") || !strings.Contains(hist, "cover · @bob") || !strings.Contains(hist, "override · @carol on *payments-primary*") || !strings.Contains(hist, "(undone)") {
		t.Errorf("history:\n%s", hist)
	}
	if len(lines) < 4 {
		t.Errorf("history has %d lines", len(lines))
	}

	// Everything survives a restart.
	e.store.Close()
	e2 := newOnCallEnv(t, path)
	e2.clock.Set(e.clock.Now())
	if got := e2.do("alice", "/oncall payments"); !strings.Contains(got, "primary: @bob") {
		t.Errorf("after a restart:\n%s", got)
	}
	if got := e2.do("alice", "/oncall undo"); !strings.Contains(got, "undid their cover") {
		t.Errorf("undo after a restart: %s", got)
	}
	if got := e2.do("alice", "/oncall payments"); !strings.Contains(got, "primary: @alice") {
		t.Errorf("after undoing the cover:\n%s", got)
	}
}

// Times of day in an override are the next ones: asked at 23:36, "14:00
// 2h" is tomorrow afternoon (and the reply names the day), and "22:00
// 06:00" is tonight's, ending the next morning.
func TestOverrideTimesOfDayAreTheNextOnes(t *testing.T) {
	e := newOnCallEnv(t, "")
	e.clock.Set(time.Date(2026, 11, 17, 22, 36, 0, 0, time.UTC)) // 23:36 in Berlin, alice's zone
	if got := e.do("alice", "/oncall override @bob 14:00 2h db"); !strings.Contains(got, "from Wed 18 Nov 14:00 until Wed 18 Nov 16:00 (Europe/Berlin)") {
		t.Errorf("14:00 2h at 23:36: %s", got)
	}
	// Tonight's stretch is under way: it is the one meant, ending tomorrow morning.
	if got := e.do("alice", "/oncall override @bob 22:00 06:00 db"); !strings.Contains(got, "from Tue 17 Nov 22:00 until Wed 18 Nov 06:00") {
		t.Errorf("22:00 06:00 at 23:36: %s", got)
	}
}

func TestOnCallChangesRefuseBadInput(t *testing.T) {
	e := newOnCallEnv(t, "")
	tests := []struct{ text, want string }{
		{"/oncall override @carol now", "Say who, from when"},
		{"/oncall override carol now 2h db", "is not a person"},
		{"/oncall override @zed now 2h db", "not in klaxon's list of people"},
		{"/oncall override @carol 2026-11-20T18:00 2026-11-20T17:00 db", "must come after the start"},
		{"/oncall override @carol now 100d db", "at most 90 days"},
		{"/oncall override @carol 2026-11-01 2026-11-02 db", "already over"},
		{"/oncall override @carol now soon db", "neither a time nor a duration"},
		{"/oncall override @carol now 2h", "Which schedule?"},
		{"/oncall override @carol now 2h nope", "I don't know a service"},
		{"/oncall override @carol now 2h payments", "*payments* has 2 schedules: payments-primary, payments-secondary. Name the one you mean."},
		{"/oncall cover @bob 2h", "You are not on call right now"},
		{"/oncall cover @bob forever db", "not a duration"},
		{"/oncall undo now", `I don't know a service or schedule called "now"`},
		{"/oncall undo db now", "`undo` reverts your last change"},
	}
	// zed has no shift anywhere (and is not in the people list), so there is
	// no shift of theirs to cover.
	for _, tt := range tests {
		if got := e.do("zed", tt.text); !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q; want %q", tt.text, got, tt.want)
		}
	}
	if h, _ := e.store.OnCallChanges(context.Background()); len(h) != 0 {
		t.Errorf("bad input wrote %d changes", len(h))
	}
}

// flat is s with every run of white space one space, for comparing
// rendered lists without their indentation.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestOnCallQuestions(t *testing.T) {
	e := newOnCallEnv(t, "")
	ask := func(text string) string {
		r := e.mux.Ask(context.Background(), bot.Question{Platform: bot.PlatformConsole, User: bot.User{ID: "alice"}, Text: text})
		if r == nil {
			return ""
		}
		return console.Plain(console.RenderMessage(r.Message))
	}
	if got := ask("who is on call for db?"); !strings.Contains(got, "*db* primary: @bob") || strings.Contains(got, "payments") {
		t.Errorf("db now: %s", got)
	}
	if got := ask("who's on call tomorrow"); !strings.Contains(got, "On call tomorrow (Wed 18 Nov 12:00)") || !strings.Contains(got, "*db* primary: @carol") {
		t.Errorf("tomorrow: %s", got)
	}
	if got := ask("who is on call for payments next week?"); !strings.Contains(flat(got), "*payments* primary: Mon 23 Nov 09:00 – Mon 30 Nov 09:00 @bob") ||
		!strings.Contains(flat(got), "*payments* secondary: Mon 23 Nov 09:00 – Mon 30 Nov 09:00 @alice") {
		t.Errorf("next week: %s", got)
	}
	// Yesterday is read as yesterday noon, in the past tense.
	if got := ask("who was on call for db yesterday?"); !strings.Contains(got, "On call yesterday (Mon 16 Nov 12:00)") || !strings.Contains(got, "*db* primary: @carol") {
		t.Errorf("yesterday: %s", got)
	}
	if got := ask("was I on call yesterday?"); !strings.Contains(got, "You were on call yesterday (Mon 16 Nov 12:00)") || !strings.Contains(got, "*payments-primary* until Mon 23 Nov 09:00") {
		t.Errorf("was I on call yesterday: %s", got)
	}
	if got := ask("who is on call for dbb"); !strings.Contains(got, `called "dbb". Known: db,`) {
		t.Errorf("unknown service, closest first: %s", got)
	}
	if got := ask("I am on call tonight"); got != "" {
		t.Errorf("a statement got an answer: %s", got)
	}
}

// Calendar words are read in the asker's zone. "next week" is the shift
// that starts next week, at the schedule's handoff: asked on Monday
// morning before this week's handoff, it is not this week's person.
func TestCalendarWordsInQuestionsAndCommands(t *testing.T) {
	e := newOnCallEnv(t, "")
	// Mon 23 Nov 07:30 in Berlin: alice's week (from 16 Nov) ends at 09:00, then bob, then alice again on 30 Nov.
	e.clock.Set(time.Date(2026, 11, 23, 6, 30, 0, 0, time.UTC))
	if got := e.do("alice", "/oncall payments-primary next week"); !strings.Contains(flat(got), "*payments* primary: Mon 30 Nov 09:00 – Mon 7 Dec 09:00 @alice") || !strings.Contains(got, "next week (from Mon 30 Nov 09:00)") {
		t.Errorf("/oncall payments-primary next week, Monday before the handoff:\n%s", got)
	}
	if got := e.do("alice", "/oncall payments-primary"); !strings.Contains(got, "primary: @alice") {
		t.Errorf("now, before the handoff:\n%s", got)
	}
	if got := e.do("alice", "/oncall payments tomorrow"); !strings.Contains(got, "primary: @bob") || !strings.Contains(got, "tomorrow (Tue 24 Nov 12:00)") {
		t.Errorf("/oncall payments tomorrow:\n%s", got)
	}
	// Next week is the week's shifts, each schedule from its own handoff
	// (db hands over daily at 00:00 UTC).
	if got := e.do("alice", "/oncall next week"); !strings.Contains(flat(got), "*payments* primary: Mon 30 Nov 09:00 – Mon 7 Dec 09:00 @alice") ||
		!strings.Contains(flat(got), "*db* primary: Mon 30 Nov 01:00 – Tue 1 Dec 01:00 @carol Tue 1 Dec 01:00 – Wed 2 Dec 01:00 @bob") ||
		strings.Count(got, "@carol\n")+strings.Count(got, "@bob\n") < 7 {
		t.Errorf("/oncall next week (every schedule):\n%s", got)
	}
	resp := e.mux.Ask(context.Background(), bot.Question{Platform: bot.PlatformConsole, User: bot.User{ID: "alice"}, Text: "who is on call for payments next week?", Time: e.clock.Now()})
	if resp == nil || !strings.Contains(console.Plain(console.RenderMessage(resp.Message)), "Mon 30 Nov 09:00 – Mon 7 Dec 09:00  @alice") {
		t.Errorf("who is on call for payments next week? %+v", resp)
	}
}

// keeper is a chat of platform p that keeps groups and writes their
// mentions its own way.
type keeper struct {
	bot.Chat
	p bot.Platform
}

func (k keeper) Platform() bot.Platform                           { return k.p }
func (k keeper) SetGroup(context.Context, string, []string) error { return nil }
func (k keeper) GroupMention(group string) string                 { return "[" + string(k.p) + " group " + group + "]" }

// TestOnCallNamesItsGroups: /oncall now names the group or role that
// reaches each schedule's on-call, on its own platform and as that
// platform's adapter writes it; a question about another time does not
// (the group holds who is on call now).
func TestOnCallNamesItsGroups(t *testing.T) {
	cfg := onCallConfig(t)
	cfg.Groups = []oncall.Group{
		{Platform: bot.PlatformSlack, Group: "payments-oncall", Schedules: []string{"payments-primary"}},
		{Platform: bot.PlatformDiscord, Group: "123456789012345678", Schedules: []string{"payments-primary", "db"}},
	}
	h := commandstest.New(t, commandstest.OnCall(cfg), commandstest.OnCallAlone(), commandstest.PollEvery(0))
	cfg.Chats = []bot.Chat{keeper{h.Console, bot.PlatformSlack}, keeper{h.Console, bot.PlatformDiscord}}
	oc, err := oncall.New(context.Background(), h.Store, h.Clock, zerolog.Nop(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	lines := func(p bot.Platform, when string) []string {
		return strings.Split(oc.Report(p, cfg.Schedules, h.Clock.Now(), time.UTC, when).Text, "\n")
	}
	slack := lines(bot.PlatformSlack, "now")
	if !strings.HasSuffix(slack[0], " · mention [slack group payments-oncall]") || strings.Contains(slack[1]+slack[2], "mention") {
		t.Errorf("Slack lines name the wrong groups:\n%s", strings.Join(slack, "\n"))
	}
	discord := lines(bot.PlatformDiscord, "now")
	if want := "[discord group 123456789012345678]"; !strings.HasSuffix(discord[0], " · mention "+want) || strings.Contains(discord[1], "mention") || !strings.HasSuffix(discord[2], want) {
		t.Errorf("Discord lines name the wrong roles:\n%s", strings.Join(discord, "\n"))
	}
	if later := lines(bot.PlatformSlack, "tomorrow"); strings.Contains(strings.Join(later, "\n"), "mention") {
		t.Errorf("tomorrow's answer names today's group:\n%s", strings.Join(later, "\n"))
	}
}

// Who may change who is on call: a schedule's participants put each other
// on it for at most MaxOverride; its service's owners and admins may put
// anyone klaxon knows on it; strangers nothing. Whoever a change affects
// (the person it put on call, the schedule's participants) or an admin can
// undo it, not only its author.
func TestWhoMayChangeOnCall(t *testing.T) {
	cfg := onCallConfig(t)
	cfg.People = append(cfg.People, bot.Person{ID: "dave", Name: "Dave"}, bot.Person{ID: "root", Name: "Root"})
	cfg.Admins = []string{"root"}
	cfg.Owners = map[string][]string{"payments": {"dave"}}
	h := commandstest.New(t, commandstest.OnCall(cfg), commandstest.OnCallAlone(), commandstest.PollEvery(0))
	e := &oncallEnv{Env: h, t: t, store: h.Store, clock: h.Clock, mux: h.Mux, cfg: cfg}
	for _, tt := range []struct{ who, text, want string }{
		// The reproduction: a stranger puts carol on for 90 days.
		{"mallory", "/oncall override @carol now 2160h payments-primary", "Only people klaxon knows can change who is on call"},
		{"carol", "/oncall override @carol now 2h payments-primary", "Only *payments-primary*'s participants"},
		{"bob", "/oncall override @carol now 2h payments-primary", "Carol is not on *payments-primary*'s rotation"},
		{"bob", "/oncall override @alice now 8d payments-primary", "at most 7d"},
		{"bob", "/oncall override @alice now 2h payments-primary", "@alice is on call for *payments-primary*"},
		{"dave", "/oncall override @carol now 30d payments-primary", "at most 7d"},
		{"dave", "/oncall override @carol now 2d payments-primary", "@carol is on call for *payments-primary*"},
		{"root", "/oncall override @dave now 2160h db", "@dave is on call for *db*"},
	} {
		if got := e.do(tt.who, tt.text); !strings.Contains(got, tt.want) {
			t.Errorf("%s: %s = %q; want %q", tt.who, tt.text, got, tt.want)
		}
	}
	// The last change to payments-primary is dave's override of carol:
	// alice, on the rotation, can undo it; a stranger cannot.
	if got := e.do("mallory", "/oncall undo payments-primary"); !strings.Contains(got, "can be undone by them, by whoever it put on call") {
		t.Errorf("a stranger undoing: %s", got)
	}
	if got := e.do("alice", "/oncall undo payments-primary"); !strings.Contains(got, "undid @dave's override: @carol on *payments-primary*") {
		t.Errorf("alice, on the rotation, undoing dave's override: %s", got)
	}
	if got := e.do("carol", "/oncall undo db"); !strings.Contains(got, "undid @root's override") {
		t.Errorf("carol, on db's rotation, undoing root's override: %s", got)
	}
	if got := e.do("alice", "/oncall payments"); !strings.Contains(got, "primary: @alice") {
		t.Errorf("after the undo:\n%s", got)
	}
}

// Someone on call for two schedules is asked which one a cover is for,
// instead of one being picked for them.
func TestCoverAsksWhichScheduleWhenOnCallForTwo(t *testing.T) {
	cfg := onCallConfig(t)
	start, _ := bot.ParseDate("2026-11-16")
	cfg.Schedules = append(cfg.Schedules, &bot.Schedule{ID: "search", Service: "search", Role: "primary", Location: time.UTC,
		Layers: []bot.Layer{{Rotation: bot.Rotation{Kind: bot.RotationDaily, Days: 1, Start: start, Participants: []string{"alice", "bob"}}}}})
	h := commandstest.New(t, commandstest.OnCall(cfg), commandstest.OnCallAlone(), commandstest.PollEvery(0))
	e := &oncallEnv{Env: h, t: t, store: h.Store, clock: h.Clock, mux: h.Mux, cfg: cfg}
	e.clock.Set(time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC)) // alice: payments-primary this week, search today
	if got := e.do("alice", "/oncall cover @bob 3h"); !strings.Contains(got, "You are on call for payments-primary and search right now: name the one to cover") {
		t.Errorf("cover while on call twice: %s", got)
	}
	if got := e.do("alice", "/oncall cover @bob 3h search"); !strings.Contains(got, "@bob is on call for *search*") {
		t.Errorf("cover of the named schedule: %s", got)
	}
}
