package commands_test

import (
	"context"
	"strings"
	"testing"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands"
)

// formChat gives the console forms: it records each form it is asked to open.
type formChat struct {
	bot.Chat
	forms *[]bot.Form
}

func (f formChat) OpenForm(ctx context.Context, trigger string, form bot.Form) error {
	if trigger == "" {
		return bot.Errorf(bot.EUNSUPPORTED, "no trigger")
	}
	*f.forms = append(*f.forms, form)
	return nil
}

func withForms(forms *[]bot.Form) option {
	return withChat(func(c bot.Chat) bot.Chat { return formChat{c, forms} })
}

func TestBareDeclareOpensTheFormAndItsSubmissionDeclares(t *testing.T) {
	var forms []bot.Form
	e := newEnv(t, withForms(&forms), withServices("payments", "search"))
	ctx := context.Background()
	resp := e.mux.Dispatch(ctx, &bot.Request{Platform: bot.PlatformConsole, User: bot.User{ID: "alice"}, Channel: bot.ChannelRef{ID: "general"},
		Text: "/incident declare", Trigger: "trig-1"})
	if !resp.IsZero() || len(forms) != 1 || forms[0].ID != commands.FormDeclare || forms[0].Channel.ID != "general" {
		t.Fatalf("bare declare: response %+v, forms %+v", resp, forms)
	}
	var service, title bot.FormField
	for _, f := range forms[0].Fields {
		switch f.ID {
		case commands.FieldService:
			service = f
		case commands.FieldTitle:
			title = f
		}
	}
	// The form says what will be public before anything is.
	if want := "🌐 The title goes on the public status page, unless the incident is private."; title.Hint != want {
		t.Errorf("title hint %q, want %q", title.Hint, want)
	}
	if service.Kind != bot.FieldSelect || len(service.Options) != 2 {
		t.Errorf("with services configured, the service field should be a select of them: %+v", service)
	}

	sub := bot.Submission{Platform: bot.PlatformConsole, FormID: commands.FormDeclare, User: bot.User{ID: "alice"}, Channel: bot.ChannelRef{ID: "general"},
		Values: map[string]string{"title": "  ", "severity": "SEV9", "service": "nope", "summary": strings.Repeat("x", bot.MaxTextRunes+1)}}
	err := e.mux.ValidateForm(ctx, sub)
	fe, ok := err.(bot.FieldErrors)
	if !ok || len(fe) != 4 || fe["title"] == "" || fe["severity"] == "" || fe["service"] == "" || fe["summary"] == "" {
		t.Fatalf("ValidateForm = %v; want errors on title, severity, service and summary", err)
	}
	if e.incidentCount() != 0 {
		t.Fatal("validation wrote an incident")
	}

	sub.Values = map[string]string{"title": "Search is slow", "severity": "SEV2", "service": "search", "summary": "p99 4s", "commander": "bob", "private": "true"}
	if err := e.mux.ValidateForm(ctx, sub); err != nil {
		t.Fatalf("valid form: %v", err)
	}
	resp = e.mux.SubmitForm(ctx, sub)
	if !strings.Contains(resp.Text, "Declared *INC-1*") {
		t.Errorf("submission reply = %q", resp.Text)
	}
	inc := e.incident(1)
	if c, _ := inc.Commander(); inc.Title != "Search is slow" || inc.Severity.Name != "SEV2" || inc.Service != "search" || !inc.Private || c.ID != "bob" || inc.Summary != "p99 4s" {
		t.Errorf("declared %+v", inc)
	}
}

func TestSummaryButtons(t *testing.T) {
	var forms []bot.Form
	e := newEnv(t, withForms(&forms))
	e.do("alice", "general", "/incident declare DB down sev:3")
	inc := e.incident(1)
	ctx := context.Background()
	act := func(user, actionID, value string) *bot.Response {
		return e.mux.Act(ctx, bot.Action{Platform: bot.PlatformConsole, ActionID: actionID, Value: value, User: bot.User{ID: user},
			Channel: inc.Channel, Trigger: "trig", Message: inc.SummaryRef})
	}
	if r := act("bob", bot.ActionAcknowledge, inc.ID.String()); !r.IsZero() {
		t.Errorf("acknowledge in the channel replied %q; the channel notice is the reply", r.Text)
	}
	if r := act("bob", bot.ActionAcknowledge, inc.ID.String()); !strings.Contains(r.Text, "already acknowledged") {
		t.Errorf("second acknowledge = %q", r.Text)
	}
	if r := act("bob", bot.ActionAcknowledge, "not-a-uuid"); !strings.Contains(r.Text, "does not name an incident") {
		t.Errorf("bad value = %q", r.Text)
	}
	for _, id := range []string{bot.ActionUpdate, bot.ActionSeverity, bot.ActionResolve} {
		act("bob", id, inc.ID.String())
	}
	if len(forms) != 3 || forms[0].ID != commands.FormUpdate || forms[1].ID != commands.FormSeverity || forms[2].ID != commands.FormResolve {
		t.Fatalf("forms = %+v", forms)
	}
	submit := func(form bot.Form, values map[string]string) (*bot.Response, error) {
		s := bot.Submission{Platform: bot.PlatformConsole, FormID: form.ID, Metadata: form.Metadata, Channel: form.Channel, User: bot.User{ID: "bob"}, Values: values}
		if err := e.mux.ValidateForm(ctx, s); err != nil {
			return nil, err
		}
		return e.mux.SubmitForm(ctx, s), nil
	}
	if _, err := submit(forms[0], map[string]string{"text": " "}); err == nil {
		t.Error("an empty update passed validation")
	}
	submit(forms[0], map[string]string{"text": "failing over"})
	submit(forms[1], map[string]string{"severity": "SEV1"})
	submit(forms[2], map[string]string{"summary": "failed over"})
	inc = e.incident(1)
	if inc.LastUpdate != "failing over" || inc.Severity.Name != "SEV1" || inc.Status != bot.StatusResolved || inc.Resolution != "failed over" {
		t.Errorf("after the forms: %+v", inc)
	}
	if got := kinds(e.events(inc)); got != "declared,role,channel,acknowledged,update,severity,resolved" {
		t.Errorf("timeline = %s", got)
	}
}

func TestShortcutPrefillsTheDeclarationForm(t *testing.T) {
	var forms []bot.Form
	e := newEnv(t, withForms(&forms))
	long := "Checkout returns 502 for everyone in the EU region since the 03:10 deploy of the cart service and the gateway " + strings.Repeat("really ", 20)
	e.mux.Act(context.Background(), bot.Action{Platform: bot.PlatformConsole, ActionID: bot.ShortcutDeclareFromMessage, User: bot.User{ID: "alice"},
		Channel: bot.ChannelRef{ID: "general"}, Message: bot.MessageRef{Channel: "general", ID: "m7"}, Text: long + "\nsecond line", Trigger: "t"})
	if len(forms) != 1 {
		t.Fatalf("forms = %d", len(forms))
	}
	var title, summary string
	for _, f := range forms[0].Fields {
		switch f.ID {
		case commands.FieldTitle:
			title = f.Initial
		case commands.FieldSummary:
			summary = f.Initial
		}
	}
	if len([]rune(title)) > bot.MaxTitleRunes || !strings.HasPrefix(title, "Checkout returns 502") || strings.Contains(title, "second line") {
		t.Errorf("title = %q", title)
	}
	if !strings.Contains(summary, "second line") {
		t.Errorf("summary = %q; want the whole message", summary)
	}
	// The declaration records which message it came from.
	s := bot.Submission{Platform: bot.PlatformConsole, FormID: commands.FormDeclare, Metadata: forms[0].Metadata, User: bot.User{ID: "alice"},
		Values: map[string]string{"title": title, "severity": "SEV2", "summary": summary}}
	e.mux.SubmitForm(context.Background(), s)
	if ev := e.events(e.incident(1))[0]; ev.Ref.Channel != "general" || ev.Ref.ID != "m7" {
		t.Errorf("declared event ref = %+v; want the source message", ev.Ref)
	}
}

func TestQuestionsGetAnAnswer(t *testing.T) {
	e := newEnv(t)
	e.do("alice", "general", "/incident declare DB down")
	inc := e.incident(1)
	ask := func(channel string, direct bool) string {
		r := e.mux.Ask(context.Background(), bot.Question{Platform: bot.PlatformConsole, User: bot.User{ID: "bob"}, Channel: bot.ChannelRef{ID: channel}, Text: "what's up?", Direct: direct})
		if r == nil {
			return ""
		}
		return r.Title + " " + r.Text
	}
	if got := ask(inc.Channel.ID, false); !strings.Contains(got, "INC-1") {
		t.Errorf("mention in the incident channel = %q; want its status", got)
	}
	if got := ask("general", false); !strings.Contains(got, "/incident declare") {
		t.Errorf("mention elsewhere = %q", got)
	}
	if got := ask("D1", true); !strings.Contains(got, "/incident help") {
		t.Errorf("DM = %q", got)
	}
}
