package subscribe_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/rs/zerolog"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/commands/commandstest"
	"github.com/klaxon-bot/klaxon/commands/subscribe"
)

// BenchmarkNoticeFanOutPart: with 10,000 subscribers, one part of a
// public update's notice: FanOutPart mail jobs and the notice's next part,
// written in the transaction that records the part done (bbolt, fsync'd).
// It is how long a notice holds the store's write lock at a time.
func BenchmarkNoticeFanOutPart(b *testing.B) {
	e := commandstest.New(b, commandstest.PollEvery(0))
	subs := subscribe.New(e.Store, subscribe.Config{Title: "Acme Status", PublicURL: "https://status.example.com",
		Secret: []byte("0123456789abcdef0123"), Mailer: &mailbox{}, Wake: e.Wake}, e.Clock, zerolog.Nop())
	ctx := context.Background()
	err := e.Store.Update(ctx, func(tx bot.Tx) error {
		for i := range 10_000 {
			addr := fmt.Sprintf("user%d@example.com", i)
			if err := tx.PutSubscriber(&bot.Subscriber{ID: bot.SubscriberID(addr), Email: addr, Confirmed: e.Clock.Now()}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	n := bot.StatusNotice{What: bot.NoticeUpdate, Key: "INC-1", Title: "Checkout is down", Service: "payments", Severity: "SEV1 (Critical)",
		Status: "identified", Text: "Card payments fail; we are rolling back", At: e.Clock.Now()}
	b.ResetTimer()
	for b.Loop() {
		j := bot.Job{Key: "notice", Op: bot.OpStatusNotice, Notice: &n, Status: bot.JobDone}
		then, err := subs.Send(ctx, j, false)
		if err != nil {
			b.Fatal(err)
		}
		if err := e.Store.Update(ctx, func(tx bot.Tx) error { return then(tx, j) }); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	counts, err := e.Store.CountJobs(ctx)
	if err != nil || counts["smtp"][bot.JobPending] < subscribe.FanOutPart || counts["subscribers"][bot.JobPending] < 1 {
		b.Fatalf("mail jobs = %v, %v", counts, err)
	}
}
