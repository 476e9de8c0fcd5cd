package bolt_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	bbolt "go.etcd.io/bbolt"

	"github.com/klaxon-bot/klaxon/bot"
	"github.com/klaxon-bot/klaxon/store/bolt"
)

// A damaged database file gives a clear error naming the file and what to
// do, never a crash with a Go trace, and never a new empty store in its
// place.
func TestDamagedFilesGiveAClearError(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	s, err := bolt.Open(good, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		inc := newIncident("incident " + strings.Repeat("x", i%50))
		if err := create(s, inc, bot.NewEvent(bot.EventNote, bot.User{ID: "a"}, t0, strings.Repeat("note ", 100))); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	// Damage inside the tree (random pages) would meet bbolt's free-page
	// scan, which runs in a goroutine of its own where a panic cannot be
	// recovered: Open walks the tree itself first. A crash here fails the
	// whole test binary.
	damaged := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	garbage := func(from, to int) []byte {
		b := append([]byte(nil), data...)
		for i := from; i < to && i < len(b); i++ {
			b[i] = byte(rng.IntN(256))
		}
		return b
	}
	cases := map[string][]byte{
		"empty.db":     nil,
		"half.db":      data[:len(data)/2],
		"one-page.db":  data[:4096],
		"headers.db":   garbage(0, 8192),
		"not-bbolt.db": []byte(strings.Repeat("this is a text file\n", 1000)),
	}
	// The pages in use (branches and leaves, not free ones), as bbolt
	// itself lists them.
	var used []int
	probe := filepath.Join(dir, "probe.db")
	if err := os.WriteFile(probe, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bbolt.Open(probe, 0o600, &bbolt.Options{NoFreelistSync: true})
	if err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *bbolt.Tx) error {
		for id := 2; ; id++ {
			info, err := tx.Page(id)
			if err != nil || info == nil {
				return nil
			}
			if info.Type == "branch" || info.Type == "leaf" {
				used = append(used, id)
			}
		}
	})
	db.Close()
	if len(used) < 10 {
		t.Fatalf("only %d pages in use", len(used))
	}
	for i := range 40 {
		from := used[rng.IntN(len(used))] * 4096
		cases[fmt.Sprintf("page-%d.db", i)] = garbage(from, from+4096)
	}
	// A page that claims to be another, as in bbolt's own assertion.
	relabeled := append([]byte(nil), data...)
	binary.LittleEndian.PutUint64(relabeled[used[len(used)/2]*4096:], 9999)
	cases["relabeled.db"] = relabeled
	for name, b := range cases {
		path := damaged(name, b)
		s, err := bolt.Open(path, bolt.Options{})
		if err == nil {
			// Some damage is only found when read: a full check must
			// report it, not crash.
			err = s.Check()
			s.Close()
			if err == nil {
				t.Errorf("%s opened and checked clean", name)
			}
			continue
		}
		if !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v; want the file named", name, err)
		}
		if errors.Is(err, bolt.ErrDamaged) && !strings.Contains(err.Error(), "backup") {
			t.Errorf("%s: %v; want what to do", name, err)
		}
		if fi, _ := os.Stat(path); fi == nil || fi.Size() != int64(len(b)) {
			t.Errorf("%s changed size from %d to %d: it was replaced", name, len(b), fi.Size())
		}
	}
	// A missing file is a new store, unless the caller says it must exist.
	if _, err := bolt.Open(filepath.Join(dir, "typo.db"), bolt.Options{MustExist: true}); err == nil || !strings.Contains(err.Error(), "no database at") {
		t.Errorf("a mistyped path for an offline command: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "typo.db")); !errors.Is(err, os.ErrNotExist) {
		t.Error("opening a mistyped path created a file")
	}
}
