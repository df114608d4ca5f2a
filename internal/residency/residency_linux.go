package residency

import (
	"bufio"
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// vma is one mapping of /proc/self/smaps.
type vma struct {
	start, end uint64
	writable   bool
	offset     uint64
	major      uint32
	minor      uint32
	inode      uint64
	path       string
	anonKB     int64 // pages copied on write: the process's own changes
	lockedKB   int64
}

// span is a half-open address range [lo, hi).
type span struct{ lo, hi uint64 }

// Release unmaps from this process the resident pages of the read-only
// segments (code and read-only data) of every ELF file it has mapped.
//
// It is safe to call at any time, from any goroutine, while other threads
// run: a released page that is used again is mapped again from the page
// cache. It never touches a writable segment, a mapping with pages the
// process changed (a debugger's breakpoints, for one), or a locked mapping.
// A file that cannot be read, is not ELF, has been replaced since it was
// mapped, or is laid out in a way Release does not recognise is left as it
// is. An error means /proc/self could not be read or madvise failed; the
// ranges released before it stay released, which is harmless.
func Release() (Report, error) {
	var rep Report
	before, err := resident()
	if err != nil {
		return rep, err
	}
	rep.ResidentBefore = before
	maps, err := readSmaps()
	if err != nil {
		return rep, err
	}
	for _, file := range byFile(maps) {
		ranges := releasable(file)
		if len(ranges) == 0 {
			continue
		}
		for _, r := range ranges {
			if _, _, errno := syscall.Syscall(syscall.SYS_MADVISE, uintptr(r.lo), uintptr(r.hi-r.lo), syscall.MADV_DONTNEED); errno != 0 {
				return rep, fmt.Errorf("releasing %s at %#x-%#x: %w", file[0].path, r.lo, r.hi, errno)
			}
			rep.Bytes += int64(r.hi - r.lo)
		}
		rep.Files++
	}
	rep.ResidentAfter, err = resident()
	return rep, err
}

// releasable returns the address ranges of one file's mappings that hold
// only its read-only segments.
func releasable(maps []vma) []span {
	f, err := os.Open(maps[0].path)
	if err != nil {
		return nil
	}
	defer f.Close()
	if !sameFile(f, maps[0]) {
		return nil // replaced on disk since it was mapped
	}
	ef, err := elf.NewFile(f)
	if err != nil {
		return nil
	}
	progs := make([]elf.ProgHeader, len(ef.Progs))
	for i, p := range ef.Progs {
		progs[i] = p.ProgHeader
	}
	return readOnlyRanges(maps, progs, uint64(os.Getpagesize()))
}

// readOnlyRanges returns the address ranges of a file's mappings that show
// whole pages of its read-only loadable segments and nothing else: no page
// of a writable segment (even one it shares with a read-only segment), no
// mapping that is writable, locked or holds pages the process changed.
func readOnlyRanges(maps []vma, progs []elf.ProgHeader, page uint64) []span {
	// In file offsets.
	var readOnly, writable []span
	for _, p := range progs {
		if p.Type != elf.PT_LOAD {
			continue
		}
		if p.Flags&elf.PF_W != 0 {
			writable = append(writable, span{p.Off &^ (page - 1), roundUp(p.Off+p.Filesz, page)})
			continue
		}
		if lo, hi := roundUp(p.Off, page), (p.Off+p.Filesz)&^(page-1); lo < hi {
			readOnly = append(readOnly, span{lo, hi})
		}
	}
	var out []span
	for _, m := range maps {
		if m.writable || m.anonKB != 0 || m.lockedKB != 0 {
			continue
		}
		// The mapping shows file offsets [m.offset, m.offset+size) at
		// [m.start, m.end).
		mapped := span{m.offset, m.offset + (m.end - m.start)}
		for _, ro := range readOnly {
			lo, hi := max(ro.lo, mapped.lo), min(ro.hi, mapped.hi)
			if lo >= hi {
				continue
			}
			for _, part := range subtract(span{lo, hi}, writable) {
				out = append(out, span{m.start + part.lo - m.offset, m.start + part.hi - m.offset})
			}
		}
	}
	return out
}

// subtract returns the parts of s outside every span of holes.
func subtract(s span, holes []span) []span {
	parts := []span{s}
	for _, h := range holes {
		var next []span
		for _, p := range parts {
			if h.hi <= p.lo || h.lo >= p.hi {
				next = append(next, p)
				continue
			}
			if p.lo < h.lo {
				next = append(next, span{p.lo, h.lo})
			}
			if h.hi < p.hi {
				next = append(next, span{h.hi, p.hi})
			}
		}
		parts = next
	}
	return parts
}

func roundUp(v, page uint64) uint64 { return (v + page - 1) &^ (page - 1) }

// sameFile reports whether the opened file is the one the mapping maps.
func sameFile(f *os.File, m vma) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	return st.Ino == m.inode && unix.Major(st.Dev) == m.major && unix.Minor(st.Dev) == m.minor
}

// byFile groups the file mappings by file, in address order.
func byFile(maps []vma) [][]vma {
	type key struct {
		major, minor uint32
		inode        uint64
	}
	groups := map[key][]vma{}
	var order []key
	for _, m := range maps {
		if m.inode == 0 || !strings.HasPrefix(m.path, "/") || strings.HasSuffix(m.path, " (deleted)") {
			continue
		}
		k := key{m.major, m.minor, m.inode}
		if _, seen := groups[k]; !seen {
			order = append(order, k)
		}
		groups[k] = append(groups[k], m)
	}
	out := make([][]vma, 0, len(order))
	for _, k := range order {
		g := groups[k]
		sort.Slice(g, func(i, j int) bool { return g[i].start < g[j].start })
		out = append(out, g)
	}
	return out
}

// readSmaps parses /proc/self/smaps: each mapping's header line and the
// Anonymous and Locked fields.
func readSmaps() ([]vma, error) {
	b, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		return nil, err
	}
	return parseSmaps(b)
}

func parseSmaps(b []byte) ([]vma, error) {
	var maps []vma
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if name, value, ok := strings.Cut(line, ":"); ok && len(maps) > 0 && !strings.Contains(name, " ") && !strings.Contains(name, "-") {
			switch name {
			case "Anonymous":
				maps[len(maps)-1].anonKB = kilobytes(value)
			case "Locked":
				maps[len(maps)-1].lockedKB = kilobytes(value)
			}
			continue
		}
		m, err := parseHeader(line)
		if err != nil {
			return nil, err
		}
		maps = append(maps, m)
	}
	return maps, sc.Err()
}

// parseHeader parses "start-end perms offset major:minor inode [path]".
func parseHeader(line string) (vma, error) {
	fields := strings.Fields(line)
	bad := func() (vma, error) { return vma{}, fmt.Errorf("unexpected line in /proc/self/smaps: %q", line) }
	if len(fields) < 5 {
		return bad()
	}
	var m vma
	lo, hi, ok := strings.Cut(fields[0], "-")
	dmaj, dmin, ok2 := strings.Cut(fields[3], ":")
	if !ok || !ok2 || len(fields[1]) < 2 {
		return bad()
	}
	var errs [6]error
	m.start, errs[0] = strconv.ParseUint(lo, 16, 64)
	m.end, errs[1] = strconv.ParseUint(hi, 16, 64)
	m.offset, errs[2] = strconv.ParseUint(fields[2], 16, 64)
	major, e3 := strconv.ParseUint(dmaj, 16, 32)
	minor, e4 := strconv.ParseUint(dmin, 16, 32)
	errs[3], errs[4] = e3, e4
	m.inode, errs[5] = strconv.ParseUint(fields[4], 10, 64)
	for _, err := range errs {
		if err != nil {
			return bad()
		}
	}
	m.major, m.minor = uint32(major), uint32(minor)
	m.writable = fields[1][1] == 'w'
	if len(fields) > 5 {
		// The path is the rest of the line after five fields; it may
		// contain spaces.
		rest := line
		for range 5 {
			rest = strings.TrimLeft(rest, " ")
			rest = rest[strings.IndexByte(rest, ' '):]
		}
		m.path = strings.TrimLeft(rest, " ")
	}
	return m, nil
}

func kilobytes(v string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
	return n
}

// resident returns the process's resident set in bytes.
func resident() (int64, error) {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(string(b))
	if len(fields) < 2 {
		return 0, fmt.Errorf("unexpected /proc/self/statm: %q", b)
	}
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("unexpected /proc/self/statm: %q", b)
	}
	return pages * int64(os.Getpagesize()), nil
}
