package webui

import (
	"bytes"
	"context"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/klaxon-bot/klaxon/bot"
)

// Postmortems is what the editor asks of the use case.
type Postmortems interface {
	// EditPostmortem saves markdown as the next version of incident n's
	// postmortem, as who, and returns its number.
	EditPostmortem(ctx context.Context, who bot.Actor, person string, n int64, markdown string) (int, error)
}

var (
	markdown = goldmark.New(goldmark.WithExtensions(extension.GFM))
	// sanitize keeps what Markdown makes and drops raw HTML, scripts,
	// event handlers and unsafe links (javascript:, data:).
	sanitize = bluemonday.UGCPolicy()
)

// render turns Markdown into HTML that is safe to show: goldmark leaves
// raw HTML out, and bluemonday removes anything dangerous that is left.
func render(md string) template.HTML {
	var b bytes.Buffer
	if err := markdown.Convert([]byte(md), &b); err != nil {
		return template.HTML(template.HTMLEscapeString(md))
	}
	return template.HTML(sanitize.SanitizeBytes(b.Bytes()))
}

type postmortemData struct {
	Number   int64
	Title    string
	Text     string
	Preview  template.HTML
	Versions []versionRow
	Diff     []diffLine
	DiffOf   string
	Viewing  int // the version shown, 0: the current text
	Previewd bool
}

type versionRow struct {
	bot.PostmortemVersion
	Name string
}

func (u *UI) handlePostmortem(w http.ResponseWriter, r *http.Request, s *bot.Session) {
	inc, ok := u.incident(w, r, s)
	if !ok {
		return
	}
	d, err := u.postmortemData(r.Context(), inc)
	if err != nil {
		u.log.Error().Err(err).Msg("reading a postmortem")
		u.problem(w, r, http.StatusInternalServerError, "Postmortem", "klaxon could not read the postmortem.")
		return
	}
	q := r.URL.Query()
	byN := func(n int) (string, bool) {
		for _, v := range d.Versions {
			if v.N == n {
				return v.Markdown, true
			}
		}
		return "", false
	}
	if v, err := strconv.Atoi(q.Get("v")); err == nil {
		if text, ok := byN(v); ok {
			d.Text, d.Preview, d.Viewing = text, render(text), v
		}
	}
	a, errA := strconv.Atoi(q.Get("compare"))
	b, errB := strconv.Atoi(q.Get("with"))
	if errA == nil && errB == nil {
		old, ok1 := byN(a)
		cur, ok2 := byN(b)
		if ok1 && ok2 {
			d.Diff, d.DiffOf = diffLines(old, cur), "version "+strconv.Itoa(a)+" → version "+strconv.Itoa(b)
		}
	}
	u.render(w, r, http.StatusOK, "postmortem", page{Title: "Postmortem of INC-" + strconv.FormatInt(inc.Number, 10), Person: u.person(s), CSRF: s.CSRF, Data: d, Flash: q.Get("said")})
}

func (u *UI) postmortemData(ctx context.Context, inc *bot.Incident) (postmortemData, error) {
	d := postmortemData{Number: inc.Number, Title: inc.Title}
	md, err := u.cfg.Store.Postmortem(ctx, inc.ID)
	if err != nil && bot.ErrorCode(err) != bot.ENOTFOUND {
		return d, err
	}
	d.Text = string(md)
	if d.Text == "" {
		d.Text = "# " + inc.Key() + ": " + inc.Title + "\n\n## Summary\n\n## Impact\n\n## Timeline\n\n## Root cause\n\n## Follow-ups\n"
	}
	d.Preview = render(d.Text)
	vs, err := u.cfg.Store.PostmortemVersions(ctx, inc.ID)
	if err != nil {
		return d, err
	}
	for i := len(vs) - 1; i >= 0; i-- { // newest first
		name := vs[i].By
		if p, ok := u.cfg.People.Get(vs[i].By); ok {
			name = p.Name
		}
		d.Versions = append(d.Versions, versionRow{PostmortemVersion: vs[i], Name: name})
	}
	return d, nil
}

// handlePostmortemPost saves, previews or shares, by the button pressed.
func (u *UI) handlePostmortemPost(w http.ResponseWriter, r *http.Request, s *bot.Session) {
	inc, ok := u.incident(w, r, s)
	if !ok {
		return
	}
	back := u.cfg.BasePath + "/incidents/" + strconv.FormatInt(inc.Number, 10) + "/postmortem"
	text := r.PostForm.Get("markdown")
	switch r.PostForm.Get("do") {
	case "render":
		// The live preview: the rendered fragment only, nothing saved.
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(render(text)))
	case "preview":
		d, err := u.postmortemData(r.Context(), inc)
		if err != nil {
			u.problem(w, r, http.StatusInternalServerError, "Postmortem", "klaxon could not read the postmortem.")
			return
		}
		d.Text, d.Preview, d.Previewd = text, render(text), true
		u.render(w, r, http.StatusOK, "postmortem", page{Title: "Postmortem of " + inc.Key(), Person: u.person(s), CSRF: s.CSRF, Data: d,
			Flash: "Preview: not saved yet."})
	case "save":
		n, err := u.cfg.Postmortems.EditPostmortem(r.Context(), actor(u.person(s), inc.Platform), s.Person, inc.Number, text)
		said := "Saved version " + strconv.Itoa(n) + "."
		if err != nil {
			said = bot.ErrorMessage(err)
		}
		http.Redirect(w, r, back+"?said="+url.QueryEscape(said), http.StatusSeeOther)
	case "share":
		said := u.run(r.Context(), s, inc.Platform, "/incident postmortem "+inc.Key())
		if strings.TrimSpace(said) == "" {
			said = "Shared in the incident's channel."
		}
		http.Redirect(w, r, back+"?said="+url.QueryEscape(said), http.StatusSeeOther)
	default:
		u.problem(w, r, http.StatusBadRequest, "Postmortem", "Save, Preview or Share.")
	}
}

// diffLine is one line of a comparison: kept, added (+) or removed (-).
type diffLine struct {
	Op, Text string
}

// diffLines compares two texts line by line (longest common subsequence);
// texts too long to compare this way are shown whole, removed then added.
func diffLines(a, b string) []diffLine {
	x, y := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(x)*len(y) > 4_000_000 {
		var out []diffLine
		for _, l := range x {
			out = append(out, diffLine{"-", l})
		}
		for _, l := range y {
			out = append(out, diffLine{"+", l})
		}
		return out
	}
	// lcs[i][j] is the LCS length of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []diffLine
	i, j := 0, 0
	for i < len(x) && j < len(y) {
		switch {
		case x[i] == y[j]:
			out = append(out, diffLine{" ", x[i]})
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			out = append(out, diffLine{"-", x[i]})
			i++
		default:
			out = append(out, diffLine{"+", y[j]})
			j++
		}
	}
	for ; i < len(x); i++ {
		out = append(out, diffLine{"-", x[i]})
	}
	for ; j < len(y); j++ {
		out = append(out, diffLine{"+", y[j]})
	}
	return out
}
