package commands_test

import (
	"context"
	"strings"
	"testing"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/commands/commandstest"
)

var testTypes = commandstest.Types

var withTypes = commandstest.WithTypes()

func TestIncidentTypesDeclare(t *testing.T) {
	e := newEnv(t, withTypes)
	for _, bad := range []struct{ text, want string }{
		{"/incident declare Laptop stolen type:secrity", `"secrity" is not an incident type; pick one of security, customer, internal`},
		{"/incident declare Laptop stolen type:security reporter:@bob", "A security incident needs Attack vector, e.g. `vector:phishing`"},
		{"/incident declare Laptop stolen type:security reporter:@bob vector:ransom", "Attack vector must be one of phishing, malware"},
		{"/incident declare Laptop stolen type:security reporter:bob vector:malware", "Reporter must be a person"},
		{"/incident declare Checkout slow customer:acme", "`customer:` belongs to an incident type: add `type:` first"},
		{"/incident declare Checkout slow type:security customer:acme reporter:@bob vector:malware", "A security incident has no field `customer`"},
	} {
		if got := e.do("alice", "general", bad.text); !strings.Contains(got, bad.want) {
			t.Errorf("%s:\n got %s\nwant %s", bad.text, got, bad.want)
		}
	}
	if n := e.incidentCount(); n != 0 {
		t.Fatalf("refused declarations wrote %d incidents", n)
	}

	if _, err := e.console.CreateChannel(context.Background(), bot.ChannelSpec{Name: "security-leads", Private: true}); err != nil {
		t.Fatal(err)
	}
	e.do("alice", "general", "/incident declare Laptop stolen type:SECURITY reporter:@bob vector:Phishing")
	inc := e.incident(1)
	if inc.Type != "security" || !inc.Private || inc.Fields["reporter"] != "bob" || inc.Fields["vector"] != "phishing" {
		t.Fatalf("incident: type %q private %v fields %v", inc.Type, inc.Private, inc.Fields)
	}
	if inc.Channel.Name != "sec-1" {
		t.Errorf("channel %q, want the type's pattern sec-1", inc.Channel.Name)
	}
	// Private, yet announced in the type's own channel; not in the public one.
	if msgs := e.console.Messages("security-leads"); len(msgs) != 1 || !strings.Contains(msgs[0], "INC-1") || !strings.Contains(msgs[0], "type security") {
		t.Errorf("security-leads: %q", msgs)
	}
	if msgs := e.console.Messages("incidents"); len(msgs) != 0 {
		t.Errorf("a security incident was announced publicly: %q", msgs)
	}
	status := e.do("alice", inc.Channel.ID, "/incident status")
	for _, want := range []string{"Type", "Security", "Reporter", "@bob", "Attack vector", "phishing"} {
		if !strings.Contains(status, want) {
			t.Errorf("status lacks %q:\n%s", want, status)
		}
	}

	// A customer-facing incident: announced as usual, with its fields.
	e.do("alice", "general", `/incident declare "Checkout slow" type:customer customer:"Acme Corp" ticket:ZD-77`)
	inc2 := e.incident(2)
	if inc2.Private || inc2.Fields["customer"] != "Acme Corp" || inc2.Fields["ticket"] != "ZD-77" || inc2.Channel.Name != "inc-2-checkout-slow" {
		t.Fatalf("customer incident: %+v", inc2)
	}
	if msgs := e.console.Messages("incidents"); len(msgs) != 1 || !strings.Contains(msgs[0], "type customer") {
		t.Errorf("incidents: %q", msgs)
	}

	// The postmortem names the type and the fields.
	e.do("alice", inc.Channel.ID, "/incident resolve")
	pm, err := e.store.Postmortem(context.Background(), inc.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| Type | Security |", "| Reporter | @bob |", "| Attack vector | phishing |"} {
		if !strings.Contains(string(pm), want) {
			t.Errorf("postmortem lacks %q", want)
		}
	}

	// The status page: a customer-facing incident shows; a type kept off
	// it does not, nor does a private one.
	e.do("alice", "general", "/incident declare Build farm down type:internal")
	incs, _ := e.store.ListIncidents(context.Background(), bot.IncidentFilter{})
	page := commands.BuildStatusPage(incs, nil, bot.DefaultSeverities(), testTypes, e.clock.Now())
	var shown []string
	for _, p := range append(page.Active, page.History...) {
		shown = append(shown, p.Key)
	}
	if strings.Join(shown, ",") != "INC-2" {
		t.Errorf("status page shows %v, want only INC-2", shown)
	}
}

// The declaration form offers the types and every type's fields; a
// type's required field is asked for next to the field.
func TestIncidentTypesInTheForm(t *testing.T) {
	var forms []bot.Form
	e := newEnv(t, withTypes, withForms(&forms))
	e.mux.Dispatch(context.Background(), &bot.Request{Platform: bot.PlatformConsole, User: bot.User{ID: "alice"}, Channel: bot.ChannelRef{ID: "general"},
		Text: "/incident declare", Trigger: "trig-1"})
	if len(forms) != 1 {
		t.Fatalf("forms: %d", len(forms))
	}
	var ids []string
	for _, f := range forms[0].Fields {
		ids = append(ids, f.ID)
		if f.ID == commands.CustomFieldID("vector") && (f.Kind != bot.FieldSelect || len(f.Options) != 2 || f.Label != "Attack vector (Security, required)") {
			t.Errorf("vector field: %+v", f)
		}
		if want := "🌐 The title goes on the public status page, unless the incident is private or of a type kept off it (Security, Internal)."; f.ID == commands.FieldTitle && f.Hint != want {
			t.Errorf("title hint %q, want %q", f.Hint, want)
		}
		if f.ID == commands.CustomFieldID("reporter") && f.Kind != bot.FieldUser {
			t.Errorf("reporter field: %+v", f)
		}
	}
	if want := "title severity service summary type cf_reporter cf_vector cf_customer cf_ticket commander private"; strings.Join(ids, " ") != want {
		t.Errorf("form fields: %v", ids)
	}
	sub := bot.Submission{Platform: bot.PlatformConsole, FormID: commands.FormDeclare, User: bot.User{ID: "alice", Name: "alice"},
		Values: map[string]string{commands.FieldTitle: "Laptop stolen", commands.FieldSeverity: "SEV2", commands.FieldType: "security",
			commands.CustomFieldID("reporter"): "bob"}}
	err := e.mux.ValidateForm(context.Background(), sub)
	fe, ok := err.(bot.FieldErrors)
	if !ok || len(fe) != 1 || !strings.Contains(fe[commands.CustomFieldID("vector")], "needs Attack vector") {
		t.Fatalf("ValidateForm = %v", err)
	}
	sub.Values[commands.CustomFieldID("vector")] = "malware"
	if err := e.mux.ValidateForm(context.Background(), sub); err != nil {
		t.Fatal(err)
	}
	e.mux.SubmitForm(context.Background(), sub)
	e.inc.Outbox().Drain(context.Background())
	inc := e.incident(1)
	if inc.Type != "security" || inc.Fields["reporter"] != "bob" || inc.Fields["vector"] != "malware" {
		t.Fatalf("declared from the form: %q %v", inc.Type, inc.Fields)
	}
}
