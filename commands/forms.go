package commands

import (
	"context"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/klaxon-bot/klaxon/bot"
)

// Form ids. Adapters return them with each submission.
const (
	FormDeclare  = "klaxon.declare"
	FormUpdate   = "klaxon.update"
	FormSeverity = "klaxon.severity"
	FormResolve  = "klaxon.resolve"
)

// Field ids of the per-incident forms.
const (
	FieldText = "text"
)

func (c *Interactions) register(m *bot.Mux) {
	m.HandleHome(c.homeIncidents)
	m.HandleHome(c.homeFollowUps)
	m.HandleForm(FormDeclare, bot.FormHandler{Validate: c.validateDeclareForm, Submit: c.submitDeclareForm})
	m.HandleForm(FormUpdate, bot.FormHandler{Validate: c.validateUpdateForm, Submit: c.submitUpdateForm})
	m.HandleForm(FormSeverity, bot.FormHandler{Validate: c.validateSeverityForm, Submit: c.submitSeverityForm})
	m.HandleForm(FormResolve, bot.FormHandler{Validate: c.validateResolveForm, Submit: c.submitResolveForm})

	m.HandleAction(bot.ActionAcknowledge, c.actAcknowledge)
	m.HandleAction(bot.ActionUpdate, c.openIncidentForm(FormUpdate))
	m.HandleAction(bot.ActionSeverity, c.openIncidentForm(FormSeverity))
	m.HandleAction(bot.ActionResolve, c.openIncidentForm(FormResolve))
	m.HandleAction(bot.ShortcutDeclareFromMessage, c.actDeclareFromMessage)
	m.HandleQuestion(c.Answer)
}

// declareForm is the declaration modal, prefilled from in.
func (c *Interactions) declareForm(in DeclareInput, from bot.ChannelRef) bot.Form {
	sevs := make([]bot.Option, len(c.lc.cfg.Severities))
	for i, s := range c.lc.cfg.Severities {
		sevs[i] = bot.Option{Value: s.Name, Label: s.Name + " — " + s.Label}
	}
	initialSev := c.lc.cfg.Severities.Default().Name
	if in.Severity != "" {
		initialSev = in.Severity
	}
	service := bot.FormField{ID: FieldService, Label: "Service", Kind: bot.FieldText, Optional: true, MaxLength: 40, Initial: in.Service, Placeholder: "e.g. payments"}
	if len(c.lc.cfg.Services) > 0 {
		service.Kind = bot.FieldSelect
		for _, s := range c.lc.cfg.Services {
			service.Options = append(service.Options, bot.Option{Value: s.ID, Label: s.Name})
		}
	}
	fields := []bot.FormField{
		{ID: FieldTitle, Label: "Title", Kind: bot.FieldText, MaxLength: bot.MaxTitleRunes, Initial: in.Title, Placeholder: "What is broken, in a few words",
			Hint: c.lc.cfg.formVisibility()},
		{ID: FieldSeverity, Label: "Severity", Kind: bot.FieldSelect, Options: sevs, Initial: initialSev},
		service,
		{ID: FieldSummary, Label: "Summary", Kind: bot.FieldTextArea, Optional: true, MaxLength: bot.MaxTextRunes, Initial: in.Summary, Placeholder: "Who is affected and how"},
	}
	fields = append(fields, c.typeFormFields(in)...)
	fields = append(fields,
		bot.FormField{ID: FieldCommander, Label: "Commander (default: you)", Kind: bot.FieldUser, Optional: true},
		bot.FormField{ID: FieldPrivate, Label: "Private incident (private channel, no announcement, not on the status page)", Kind: bot.FieldCheckbox, Optional: true})
	return bot.Form{
		ID: FormDeclare, Title: "Declare an incident", Submit: "Declare", Channel: from,
		Metadata: encodeRef(in.Source),
		Fields:   fields,
	}
}

// typeFormFields are the declaration form's type select and every type's
// custom fields. A form cannot change with the type picked, so each field
// names its type and is optional here; a type's required fields are
// checked when the form is submitted, next to the field.
func (c *Interactions) typeFormFields(in DeclareInput) []bot.FormField {
	if len(c.lc.cfg.Types) == 0 {
		return nil
	}
	kind := bot.FormField{ID: FieldType, Label: "Type", Kind: bot.FieldSelect, Optional: true, Initial: in.Type}
	for _, t := range c.lc.cfg.Types {
		kind.Options = append(kind.Options, bot.Option{Value: t.ID, Label: t.Name})
	}
	out := []bot.FormField{kind}
	for _, f := range c.lc.cfg.Types.Fields() {
		label := f.Label + " (" + f.Type.Name + ")"
		if f.Required {
			label = f.Label + " (" + f.Type.Name + ", required)"
		}
		ff := bot.FormField{ID: CustomFieldID(f.ID), Label: label, Kind: bot.FieldText, Optional: true, MaxLength: bot.MaxCustomText, Initial: in.Fields[f.ID]}
		switch f.Kind {
		case bot.CustomSelect:
			ff.Kind, ff.MaxLength = bot.FieldSelect, 0
			for _, o := range f.Options {
				ff.Options = append(ff.Options, bot.Option{Value: o, Label: o})
			}
		case bot.CustomUser:
			ff.Kind, ff.MaxLength, ff.Initial = bot.FieldUser, 0, ""
		}
		out = append(out, ff)
	}
	return out
}

// isUserField reports whether custom field id holds a person.
func (c *Interactions) isUserField(id string) bool {
	return slices.ContainsFunc(c.lc.cfg.Types.Fields(), func(f bot.TypedField) bool { return f.ID == id && f.Kind == bot.CustomUser })
}

// encodeRef and decodeRef carry a message reference through form metadata.
func encodeRef(r bot.MessageRef) string {
	if r.IsZero() {
		return ""
	}
	return r.Channel + "/" + r.ID
}

func decodeRef(s string) bot.MessageRef {
	ch, id, ok := strings.Cut(s, "/")
	if !ok {
		return bot.MessageRef{}
	}
	return bot.MessageRef{Channel: ch, ID: id}
}

func (c *Interactions) declareInput(s bot.Submission) DeclareInput {
	in := DeclareInput{
		Title:      strings.TrimSpace(s.Values[FieldTitle]),
		Severity:   s.Values[FieldSeverity],
		Service:    strings.TrimSpace(s.Values[FieldService]),
		Summary:    strings.TrimSpace(s.Values[FieldSummary]),
		Private:    s.Values[FieldPrivate] == "true",
		DeclaredBy: s.User,
		Platform:   s.Platform,
		Source:     decodeRef(s.Metadata),
	}
	if id := s.Values[FieldCommander]; id != "" {
		in.Commander = bot.User{ID: id}
	}
	in.Type = strings.TrimSpace(s.Values[FieldType])
	for key, v := range s.Values {
		id, ok := strings.CutPrefix(key, "cf_")
		if !ok || strings.TrimSpace(v) == "" {
			continue
		}
		if in.Fields == nil {
			in.Fields = map[string]string{}
		}
		if c.isUserField(id) {
			v = bot.User{ID: v}.Mention() // a user picker gives the id
		}
		in.Fields[id] = v
	}
	return in
}

func (c *Interactions) validateDeclareForm(ctx context.Context, s bot.Submission) error {
	if _, _, _, errs := c.lc.checkDeclare(c.declareInput(s)); len(errs) > 0 {
		return errs
	}
	return nil
}

func (c *Interactions) submitDeclareForm(ctx context.Context, s bot.Submission) (*bot.Response, error) {
	return c.lc.declareResponse(ctx, c.declareInput(s))
}

func (c *Interactions) actDeclareFromMessage(ctx context.Context, a bot.Action) (*bot.Response, error) {
	chat, err := c.lc.chat(a.Platform)
	if err != nil {
		return nil, err
	}
	summary := bot.Cut(a.Text, bot.MaxTextRunes)
	title := firstLine(a.Text, bot.MaxTitleRunes)
	form := c.declareForm(DeclareInput{Title: title, Summary: summary, Source: a.Message}, a.Channel)
	if err := chat.OpenForm(ctx, a.Trigger, form); err != nil {
		return nil, bot.Internal(err, "klaxon could not open the declaration form. Use /incident declare instead.")
	}
	return nil, nil
}

// firstLine is the first line of text, cut to max runes at a word boundary.
func firstLine(text string, max int) string {
	line, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
	r := []rune(line)
	if len(r) <= max {
		return line
	}
	cut := string(r[:max-1])
	if i := strings.LastIndexByte(cut, ' '); i > max/2 {
		cut = cut[:i]
	}
	return cut + "…"
}

// incidentFor reads the incident a button or form is about.
func (c *Interactions) incidentFor(ctx context.Context, value string) (*bot.Incident, error) {
	id, err := uuid.Parse(value)
	if err != nil {
		return nil, bot.Errorf(bot.EINVALID, "That button does not name an incident.")
	}
	return c.store.Incident(ctx, id)
}

func (c *Interactions) actAcknowledge(ctx context.Context, a bot.Action) (*bot.Response, error) {
	inc, err := c.incidentFor(ctx, a.Value)
	if err != nil {
		return nil, err
	}
	return c.lc.Acknowledge(ctx, bot.Actor{User: a.User, Platform: a.Platform, Channel: a.Channel}, inc.ID)
}

// openIncidentForm opens the form for a button on an incident's summary.
func (c *Interactions) openIncidentForm(formID string) bot.ActionFunc {
	return func(ctx context.Context, a bot.Action) (*bot.Response, error) {
		inc, err := c.incidentFor(ctx, a.Value)
		if err != nil {
			return nil, err
		}
		chat, err := c.lc.chat(a.Platform)
		if err != nil {
			return nil, err
		}
		form := bot.Form{ID: formID, Metadata: inc.ID.String(), Channel: a.Channel}
		switch formID {
		case FormUpdate:
			form.Title, form.Submit = "Post an update", "Post"
			form.Fields = []bot.FormField{{ID: FieldText, Label: "Update for " + inc.Key(), Kind: bot.FieldTextArea, MaxLength: bot.MaxTextRunes, Placeholder: "What do we know, what are we doing, when is the next update"}}
		case FormSeverity:
			form.Title, form.Submit = "Change severity", "Change"
			field := bot.FormField{ID: FieldSeverity, Label: "Severity of " + inc.Key(), Kind: bot.FieldSelect, Initial: inc.Severity.Name}
			for _, s := range c.lc.cfg.Severities {
				field.Options = append(field.Options, bot.Option{Value: s.Name, Label: s.Name + " — " + s.Label})
			}
			form.Fields = []bot.FormField{field}
		case FormResolve:
			form.Title, form.Submit = "Resolve "+inc.Key(), "Resolve"
			form.Fields = []bot.FormField{{ID: FieldSummary, Label: "What fixed it? (optional)", Kind: bot.FieldTextArea, Optional: true, MaxLength: bot.MaxTextRunes}}
		}
		if err := chat.OpenForm(ctx, a.Trigger, form); err != nil {
			return nil, bot.Internal(err, "klaxon could not open the form. Use the /incident command instead.")
		}
		return nil, nil
	}
}

func submitter(s bot.Submission) bot.Actor {
	return bot.Actor{User: s.User, Platform: s.Platform, Channel: s.Channel}
}

func (c *Interactions) validateUpdateForm(ctx context.Context, s bot.Submission) error {
	if err := bot.ValidateText("update", strings.TrimSpace(s.Values[FieldText])); err != nil {
		return bot.FieldErrors{FieldText: bot.ErrorMessage(err)}
	}
	return nil
}

func (c *Interactions) submitUpdateForm(ctx context.Context, s bot.Submission) (*bot.Response, error) {
	inc, err := c.incidentFor(ctx, s.Metadata)
	if err != nil {
		return nil, err
	}
	ch, err := updateChange(strings.TrimSpace(s.Values[FieldText]), false)
	if err != nil {
		return nil, err
	}
	return c.lc.apply(ctx, submitter(s), inc.ID, ch)
}

func (c *Interactions) validateSeverityForm(ctx context.Context, s bot.Submission) error {
	if _, err := c.lc.cfg.Severities.Parse(s.Values[FieldSeverity]); err != nil {
		return bot.FieldErrors{FieldSeverity: bot.ErrorMessage(err)}
	}
	return nil
}

func (c *Interactions) submitSeverityForm(ctx context.Context, s bot.Submission) (*bot.Response, error) {
	inc, err := c.incidentFor(ctx, s.Metadata)
	if err != nil {
		return nil, err
	}
	sev, err := c.lc.cfg.Severities.Parse(s.Values[FieldSeverity])
	if err != nil {
		return nil, err
	}
	return c.lc.apply(ctx, submitter(s), inc.ID, severityChange(sev))
}

func (c *Interactions) validateResolveForm(ctx context.Context, s bot.Submission) error {
	if summary := strings.TrimSpace(s.Values[FieldSummary]); len([]rune(summary)) > bot.MaxTextRunes {
		return bot.FieldErrors{FieldSummary: bot.ErrorMessage(bot.ValidateText("summary", summary))}
	}
	return nil
}

func (c *Interactions) submitResolveForm(ctx context.Context, s bot.Submission) (*bot.Response, error) {
	inc, err := c.incidentFor(ctx, s.Metadata)
	if err != nil {
		return nil, err
	}
	return c.lc.resolve(ctx, submitter(s), inc.ID, strings.TrimSpace(s.Values[FieldSummary]))
}

// Answer replies to a mention or direct message. Until klaxon understands
// questions (who is on call, …), it explains how to reach it; in an
// incident channel it shows the incident.
func (c *Interactions) Answer(ctx context.Context, q bot.Question) (*bot.Response, error) {
	if !q.Direct {
		if inc, err := c.lc.incidentByChannel(ctx, q.Platform, q.Channel.ID); err == nil {
			m := SummaryMessage(inc, c.clock.Now())
			m.Buttons = nil
			return &bot.Response{Message: m, InChannel: true}, nil
		}
	}
	return &bot.Response{InChannel: true, Message: bot.Message{Text: "👋 I run incidents. `/incident declare <title>` starts one; `/incident help` lists everything else."}}, nil
}
