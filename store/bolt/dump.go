package bolt

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store"
)

var _ store.Dumper = (*Store)(nil)

// Dump implements store.Dumper, from one read transaction.
func (s *Store) Dump(ctx context.Context, fn func(store.Record) error) error {
	emit := func(kind string, v any) error {
		r, err := store.NewRecord(kind, v)
		if err != nil {
			return err
		}
		return fn(r)
	}
	// body re-encodes a stored JSON body as its type encodes it.
	body := func(kind string, v []byte, into any) error {
		if err := store.Decode(v, into); err != nil {
			return fmt.Errorf("decode %s: %w", kind, err)
		}
		return emit(kind, into)
	}
	return s.db.View(func(tx *bbolt.Tx) error {
		for _, c := range []struct {
			name   string
			bucket []byte
		}{{"incident", bucketIncidents}, {"followup", bucketFollowUps}, {"job", bucketJobs}} {
			if err := emit(store.KindCounter, store.Counter{Name: c.name, N: int64(tx.Bucket(c.bucket).Sequence())}); err != nil {
				return err
			}
		}
		tl := tx.Bucket(bucketTimeline)
		err := tx.Bucket(bucketIncidents).ForEach(func(k, v []byte) error {
			if err := body(store.KindIncident, v, &bot.Incident{}); err != nil {
				return err
			}
			if b := tl.Bucket(k); b != nil {
				return b.ForEach(func(_, v []byte) error { return body(store.KindEvent, v, &bot.Event{}) })
			}
			return nil
		})
		if err != nil {
			return err
		}
		err = tx.Bucket(bucketSeen).ForEach(func(k, v []byte) error {
			if len(v) != 32 {
				return nil
			}
			id, _ := uuid.FromBytes(v[:16])
			return emit(store.KindSeen, store.Seen{SourceID: string(k), IncidentID: id, Seq: binary.BigEndian.Uint64(v[16:24]), At: time.Unix(0, int64(binary.BigEndian.Uint64(v[24:]))).UTC()})
		})
		if err != nil {
			return err
		}
		each := func(bucket []byte, fn func(k, v []byte) error) error { return tx.Bucket(bucket).ForEach(fn) }
		steps := []func() error{
			func() error {
				return each(bucketPages, func(_, v []byte) error { return body(store.KindPage, v, &bot.Page{}) })
			},
			func() error {
				return each(bucketDeliveries, func(_, v []byte) error { return body(store.KindDelivery, v, &bot.Delivery{}) })
			},
			func() error {
				return each(bucketPageRefs, func(k, v []byte) error {
					id, _ := uuid.FromBytes(v)
					return emit(store.KindPageRef, store.PageRef{Ref: string(k), PageID: id})
				})
			},
			func() error {
				return each(bucketReminders, func(k, v []byte) error {
					id, _ := uuid.FromBytes(k[:16])
					return emit(store.KindReminder, bot.Reminder{IncidentID: id, Kind: string(k[16:]), At: time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()})
				})
			},
			func() error {
				return each(bucketFollowUps, func(_, v []byte) error { return body(store.KindFollowUp, v, &bot.FollowUp{}) })
			},
			func() error {
				return each(bucketPostmortems, func(k, v []byte) error {
					id, _ := uuid.FromBytes(k)
					return emit(store.KindPostmortem, store.Postmortem{IncidentID: id, Markdown: v})
				})
			},
			func() error {
				return each(bucketAlertKeys, func(k, v []byte) error {
					id, _ := uuid.FromBytes(v)
					return emit(store.KindAlertKey, store.AlertKey{Key: string(k), IncidentID: id})
				})
			},
			func() error {
				return each(bucketOnCall, func(_, v []byte) error { return body(store.KindOnCall, v, &bot.OnCallChange{}) })
			},
			func() error {
				return each(bucketCursors, func(k, v []byte) error {
					return emit(store.KindCursor, store.Cursor{Key: string(k), At: time.Unix(0, int64(binary.BigEndian.Uint64(v))).UTC()})
				})
			},
			func() error {
				return each(bucketHeartbeats, func(_, v []byte) error { return body(store.KindHeartbeat, v, &bot.HeartbeatState{}) })
			},
			func() error {
				return each(bucketNamed, func(k, v []byte) error {
					var ref bot.MessageRef
					if err := store.Decode(v, &ref); err != nil {
						return err
					}
					return emit(store.KindNamed, store.Named{Name: string(k), Ref: ref})
				})
			},
			func() error {
				return each(bucketProfiles, func(_, v []byte) error { return body(store.KindProfile, v, &bot.Profile{}) })
			},
			func() error {
				return each(bucketSubscribers, func(_, v []byte) error { return body(store.KindSubscriber, v, &bot.Subscriber{}) })
			},
			func() error {
				return each(bucketPostmortemVersions, func(_, v []byte) error {
					return body(store.KindPostmortemVersion, v, &bot.PostmortemVersion{})
				})
			},
			func() error {
				co := tx.Bucket(bucketJobsCoalesce)
				return each(bucketJobs, func(k, v []byte) error {
					var j bot.Job
					if err := store.Decode(v, &j); err != nil {
						return err
					}
					wanted := co.Get(append(append([]byte(nil), keyWanted...), k...)) != nil
					return emit(store.KindJob, store.JobRecord{Job: j, Wanted: wanted})
				})
			},
		}
		for _, step := range steps {
			if err := step(); err != nil {
				return err
			}
		}
		return nil
	})
}

// Load implements store.Dumper: it writes records into an empty store in one
// transaction, with every index.
func (s *Store) Load(ctx context.Context, records []store.Record) error {
	return s.update(func(tx *bbolt.Tx) error {
		if k, _ := tx.Bucket(bucketIncidents).Cursor().First(); k != nil {
			return fmt.Errorf("the destination is not empty")
		}
		l := loader{txn{tx}}
		for _, r := range records {
			if err := store.LoadRecord(l, r); err != nil {
				return fmt.Errorf("%s: %w", r.Kind, err)
			}
		}
		return nil
	})
}

// loader writes dump records into bbolt, rebuilding the indexes a bot.Tx
// method would; the kinds a bot.Tx method writes go through txn.
type loader struct{ txn }

var _ store.Loader = loader{}

func (l loader) LoadCounter(c store.Counter) error {
	b := map[string][]byte{"incident": bucketIncidents, "followup": bucketFollowUps, "job": bucketJobs}[c.Name]
	if b == nil {
		return fmt.Errorf("unknown counter %q", c.Name)
	}
	return l.tx.Bucket(b).SetSequence(uint64(c.N))
}

func (l loader) LoadIncident(inc *bot.Incident, _ []byte) error { return putIncident(l.tx, inc, nil) }

func (l loader) LoadEvent(ev *bot.Event, body []byte) error {
	tl, err := l.tx.Bucket(bucketTimeline).CreateBucketIfNotExists(ev.IncidentID[:])
	if err != nil {
		return err
	}
	if ev.Seq > tl.Sequence() {
		if err := tl.SetSequence(ev.Seq); err != nil {
			return err
		}
	}
	return tl.Put(u64(ev.Seq), body)
}

func (l loader) LoadSeen(sn store.Seen) error {
	v := append(append([]byte(nil), sn.IncidentID[:]...), u64(sn.Seq)...)
	v = binary.BigEndian.AppendUint64(v, uint64(sn.At.UnixNano()))
	return l.tx.Bucket(bucketSeen).Put([]byte(sn.SourceID), v)
}

func (l loader) LoadPage(p *bot.Page) error { return putPage(l.tx, p) }

// LoadPostmortemVersion implements store.Loader: the version as it was
// numbered (the postmortem itself comes as its own record).
func (l loader) LoadPostmortemVersion(v bot.PostmortemVersion) error {
	data, err := store.Encode(v)
	if err != nil {
		return err
	}
	return l.tx.Bucket(bucketPostmortemVersions).Put(versionKey(v.IncidentID, v.N), data)
}

func (l loader) LoadPageRef(pr store.PageRef) error {
	return l.tx.Bucket(bucketPageRefs).Put([]byte(pr.Ref), pr.PageID[:])
}

func (l loader) LoadFollowUp(f *bot.FollowUp, body []byte) error {
	return l.tx.Bucket(bucketFollowUps).Put(u64(uint64(f.Number)), body)
}

func (l loader) LoadHeartbeat(hb *bot.HeartbeatState, body []byte) error {
	if err := l.tx.Bucket(bucketHeartbeats).Put([]byte(hb.Name), body); err != nil {
		return err
	}
	return l.tx.Bucket(bucketHeartbeatsDue).Put(timeKey(hb.Due, []byte(hb.Name)), nil)
}

func (l loader) LoadJob(jr store.JobRecord) error {
	tx, j := l.tx, jr.Job
	if err := putJob(tx, &j); err != nil {
		return err
	}
	if j.Status == bot.JobPending && j.Coalesces() {
		if err := tx.Bucket(bucketJobsCoalesce).Put(coalesceKey(j), []byte(j.Key)); err != nil {
			return err
		}
	}
	if jr.Wanted {
		if err := markWanted(tx, []byte(j.Key)); err != nil {
			return err
		}
	}
	if j.Op == bot.OpCreateChannel && j.Status == bot.JobPending && !j.Started.IsZero() {
		if err := tx.Bucket(bucketJobsCreating).Put([]byte(j.Key), creatingValue(&j)); err != nil {
			return err
		}
	}
	// Jobs load in key order, so the first pending one of a queue is its
	// head.
	if head, ok := firstPending(tx, j.Queue); ok && head.Key == j.Key {
		return tx.Bucket(bucketJobsDue).Put(dueKey(&j), []byte(j.Destination()))
	}
	return nil
}
