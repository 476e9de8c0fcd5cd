package store

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/klaxon-bot/klaxon/bot"
)

// calls is a Loader that notes which method each record reached.
type calls []string

func (c *calls) note(s string) error { *c = append(*c, s); return nil }

func (c *calls) LoadCounter(x Counter) error                  { return c.note("counter " + x.Name) }
func (c *calls) LoadIncident(x *bot.Incident, _ []byte) error { return c.note("incident") }
func (c *calls) LoadEvent(x *bot.Event, b []byte) error {
	return c.note("event " + string(b))
}
func (c *calls) LoadSeen(x Seen) error                        { return c.note("seen " + x.SourceID) }
func (c *calls) LoadPage(x *bot.Page) error                   { return c.note("page") }
func (c *calls) LoadPageRef(x PageRef) error                  { return c.note("page_ref " + x.Ref) }
func (c *calls) LoadFollowUp(x *bot.FollowUp, _ []byte) error { return c.note("followup") }
func (c *calls) LoadHeartbeat(x *bot.HeartbeatState, _ []byte) error {
	return c.note("heartbeat " + x.Name)
}
func (c *calls) LoadJob(x JobRecord) error        { return c.note("job " + x.Job.Key) }
func (c *calls) SetReminder(x bot.Reminder) error { return c.note("reminder") }
func (c *calls) PutPostmortem(_ uuid.UUID, md []byte) error {
	return c.note("postmortem " + string(md))
}
func (c *calls) SetAlertIncident(key string, _ uuid.UUID) error  { return c.note("alert_key " + key) }
func (c *calls) AddOnCallChange(x *bot.OnCallChange) error       { return c.note("oncall") }
func (c *calls) SetCursor(key string, _ time.Time) error         { return c.note("cursor " + key) }
func (c *calls) NameMessage(name string, _ bot.MessageRef) error { return c.note("named " + name) }
func (c *calls) PutDelivery(d *bot.Delivery) error               { return c.note("delivery " + d.Key) }
func (c *calls) PutProfile(p *bot.Profile) error                 { return c.note("profile " + p.Person) }
func (c *calls) PutSubscriber(x *bot.Subscriber) error           { return c.note("subscriber " + x.ID) }
func (c *calls) LoadPostmortemVersion(v bot.PostmortemVersion) error {
	return c.note(fmt.Sprintf("postmortem_version %d", v.N))
}

func TestLoadRecordDispatchesEachKind(t *testing.T) {
	recs := []Record{
		{KindCounter, []byte(`{"name":"incident","n":3}`)},
		{KindIncident, []byte(`{}`)},
		{KindEvent, []byte(`{"seq":1}`)},
		{KindSeen, []byte(`{"source_id":"Ev1"}`)},
		{KindPage, []byte(`{}`)},
		{KindDelivery, []byte(`{"key":"p:0:0:alice:pd"}`)},
		{KindPageRef, []byte(`{"ref":"slack|C1|1.2"}`)},
		{KindReminder, []byte(`{}`)},
		{KindFollowUp, []byte(`{}`)},
		{KindPostmortem, []byte(`{"markdown":"IyBoaQ=="}`)},
		{KindAlertKey, []byte(`{"key":"am|g1"}`)},
		{KindOnCall, []byte(`{}`)},
		{KindCursor, []byte(`{"key":"digest"}`)},
		{KindHeartbeat, []byte(`{"name":"backup"}`)},
		{KindNamed, []byte(`{"name":"summary"}`)},
		{KindProfile, []byte(`{"person":"alice"}`)},
		{KindSubscriber, []byte(`{"id":"ab12"}`)},
		{KindPostmortemVersion, []byte(`{"n":2}`)},
		{KindJob, []byte(`{"job":{"key":"j1"}}`)},
	}
	var got calls
	for _, r := range recs {
		if err := LoadRecord(&got, r); err != nil {
			t.Fatalf("%s: %v", r.Kind, err)
		}
	}
	want := []string{"counter incident", "incident", `event {"seq":1}`, "seen Ev1", "page", "delivery p:0:0:alice:pd", "page_ref slack|C1|1.2",
		"reminder", "followup", "postmortem # hi", "alert_key am|g1", "oncall", "cursor digest", "heartbeat backup",
		"named summary", "profile alice", "subscriber ab12", "postmortem_version 2", "job j1"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(recs) != len(Kinds) {
		t.Errorf("the test covers %d kinds; there are %d", len(recs), len(Kinds))
	}
}

func TestLoadRecordRefusesWhatItCannotRead(t *testing.T) {
	var got calls
	if err := LoadRecord(&got, Record{Kind: "widget", Value: []byte(`{}`)}); err == nil || !strings.Contains(err.Error(), `unknown record kind "widget"`) {
		t.Errorf("unknown kind: err = %v", err)
	}
	if err := LoadRecord(&got, Record{Kind: KindIncident, Value: []byte(`{"number":"one"}`)}); err == nil {
		t.Error("an incident whose number is a string loaded")
	}
	if len(got) != 0 {
		t.Errorf("bad records reached the store: %v", got)
	}
}
