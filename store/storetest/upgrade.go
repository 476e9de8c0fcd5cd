package storetest

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

// LegacyDeliveries are two deliveries of page as a page kept them in its
// own record, before "deliveries of their own": one sent after two
// attempts, one SMS still pending.
func LegacyDeliveries(page uuid.UUID) []bot.Delivery {
	return []bot.Delivery{
		{Key: "k1", PageID: page, Pager: "pd", Person: "alice", Status: bot.DeliverySent, Attempts: 2},
		{Key: "k2", PageID: page, Pager: "sms", Person: "bob", To: "+1", Status: bot.DeliveryPending},
	}
}

// CheckUpgradedDeliveries checks that s, upgraded from a store whose page
// kept LegacyDeliveries in its record, has them as rows of their own and
// counts them as before.
func CheckUpgradedDeliveries(t *testing.T, s store.Backend, page uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	ds, err := s.PageDeliveries(ctx, page)
	if err != nil || len(ds) != 2 || ds[0].Key != "k1" || ds[0].Attempts != 2 || ds[1].To != "+1" || ds[1].Status != bot.DeliveryPending {
		t.Fatalf("deliveries after the upgrade = %+v, %v", ds, err)
	}
	c, err := s.Counts(ctx)
	if err != nil || c.Deliveries[bot.DeliverySent] != 1 || c.Deliveries[bot.DeliveryPending] != 1 {
		t.Errorf("counts after the upgrade = %v, %v", c.Deliveries, err)
	}
}
