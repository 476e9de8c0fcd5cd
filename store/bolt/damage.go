package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime/debug"
	"syscall"
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
		txid, pages, pageSize, root uint64
		ok                          bool
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
			best.txid, best.pages, best.pageSize, best.root, best.ok = txid, pages, size, binary.LittleEndian.Uint64(m[16:]), true
		}
	}
	if !best.ok {
		return fmt.Errorf("%w: %s is not a klaxon database, or both of its header pages are damaged. Restore the latest backup to it", ErrDamaged, path)
	}
	if need := int64(best.pages * best.pageSize); fi.Size() < need {
		return fmt.Errorf("%w: %s is %d bytes but its header says %d: it was cut short. Restore the latest backup to it", ErrDamaged, path, fi.Size(), need)
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(best.pages*best.pageSize), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return fmt.Errorf("map %s: %w", path, err)
	}
	defer syscall.Munmap(data)
	if err := walkTree(data, best.pageSize, best.pages, best.root); err != nil {
		return fmt.Errorf("%w: %s has a damaged page (%v). Restore the latest backup to it", ErrDamaged, path, err)
	}
	return nil
}

// bbolt's pages: a header (id, flags, count, overflow), then count
// elements of 16 bytes: a branch's (pos, ksize, child page id), a leaf's
// (flags, pos, ksize, vsize), where pos counts from the element. A leaf
// element flagged as a bucket holds the bucket's root page id and
// sequence, followed, for a root of 0, by the bucket's own inline page.
const (
	branchPage     = 0x01
	leafPage       = 0x02
	bucketLeafFlag = 0x01
	elementSize    = 16
	bucketHeader   = 16
)

// walkTree reads every page of the tree of buckets from root, in the
// mapped file data (as bbolt reads it: one map, no copy per page), as bbolt
// does when it opens the file (with NoFreelistSync it rebuilds the free
// list by walking the tree) and checks that each page is the page it
// should be and that its elements fit in it. bbolt makes that walk in a
// goroutine of its own, where a damaged page is a panic nothing can
// recover; here it is an error.
func walkTree(data []byte, pageSize, pages, root uint64) error {
	seen := make([]uint64, pages/64+1) // a bit per page
	var visit func(id uint64, inline []byte) error
	visit = func(id uint64, inline []byte) error {
		buf := inline
		if buf == nil {
			if id < 2 || id >= pages {
				return fmt.Errorf("page %d is outside the file's %d pages", id, pages)
			}
			if seen[id/64]&(1<<(id%64)) != 0 {
				return fmt.Errorf("page %d is reached twice", id)
			}
			seen[id/64] |= 1 << (id % 64)
			buf = data[id*pageSize : (id+1)*pageSize]
			if got := binary.LittleEndian.Uint64(buf); got != id {
				return fmt.Errorf("page %d says it is page %d", id, got)
			}
			if overflow := uint64(binary.LittleEndian.Uint32(buf[12:])); overflow > 0 {
				if id+overflow >= pages {
					return fmt.Errorf("page %d runs past the file's %d pages", id, pages)
				}
				buf = data[id*pageSize : (id+1+overflow)*pageSize]
			}
		}
		if len(buf) < pageHeaderSize {
			return fmt.Errorf("an inline bucket in page %d is cut short", id)
		}
		flags, count := binary.LittleEndian.Uint16(buf[8:]), int(binary.LittleEndian.Uint16(buf[10:]))
		if flags != branchPage && flags != leafPage {
			return fmt.Errorf("page %d is neither a branch nor a leaf (flags %#x)", id, flags)
		}
		if pageHeaderSize+count*elementSize > len(buf) {
			return fmt.Errorf("page %d has more elements (%d) than fit in it", id, count)
		}
		for i := range count {
			at := pageHeaderSize + i*elementSize
			e := buf[at : at+elementSize]
			if flags == branchPage {
				pos, ksize := int(binary.LittleEndian.Uint32(e)), int(binary.LittleEndian.Uint32(e[4:]))
				if at+pos+ksize > len(buf) {
					return fmt.Errorf("a key in page %d runs past it", id)
				}
				if err := visit(binary.LittleEndian.Uint64(e[8:]), nil); err != nil {
					return err
				}
				continue
			}
			eflags, pos := binary.LittleEndian.Uint32(e), int(binary.LittleEndian.Uint32(e[4:]))
			ksize, vsize := int(binary.LittleEndian.Uint32(e[8:])), int(binary.LittleEndian.Uint32(e[12:]))
			start := at + pos + ksize
			if start+vsize > len(buf) || start < 0 {
				return fmt.Errorf("a value in page %d runs past it", id)
			}
			if eflags&bucketLeafFlag == 0 {
				continue
			}
			v := buf[start : start+vsize]
			if len(v) < bucketHeader {
				return fmt.Errorf("a bucket in page %d is cut short", id)
			}
			if sub := binary.LittleEndian.Uint64(v); sub != 0 {
				if err := visit(sub, nil); err != nil {
					return err
				}
			} else if err := visit(id, v[bucketHeader:]); err != nil {
				return err
			}
		}
		return nil
	}
	return visit(root, nil)
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
