package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime/debug"
)

// ErrDamaged is what a database file that cannot be read safely gives:
// truncated, damaged, or empty. Open never starts a new store in its place.
var ErrDamaged = errors.New("the database file is damaged")

// bbolt's meta page: a 16-byte page header, then magic, version, page
// size, flags, the root bucket (root page id, sequence), the freelist page
// id, the high-water page id, the transaction id and an FNV-64a checksum
// of what comes before it.
const (
	boltMagic      = 0xED0CDAED
	pageHeaderSize = 16
	metaSize       = 4 + 4 + 4 + 4 + 16 + 8 + 8 + 8 + 8
)

// checkFile looks at an existing database file before bbolt maps it: an
// empty file, or one shorter than its own meta page says (cut short: bbolt
// would fault reading past its end), is refused with what to do.
func checkFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // a new store
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() == 0 {
		return fmt.Errorf("%w: %s is empty (0 bytes). Restore the latest backup to it, or remove it to start a new, empty store", ErrDamaged, path)
	}
	buf := make([]byte, pageHeaderSize+metaSize)
	var best struct {
		txid, pages, pageSize uint64
		ok                    bool
	}
	for i := range 2 { // the two meta pages; bbolt uses the newer valid one
		off := int64(i) * 4096
		if i == 1 && best.ok {
			off = int64(best.pageSize)
		}
		if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		m := buf[pageHeaderSize:]
		if binary.LittleEndian.Uint32(m[0:]) != boltMagic {
			continue
		}
		h := fnv.New64a()
		h.Write(m[:metaSize-8])
		if h.Sum64() != binary.LittleEndian.Uint64(m[metaSize-8:]) {
			continue
		}
		txid, pages, size := binary.LittleEndian.Uint64(m[48:]), binary.LittleEndian.Uint64(m[40:]), uint64(binary.LittleEndian.Uint32(m[8:]))
		if !best.ok || txid > best.txid {
			best.txid, best.pages, best.pageSize, best.ok = txid, pages, size, true
		}
	}
	if !best.ok {
		return fmt.Errorf("%w: %s is not a klaxon database, or both of its header pages are damaged. Restore the latest backup to it", ErrDamaged, path)
	}
	if need := int64(best.pages * best.pageSize); fi.Size() < need {
		return fmt.Errorf("%w: %s is %d bytes but its header says %d: it was cut short. Restore the latest backup to it", ErrDamaged, path, fi.Size(), need)
	}
	return nil
}

// damageSafe runs fn, turning a fault or panic inside bbolt (a damaged page) into
// ErrDamaged, instead of a crash with a Go trace.
func damageSafe(path string, fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %s could not be read (%v). Restore the latest backup to it", ErrDamaged, path, p)
		}
	}()
	return fn()
}
