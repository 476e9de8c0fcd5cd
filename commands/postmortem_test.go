package commands_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands"
	"github.com/klaxon-bot/klaxon/internal/golden"
	"github.com/klaxon-bot/klaxon/templates"
)

// hostileIncident runs an incident whose chat is full of text that could
// break Markdown, and returns its postmortem.
func hostileIncident(t *testing.T) (*env, []byte, []byte) {
	e := newEnv(t)
	e.do("alice", "general", "/incident declare Checkout | payments down sev:2 service:payments")
	inc := e.incident(1)
	ch := inc.Channel.ID
	say := func(user, text string, minutes int) string {
		e.clock.Set(t0.Add(time.Duration(minutes) * time.Minute))
		id := "msg-" + user + "-" + text[:min(8, len(text))]
		e.mux.Activity(ctx(), bot.Activity{Platform: bot.PlatformConsole, Channel: bot.ChannelRef{ID: ch}, User: bot.User{ID: user, Name: user},
			Kind: bot.EventMessage, Text: text, SourceID: id, Ref: bot.MessageRef{Channel: ch, ID: id}, Time: e.clock.Now()})
		return id
	}
	first := say("bob", "```\nrm -rf / # oops\n```", 1)
	say("bob", "| a | b |\n|---|---|\n# Not a heading\n@here @channel <!everyone> look [link](http://x) *bold* _it_", 2)
	say("carol", strings.Repeat("very long message ", 600), 3) // ~10 KB
	say("carol", "🔥🔥 the primary is gone — عربي mixed RTL text", 4)
	e.mux.Activity(ctx(), bot.Activity{Platform: bot.PlatformConsole, Channel: bot.ChannelRef{ID: ch}, User: bot.User{ID: "alice", Name: "alice"},
		Kind: bot.EventReaction, Emoji: "📌", Text: "```rm -rf``` pinned", SourceID: "pin-1", Ref: bot.MessageRef{Channel: ch, ID: first}, Time: t0.Add(5 * time.Minute)})
	e.clock.Set(t0.Add(6 * time.Minute))
	e.do("bob", ch, "/incident ack")
	e.clock.Set(t0.Add(7 * time.Minute))
	e.do("alice", ch, "/incident sev 1")
	e.do("alice", ch, "/incident note rolled back the | config")
	e.do("alice", ch, "/incident followup Alert on replica lag @bob due:2026-12-01")
	e.clock.Set(t0.Add(40 * time.Minute))
	e.do("alice", ch, "/incident mitigate")
	e.clock.Set(t0.Add(55 * time.Minute))
	e.do("alice", ch, "/incident resolve config rolled back # for good")
	pm, err := incidents(e).Reports().Postmortem(context.Background(), e.incident(1))
	if err != nil {
		t.Fatal(err)
	}
	return e, pm.Markdown, pm.Log
}

func TestPostmortemGolden(t *testing.T) {
	_, md, log := hostileIncident(t)
	golden.Check(t, "postmortem.golden.md", md)
	if !strings.Contains(string(log), "very long message very long message") || !strings.Contains(string(log), "rm -rf / # oops") {
		t.Errorf("the full log lacks the raw messages")
	}
}

// TestPostmortemIsSoundMarkdown parses the draft with a CommonMark parser:
// chat text must not add headings, break tables or open code blocks.
func TestPostmortemIsSoundMarkdown(t *testing.T) {
	_, md, _ := hostileIncident(t)
	doc := goldmark.New(goldmark.WithExtensions(extension.GFM)).Parser().Parse(text.NewReader(md))
	var headings []string
	tables, codeBlocks := 0, 0
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			var title strings.Builder
			for i := 0; i < n.Lines().Len(); i++ {
				seg := n.Lines().At(i)
				title.Write(seg.Value(md))
			}
			headings = append(headings, strings.Repeat("#", n.Level)+" "+title.String())
		case *east.Table:
			tables++
		case *ast.FencedCodeBlock, *ast.CodeBlock:
			codeBlocks++
		}
		return ast.WalkContinue, nil
	})
	// Heading text keeps its escapes: the title's pipe stays in one heading.
	want := []string{`# INC-1: Checkout \| payments down`, "## Summary", "## Impact", "## Timeline", "### Key events", "### Lifecycle",
		"## Root cause", "## Resolution", "## Action items", "## Metrics", "## Participants", "## Lessons learned"}
	if strings.Join(headings, "\n") != strings.Join(want, "\n") {
		t.Errorf("headings:\n%s\nwant\n%s", strings.Join(headings, "\n"), strings.Join(want, "\n"))
	}
	if tables != 3 || codeBlocks != 0 {
		t.Errorf("%d tables and %d code blocks; want 3 and 0", tables, codeBlocks)
	}
	if strings.Contains(string(md), "@here") || strings.Contains(string(md), "@channel") {
		t.Error("a broadcast mention survived")
	}
	for _, want := range []string{"| Severity | SEV1 (critical) (history: SEV2 → SEV1) |", "| Time to acknowledge (TTA) | 6m |", "| Time to resolve (TTR) | 55m |",
		"- [ ] F-1: Alert on replica lag (owner @bob) (due 2026-12-01)", "config rolled back \\# for good", "| @carol |  | 2 |", "| @bob | acknowledged | 2 |",
		"| @alice | commander, declared, gave roles, changed the severity, added notes, added follow-ups, mitigated, resolved | 0 |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("draft lacks %q", want)
		}
	}
}

// countingFS counts how often the postmortem template is read: once per
// render (template.ParseFS stats it, then reads it).
type countingFS struct {
	fs.FS
	reads *atomic.Int32
}

func (c countingFS) Stat(name string) (fs.FileInfo, error) { return fs.Stat(c.FS, name) }

func (c countingFS) Open(name string) (fs.File, error) {
	if name == commands.PostmortemTemplate {
		c.reads.Add(1)
	}
	return c.FS.Open(name)
}

// Resolving is one change: the transaction that resolves stores the draft
// (rendered once, with the resolution in it) and queues its upload; the
// upload posts that stored text, and so does the API, until someone asks
// for a fresh one.
func TestResolveStoresTheDraftItUploads(t *testing.T) {
	var reads atomic.Int32
	dir := t.TempDir()
	e := newEnv(t, withPolicy(func(c *commands.Config) { c.Templates = countingFS{FS: templates.FS, reads: &reads} }))
	e.console.SaveFilesIn(dir)
	e.do("alice", "general", "/incident declare Checkout is down sev:2 service:payments")
	ch := e.incident(1).Channel.ID
	e.clock.Set(t0.Add(20 * time.Minute))
	e.do("alice", ch, "/incident resolve rolled back the deploy")
	if n := reads.Load(); n != 1 {
		t.Errorf("resolving rendered the draft %d times; want once", n)
	}
	stored, err := e.store.Postmortem(context.Background(), e.incident(1).ID)
	if err != nil {
		t.Fatalf("no draft stored with the resolution: %v", err)
	}
	for _, want := range []string{"rolled back the deploy", "resolved INC-1 after 20m"} {
		if !strings.Contains(string(stored), want) {
			t.Errorf("the stored draft lacks %q:\n%s", want, stored)
		}
	}
	uploaded, err := os.ReadFile(filepath.Join(dir, "INC-1-postmortem.md"))
	if err != nil {
		t.Fatalf("the draft was not uploaded: %v", err)
	}
	if string(uploaded) != string(stored) {
		t.Errorf("the upload posted another text than the stored draft:\nuploaded:\n%s\nstored:\n%s", uploaded, stored)
	}
	if log, err := os.ReadFile(filepath.Join(dir, "INC-1-timeline.txt")); err != nil || !strings.Contains(string(log), "rolled back the deploy") {
		t.Errorf("the full timeline was not uploaded with the resolution in it (%v):\n%s", err, log)
	}
	// A fresh draft on request: rendered again, stored, uploaded again.
	e.clock.Set(t0.Add(30 * time.Minute))
	e.do("alice", ch, "/incident note the fix held")
	e.do("alice", ch, "/incident postmortem")
	if n := reads.Load(); n != 2 {
		t.Errorf("/incident postmortem rendered %d drafts in all; want 2", n)
	}
	fresh, _ := e.store.Postmortem(context.Background(), e.incident(1).ID)
	if !strings.Contains(string(fresh), "the fix held") {
		t.Errorf("the fresh draft lacks the later note:\n%s", fresh)
	}
}
