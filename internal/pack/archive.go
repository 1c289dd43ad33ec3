package pack

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
)

// gzipLevel is the fixed compression level of pack archives. The same
// level and the same Go compress/flate implementation give the same bytes.
const gzipLevel = gzip.BestCompression

// writeArchive writes the deterministic tar.gz of a pack to w: every entry
// under the top-level directory top, directories and files sorted by name,
// fixed modes and owners, and index.CreatedAt as every modification time.
// read returns the content of a file of the pack, including index.json.
func writeArchive(w io.Writer, top string, index *Index, read func(name string) ([]byte, error)) error {
	// The entry names: the top-level directory, every parent directory of
	// a file, and the files. A directory name ends in "/", so that it sorts
	// before its own entries.
	names := []string{top + "/", top + "/" + IndexName}
	dirs := map[string]bool{}
	for _, f := range index.Files {
		names = append(names, top+"/"+f.Path)
		for dir := path.Dir(f.Path); dir != "."; dir = path.Dir(dir) {
			dirs[dir] = true
		}
	}
	for dir := range dirs {
		names = append(names, top+"/"+dir+"/")
	}
	slices.Sort(names)

	gz, err := gzip.NewWriterLevel(w, gzipLevel)
	if err != nil {
		return err
	}
	// The gzip header keeps its zero values: no name, no comment and a
	// zero modification time.
	tw := tar.NewWriter(gz)
	for _, name := range names {
		header := &tar.Header{
			Name:    name,
			ModTime: index.CreatedAt,
			Format:  tar.FormatPAX,
		}
		var data []byte
		if strings.HasSuffix(name, "/") {
			header.Typeflag = tar.TypeDir
			header.Mode = 0o755
		} else {
			data, err = read(strings.TrimPrefix(name, top+"/"))
			if err != nil {
				return err
			}
			header.Typeflag = tar.TypeReg
			header.Mode = 0o644
			header.Size = int64(len(data))
		}
		if err := tw.WriteHeader(header); err != nil {
			return fmt.Errorf("writing archive entry %q: %w", name, err)
		}
		if _, err := tw.Write(data); err != nil {
			return fmt.Errorf("writing archive entry %q: %w", name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// Limits bounds what reading an archive may cost, against decompression
// bombs and archives with very many entries.
type Limits struct {
	// MaxEntries is the maximum number of archive entries, directories
	// included. Zero means DefaultMaxEntries.
	MaxEntries int

	// MaxBytes is the maximum total size of the archive's files after
	// decompression. Zero means DefaultMaxBytes.
	MaxBytes int64

	// MaxReadBytes is the size of the largest file whose content is kept
	// in memory, so that [Pack.ReadFile] can return it. A larger file is
	// hashed as it is read and then dropped. Zero means
	// DefaultMaxReadBytes.
	MaxReadBytes int64
}

// The limits [Open] applies. A pack holds JSON, Markdown and signatures,
// so these leave room for far larger packs than the tool writes. The
// documents a verifier parses (index.json, the Sigstore bundles) take
// kilobytes, or a few megabytes with a lineage of many files.
const (
	DefaultMaxEntries   = 10_000
	DefaultMaxBytes     = 512 << 20
	DefaultMaxReadBytes = 64 << 20
)

// withDefaults returns l with each zero field set to its default.
func (l Limits) withDefaults() Limits {
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxReadBytes <= 0 {
		l.MaxReadBytes = DefaultMaxReadBytes
	}
	return l
}

// maxTrailingBytes is how much data after the end-of-archive marker is
// read and discarded, to check the gzip checksum; GNU tar pads archives to
// 10 KiB records, and more is rejected.
const maxTrailingBytes = 1 << 20

// readArchive reads a tar.gz pack from r. It returns the top-level
// directory name and the regular files by path relative to it, each hashed
// and, up to limits.MaxReadBytes, kept in memory. It rejects every entry
// that could write outside that directory on extraction, or that a pack
// never contains. limits must have no zero field (Limits.withDefaults).
func readArchive(r io.Reader, limits Limits) (string, map[string]archiveFile, error) {
	// gzip reads a byte reader byte by byte past the compressed data, so
	// whatever follows the gzip stream is still in br afterwards.
	br := bufio.NewReader(r)
	gz, err := gzip.NewReader(br)
	if err != nil {
		return "", nil, fmt.Errorf("%w: not a gzip stream: %w", ErrInvalidPack, err)
	}
	gz.Multistream(false)
	tail := &tailReader{r: gz}
	tr := tar.NewReader(tail)

	var (
		top     string
		files   = map[string]archiveFile{}
		entries = map[string]bool{} // every entry name below top, true for directories
		parents = map[string]bool{} // every directory some entry lies in
		total   int64               // bytes of every file
		kept    int64               // bytes of the files kept in memory
	)
	for count := 1; ; count++ {
		header, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if name, ok := tail.sparseHeader(); ok && errors.Is(err, tar.ErrHeader) {
				return "", nil, fmt.Errorf("%w: archive entry %q is a GNU sparse file; a pack contains only regular files and directories", ErrInvalidPack, name)
			}
			return "", nil, fmt.Errorf("%w: reading archive entry %d: %w", ErrInvalidPack, count, err)
		}
		if count > limits.MaxEntries {
			return "", nil, fmt.Errorf("%w: the archive has more than %d entries", ErrInvalidPack, limits.MaxEntries)
		}

		// Check the entry's type and name.
		var isDir bool
		switch header.Typeflag {
		case tar.TypeReg:
		case tar.TypeDir:
			isDir = true
		default:
			kind := typeName(header.Typeflag)
			return "", nil, fmt.Errorf("%w: archive entry %q is %s %s; a pack contains only regular files and directories", ErrInvalidPack, header.Name, article(kind), kind)
		}
		name := header.Name
		if isDir {
			name = strings.TrimSuffix(name, "/")
		}
		if err := ValidatePath(name); err != nil {
			return "", nil, fmt.Errorf("%w: archive entry: %w", ErrInvalidPack, err)
		}
		first, rel, _ := strings.Cut(name, "/")
		if top == "" {
			top = first
		}
		if first != top || (rel == "" && !isDir) {
			return "", nil, fmt.Errorf("%w: archive entry %q is outside the top-level directory %q", ErrInvalidPack, header.Name, top+"/")
		}

		// Reject duplicates and a file that is also a directory.
		if _, ok := entries[name]; ok {
			return "", nil, fmt.Errorf("%w: archive entry %q appears twice", ErrInvalidPack, header.Name)
		}
		if !isDir && parents[name] {
			return "", nil, fmt.Errorf("%w: archive entry %q is a file, but other entries lie inside it", ErrInvalidPack, header.Name)
		}
		for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
			if isDirEntry, ok := entries[dir]; ok && !isDirEntry {
				return "", nil, fmt.Errorf("%w: archive entry %q lies inside %q, which is a file", ErrInvalidPack, header.Name, dir)
			}
			parents[dir] = true
		}
		entries[name] = isDir
		if isDir {
			continue
		}

		// Read the content within the size budget.
		if header.Size < 0 || header.Size > limits.MaxBytes-total {
			return "", nil, fmt.Errorf("%w: the archive's files exceed %d bytes in total (at entry %q)", ErrInvalidPack, limits.MaxBytes, header.Name)
		}
		total += header.Size
		maxRead := limits.MaxReadBytes
		if !parsed(rel) || (rel != IndexName && kept+header.Size > maxKept*limits.MaxReadBytes) {
			maxRead = -1 // hashed, never kept
		}
		file, err := readEntry(tr, header.Size, maxRead)
		if file.inMemory {
			kept += header.Size
		}
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF):
			return "", nil, fmt.Errorf("%w: archive entry %q is truncated", ErrInvalidPack, header.Name)
		case err != nil:
			return "", nil, fmt.Errorf("%w: reading archive entry %q: %w", ErrInvalidPack, header.Name, err)
		}
		files[rel] = file
	}
	if top == "" {
		return "", nil, fmt.Errorf("%w: the archive is empty", ErrInvalidPack)
	}

	// Read to the end of the gzip stream so that its checksum is checked.
	// What follows the end-of-archive marker may only be zero padding.
	n, zero, err := drainPadding(io.LimitReader(gz, maxTrailingBytes+1))
	if err != nil {
		return "", nil, fmt.Errorf("%w: reading the end of the archive: %w", ErrInvalidPack, err)
	}
	if n > maxTrailingBytes {
		return "", nil, fmt.Errorf("%w: more than %d bytes follow the end of the archive", ErrInvalidPack, maxTrailingBytes)
	}
	if !zero {
		return "", nil, fmt.Errorf("%w: data other than zero padding follows the end-of-archive marker inside the gzip stream", ErrInvalidPack)
	}

	// A pack archive is one gzip stream and nothing after it, so appended
	// data, including a second gzip stream, is rejected.
	switch _, err := br.ReadByte(); {
	case err == nil:
		return "", nil, fmt.Errorf("%w: data follows the end of the gzip stream; a pack archive is a single gzip stream", ErrInvalidPack)
	case !errors.Is(err, io.EOF):
		return "", nil, fmt.Errorf("%w: reading past the gzip stream: %w", ErrInvalidPack, err)
	}
	return top, files, nil
}

// readEntry reads the size bytes of an archive entry from r and hashes
// them. It keeps them only when size is at most maxRead, in a buffer
// allocated once, so that memory grows with the kept files and not with
// the archive. A stream that ends early is io.ErrUnexpectedEOF.
// maxKept bounds the content an archive keeps in memory, in multiples of
// Limits.MaxReadBytes: a pack's parsed files are a few JSON documents, so
// more than this is planted, and what comes after it is only hashed.
const maxKept = 3

// parsed reports whether a verifier may read the content of the pack file
// name, a path relative to the pack's root: the index, the attestations
// and the JSON documents at the root. Only those are kept in memory, so
// that other files, listed or not, cost no more than their hashing.
func parsed(name string) bool {
	return name == IndexName || strings.HasPrefix(name, "attestations/") ||
		(!strings.Contains(name, "/") && strings.HasSuffix(name, ".json"))
}

func readEntry(r io.Reader, size, maxRead int64) (archiveFile, error) {
	f := archiveFile{size: size}
	h := sha256.New()
	if size <= maxRead {
		f.data = make([]byte, size)
		if _, err := io.ReadFull(r, f.data); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return archiveFile{}, err
		}
		f.inMemory = true
		h.Write(f.data)
	} else {
		n, err := io.CopyN(h, r, size)
		if n < size && (err == nil || errors.Is(err, io.EOF)) {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return archiveFile{}, err
		}
	}
	f.sha256 = hex.EncodeToString(h.Sum(nil))
	return f, nil
}

// drainPadding reads r to its end and returns the number of bytes read and
// whether all of them were zero.
func drainPadding(r io.Reader) (int64, bool, error) {
	buf := make([]byte, 32<<10)
	var n int64
	zero := true
	for {
		k, err := r.Read(buf)
		n += int64(k)
		for _, b := range buf[:k] {
			if b != 0 {
				zero = false
				break
			}
		}
		if errors.Is(err, io.EOF) {
			return n, zero, nil
		}
		if err != nil {
			return n, zero, err
		}
	}
}

// typeName names a tar entry type for error messages.
func typeName(flag byte) string {
	switch flag {
	case tar.TypeSymlink:
		return "symbolic link"
	case tar.TypeLink:
		return "hard link"
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	case tar.TypeFifo:
		return "named pipe"
	case tar.TypeGNUSparse:
		return "GNU sparse file"
	case tar.TypeCont:
		return "contiguous file (type 7)"
	case tar.TypeGNULongName, tar.TypeGNULongLink:
		return fmt.Sprintf("GNU long name entry (type %c)", flag)
	case tar.TypeXGlobalHeader:
		return "PAX global header (type g)"
	}
	if flag >= '!' && flag <= '~' {
		return fmt.Sprintf("entry of type %c", flag)
	}
	return fmt.Sprintf("entry of type 0x%02x", flag)
}

// article returns "a" or "an" for the type name s.
func article(s string) string {
	if s != "" && strings.ContainsRune("aeiou", rune(s[0])) {
		return "an"
	}
	return "a"
}

// tailReader keeps the last bytes read from a tar stream, so that an entry
// whose header archive/tar rejects can still be named by its type.
type tailReader struct {
	r    io.Reader
	n    int64  // bytes read so far
	tail []byte // the last tailSize bytes read, or fewer at the start
}

const tailSize = 4 << 10

func (t *tailReader) Read(b []byte) (int, error) {
	k, err := t.r.Read(b)
	t.n += int64(k)
	read := b[:k]
	if len(read) >= tailSize {
		t.tail = append(t.tail[:0], read[len(read)-tailSize:]...)
		return k, err
	}
	if keep := tailSize - len(read); len(t.tail) > keep {
		t.tail = append(t.tail[:0], t.tail[len(t.tail)-keep:]...)
	}
	t.tail = append(t.tail, read...)
	return k, err
}

// sparseHeader looks for a GNU sparse entry's header among the last
// blocks read and returns its name. archive/tar rejects some of these
// headers as invalid without saying that the entry is sparse.
func (t *tailReader) sparseHeader() (string, bool) {
	const block = 512
	start := t.n - int64(len(t.tail)) // stream offset of t.tail[0]
	first := (block - start%block) % block
	for off := int(first); off+block <= len(t.tail); off += block {
		h := t.tail[off : off+block]
		if h[156] == tar.TypeGNUSparse && bytes.HasPrefix(h[257:], []byte("ustar")) {
			name, _, _ := bytes.Cut(h[:100], []byte{0})
			return string(name), true
		}
	}
	return "", false
}
