package residency

import (
	"debug/elf"
	"os"
	"reflect"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// canary is initialized data: it lives in the executable's writable data
// segment, a private mapping of the file whose changed pages must survive
// Release.
var canary = [4 * 4096]byte{0: 1, 4096: 2, 8192: 3, 12288: 4}

func TestReleaseFreesPagesAndKeepsWrites(t *testing.T) {
	for i := range canary {
		canary[i] = byte(i%251) + 5
	}
	rep, err := Release()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Files < 1 {
		t.Errorf("released %d files, want the test executable at least", rep.Files)
	}
	if rep.Bytes <= 0 || rep.ResidentAfter >= rep.ResidentBefore {
		t.Errorf("released %d bytes, resident %d -> %d bytes; want the resident set smaller", rep.Bytes, rep.ResidentBefore, rep.ResidentAfter)
	}
	for i, b := range canary {
		if want := byte(i%251) + 5; b != want {
			t.Fatalf("canary[%d] = %d after Release, want %d: a written page of the data segment was dropped", i, b, want)
		}
	}
}

// A private mapping of a read-only segment that the process wrote to
// (as a debugger writes a breakpoint) holds the process's own page: it is
// left alone.
func TestReleaseKeepsChangedPagesOfReadOnlySegments(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	text := readOnlySegment(t, exe)
	page := uint64(os.Getpagesize())
	off := roundUp(text.Off, page)
	mem, err := syscall.Mmap(int(f.Fd()), int64(off), int(2*page), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(mem)
	original := mem[page+7]
	mem[page+7] = original + 1
	if err := syscall.Mprotect(mem, syscall.PROT_READ); err != nil {
		t.Fatal(err)
	}
	if _, err := Release(); err != nil {
		t.Fatal(err)
	}
	if mem[page+7] != original+1 {
		t.Fatalf("the changed byte is %d after Release, want %d", mem[page+7], original+1)
	}
}

// A mapping that shows a writable segment read-only (RELRO after the
// dynamic linker's mprotect) is never released, even with no changed page
// reported.
func TestReleasableSkipsWritableSegments(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ef, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	fi, err := os.Stat(exe)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	base := vma{inode: st.Ino, path: exe, major: unix.Major(st.Dev), minor: unix.Minor(st.Dev)}
	page := uint64(os.Getpagesize())
	var ro, rw []vma
	for _, p := range ef.Progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		m := base
		m.offset = p.Off &^ (page - 1)
		m.start = 0x7f0000000000 + m.offset
		m.end = m.start + roundUp(p.Off+p.Filesz, page) - m.offset
		if p.Flags&elf.PF_W != 0 {
			rw = append(rw, m) // shown read-only, as RELRO is
		} else {
			ro = append(ro, m)
		}
	}
	if len(ro) == 0 || len(rw) == 0 {
		t.Fatalf("the test executable has %d read-only and %d writable segments, want both", len(ro), len(rw))
	}
	if got := releasable(rw); len(got) != 0 {
		t.Errorf("releasable(writable segments shown read-only) = %x, want nothing", got)
	}
	got := releasable(ro)
	if len(got) == 0 {
		t.Fatal("releasable(read-only segments) is empty")
	}
	for _, s := range got {
		for _, w := range rw {
			if s.lo < w.end && w.start < s.hi {
				t.Errorf("released range %x-%x overlaps the writable segment's pages %x-%x", s.lo, s.hi, w.start, w.end)
			}
		}
	}
	changed := ro[0]
	changed.anonKB = 4
	if got := releasable([]vma{changed}); len(got) != 0 {
		t.Errorf("releasable(mapping with changed pages) = %x, want nothing", got)
	}
}

func readOnlySegment(t *testing.T, exe string) *elf.Prog {
	t.Helper()
	ef, err := elf.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	for _, p := range ef.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_W == 0 && p.Flags&elf.PF_X != 0 && p.Filesz > 4*uint64(os.Getpagesize()) {
			return p
		}
	}
	t.Fatal("no executable segment in the test binary")
	return nil
}

func TestParseSmaps(t *testing.T) {
	in := `00400000-00404000 r--p 00000000 fd:01 1234                               /opt/my apps/ksml
Size:                 16 kB
Anonymous:             0 kB
Locked:                0 kB
VmFlags: rd mr mw me sd
02731000-02732000 r--p 02330000 fd:01 1234                               /opt/my apps/ksml
Anonymous:             4 kB
Locked:                0 kB
7f0000000000-7f0000021000 rw-p 00000000 00:00 0 
Anonymous:           132 kB
7f1000000000-7f1000001000 r-xp 00000000 103:0a 99 /usr/lib/libx.so (deleted)
Locked:                4 kB
`
	got, err := parseSmaps([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []vma{
		{start: 0x400000, end: 0x404000, offset: 0, major: 0xfd, minor: 1, inode: 1234, path: "/opt/my apps/ksml"},
		{start: 0x2731000, end: 0x2732000, offset: 0x2330000, major: 0xfd, minor: 1, inode: 1234, path: "/opt/my apps/ksml", anonKB: 4},
		{start: 0x7f0000000000, end: 0x7f0000021000, writable: true, anonKB: 132},
		{start: 0x7f1000000000, end: 0x7f1000001000, major: 0x103, minor: 0xa, inode: 99, path: "/usr/lib/libx.so (deleted)", lockedKB: 4},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseSmaps:\n got %+v\nwant %+v", got, want)
	}
	groups := byFile(got)
	if len(groups) != 1 || len(groups[0]) != 2 {
		t.Errorf("byFile = %+v, want one file with two mappings (anonymous and deleted ones skipped)", groups)
	}
	if _, err := parseSmaps([]byte("garbage line\n")); err == nil {
		t.Error("parseSmaps accepted a malformed header")
	}
}

func TestSubtract(t *testing.T) {
	for _, c := range []struct {
		s     span
		holes []span
		want  []span
	}{
		{span{10, 20}, nil, []span{{10, 20}}},
		{span{10, 20}, []span{{0, 10}, {20, 30}}, []span{{10, 20}}},
		{span{10, 20}, []span{{12, 14}}, []span{{10, 12}, {14, 20}}},
		{span{10, 20}, []span{{5, 15}}, []span{{15, 20}}},
		{span{10, 20}, []span{{15, 25}, {0, 11}}, []span{{11, 15}}},
		{span{10, 20}, []span{{0, 30}}, nil},
	} {
		if got := subtract(c.s, c.holes); !reflect.DeepEqual(got, c.want) {
			t.Errorf("subtract(%v, %v) = %v, want %v", c.s, c.holes, got, c.want)
		}
	}
}

// Linkers may start a writable segment on the page where a read-only one
// ends, or let their file ranges overlap; only pages holding nothing but
// read-only segments are released.
func TestReadOnlyRangesExcludeSharedPages(t *testing.T) {
	const page = 0x1000
	progs := []elf.ProgHeader{
		{Type: elf.PT_LOAD, Flags: elf.PF_R, Off: 0, Filesz: 0x2800},
		{Type: elf.PT_LOAD, Flags: elf.PF_R | elf.PF_X, Off: 0x2800, Filesz: 0x6000},
		{Type: elf.PT_LOAD, Flags: elf.PF_R | elf.PF_W, Off: 0x7000, Filesz: 0x2000, Memsz: 0x5000},
		{Type: elf.PT_GNU_RELRO, Flags: elf.PF_R, Off: 0x7000, Filesz: 0x1000},
	}
	maps := []vma{
		{start: 0x400000, end: 0x403000, offset: 0},      // r--p: the first segment
		{start: 0x403000, end: 0x409000, offset: 0x3000}, // r-xp
		{start: 0x609000, end: 0x60a000, offset: 0x9000}, // r--p: a page past the file's read-only part
		{start: 0x608000, end: 0x609000, offset: 0x8000}, // r--p: RELRO-like view of the writable segment
		{start: 0x700000, end: 0x702000, offset: 0x7000, writable: true},
	}
	got := readOnlyRanges(maps, progs, page)
	// The whole pages of the first segment, [0, 0x2000), and of the
	// second, [0x3000, 0x8000), less [0x7000, 0x8000), where the writable
	// segment's file range overlaps it. Nothing of the last two mappings.
	want := []span{{0x400000, 0x402000}, {0x403000, 0x407000}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("readOnlyRanges = %x, want %x", got, want)
	}
}
