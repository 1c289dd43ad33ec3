package pack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Pack is a pack opened for reading, from a directory or an archive.
type Pack struct {
	// Name is the pack directory's base name, or the top-level directory
	// of an archive.
	Name string

	// Index is the parsed and validated index.json. Its digests are not
	// yet compared with the files: call Verify for that.
	Index *Index

	dir   string                 // the pack directory, when opened from one
	files map[string]archiveFile // the archive's files, when opened from one

	// maxRead is the largest file ReadFile returns, in bytes.
	maxRead int64
}

// archiveFile is a regular file of an archive: its SHA-256 (lowercase
// hex) and size, computed as the archive was read, and its content unless
// the file is larger than the archive's Limits.MaxReadBytes.
type archiveFile struct {
	sha256 string
	size   int64
	// inMemory is true when data is the content.
	inMemory bool
	data     []byte
}

// Open reads the pack at path, which is a pack directory or its .tar.gz
// archive. An archive is read within the default [Limits]: every file is
// hashed as it is read, and only files of at most DefaultMaxReadBytes are
// kept in memory. A directory's files must fit the same total size. Open
// checks that
// index.json parses and is valid, but not the digests. In a directory it
// also rejects symbolic links and other special files before it reads any
// file, though path itself may be a symbolic link to the pack. Errors about
// the pack's content wrap [ErrInvalidPack] and start with path.
func Open(ctx context.Context, path string) (*Pack, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("opening pack: %w", err)
	}
	if info.IsDir() {
		// The walk below does not follow links, so the link that path
		// may be is resolved here: only the root is followed.
		dir, err := filepath.EvalSymlinks(path)
		if err != nil {
			return nil, fmt.Errorf("opening pack: %w", err)
		}
		p := &Pack{Name: filepath.Base(filepath.Clean(path)), dir: dir, maxRead: DefaultMaxReadBytes}
		// Every entry is checked before any is read, so that a named pipe
		// cannot block the reader and a link cannot stand in for a file.
		if _, err := p.present(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if err := p.readIndex(); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return p, nil
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w: it is a %s; pass a pack directory or its .tar.gz archive", path, ErrInvalidPack, modeName(info.Mode().Type()))
	}

	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening pack: %w", err)
	}
	defer f.Close()
	p, err := OpenArchive(ctx, f, Limits{})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// OpenArchive reads a pack from the tar.gz stream r within limits. It
// rejects absolute names, ".." elements, links, devices and other special
// entries, duplicate entries, entries outside a single top-level
// directory, and archives beyond limits.
func OpenArchive(ctx context.Context, r io.Reader, limits Limits) (*Pack, error) {
	limits = limits.withDefaults()
	top, files, err := readArchive(contextReader{ctx: ctx, r: r}, limits)
	if ctxErr := ctx.Err(); ctxErr != nil {
		// The archive reader saw a failed read, not a malformed archive.
		return nil, ctxErr
	}
	if err != nil {
		return nil, err
	}
	p := &Pack{Name: top, files: files, maxRead: limits.MaxReadBytes}
	if err := p.readIndex(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Pack) readIndex() error {
	data, err := p.ReadFile(IndexName)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s is missing", ErrInvalidPack, IndexName)
	}
	if err != nil {
		return err
	}
	var index Index
	if err := json.Unmarshal(data, &index); err != nil {
		return fmt.Errorf("%w: parsing %s: %w", ErrInvalidPack, IndexName, err)
	}
	if err := validateIndex(&index); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalidPack, IndexName, err)
	}
	// The index is not signed, so no byte of it may vary from the form the
	// writer produces: encoding/json would otherwise accept keys in any
	// case, unknown keys and other spacing.
	canonical, err := MarshalIndex(&index)
	if err != nil {
		return err
	}
	if !bytes.Equal(canonical, data) {
		return fmt.Errorf("%w: %s is changed: its bytes differ from the canonical form of its content (keys, order or spacing were edited)", ErrInvalidPack, IndexName)
	}
	p.Index = &index
	return nil
}

// ReadFile returns the content of the file name of the pack, given as a
// slash-separated path relative to the pack's root. It reads any file
// present, listed in the index or not, and does not check its digest. In a
// pack directory, symbolic links that lead outside it are not followed. A
// file that is not a regular file, or that is larger than the pack's
// maximum read size (Limits.MaxReadBytes), is an error wrapping
// [ErrInvalidPack]: the files a verifier parses are small JSON documents.
func (p *Pack) ReadFile(name string) ([]byte, error) {
	if err := ValidatePath(name); err != nil {
		return nil, fmt.Errorf("reading from pack: %w", err)
	}
	if p.files != nil {
		f, ok := p.files[name]
		if !ok {
			return nil, fmt.Errorf("reading %q from pack %s: %w", name, p.Name, fs.ErrNotExist)
		}
		if !f.inMemory && !parsed(name) {
			return nil, fmt.Errorf("reading %q from pack %s: only the index, the attestations and the JSON documents at the root of a pack are read: %w", name, p.Name, ErrInvalidPack)
		}
		if !f.inMemory && f.size <= p.maxRead {
			return nil, fmt.Errorf("reading %q from pack %s: the archive's other parsed files already take %d bytes, the most kept in memory, so this one was only hashed: %w",
				name, p.Name, maxKept*p.maxRead, ErrInvalidPack)
		}
		if !f.inMemory {
			return nil, p.tooLarge(name, f.size)
		}
		return f.data, nil
	}

	f, info, err := p.openRegular(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if info.Size() > p.maxRead {
		return nil, p.tooLarge(name, info.Size())
	}
	// The size is known, so the buffer is allocated once. A file that grew
	// since the stat is rejected.
	data := make([]byte, info.Size())
	if _, err := io.ReadFull(f, data); err != nil {
		return nil, fmt.Errorf("reading %q from pack %s: %w", name, p.dir, err)
	}
	if n, _ := f.Read(make([]byte, 1)); n > 0 {
		return nil, fmt.Errorf("reading %q from pack %s: the file grew while it was read", name, p.dir)
	}
	return data, nil
}

// tooLarge is the error of ReadFile for a file of size bytes beyond the
// pack's maximum read size.
func (p *Pack) tooLarge(name string, size int64) error {
	return fmt.Errorf("%w: %q is %d bytes, more than the %d bytes (%d MiB) that are read from a pack file to parse it",
		ErrInvalidPack, name, size, p.maxRead, p.maxRead>>20)
}

// openRegular opens the file name of a pack directory, without following
// symbolic links out of it, and rejects anything but a regular file.
func (p *Pack) openRegular(name string) (*os.File, fs.FileInfo, error) {
	root, err := os.OpenRoot(p.dir)
	if err != nil {
		return nil, nil, fmt.Errorf("opening pack %s: %w", p.dir, err)
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(name))
	if err != nil {
		return nil, nil, fmt.Errorf("reading %q from pack %s: %w", name, p.dir, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("reading %q from pack %s: %w", name, p.dir, err)
	}
	if !info.Mode().IsRegular() {
		f.Close()
		kind := "directory"
		if !info.IsDir() {
			kind = modeName(info.Mode().Type())
		}
		return nil, nil, fmt.Errorf("%w: %q is a %s, not a regular file", ErrInvalidPack, name, kind)
	}
	return f, info, nil
}

// present lists the pack's regular files other than index.json, sorted,
// with their sizes. In a directory it rejects every entry that is neither
// a regular file nor a directory. It also rejects files, index.json
// included, that add up to more than DefaultMaxBytes, the archive limit.
func (p *Pack) present(ctx context.Context) ([]presentFile, error) {
	var files []presentFile
	if p.files != nil {
		for name, f := range p.files {
			if name != IndexName {
				files = append(files, presentFile{name: name, size: f.size})
			}
		}
		slices.SortFunc(files, comparePresent)
		return files, nil
	}

	var total int64
	err := filepath.WalkDir(p.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(p.dir, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir():
			return nil
		case !d.Type().IsRegular():
			return fmt.Errorf("%w: %q is a %s; a pack contains only regular files and directories", ErrInvalidPack, rel, modeName(d.Type()))
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		if total > DefaultMaxBytes {
			return fmt.Errorf("%w: the pack's files exceed %d bytes in total (at %q), the limit of a pack archive", ErrInvalidPack, int64(DefaultMaxBytes), rel)
		}
		if rel != IndexName {
			files = append(files, presentFile{name: rel, size: info.Size()})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(files, comparePresent)
	return files, nil
}

// presentFile is a regular file found in a pack, by its slash-separated
// path, and its size in bytes.
type presentFile struct {
	name string
	size int64
}

func comparePresent(a, b presentFile) int { return strings.Compare(a.name, b.name) }

// Digest returns the SHA-256 (lowercase hex) and size of the file name of
// the pack, without keeping its content: a directory's file is read as a
// stream, and an archive's files were hashed when the archive was read. A
// file that is not present is an error wrapping [fs.ErrNotExist].
func (p *Pack) Digest(ctx context.Context, name string) (string, int64, error) {
	if err := ValidatePath(name); err != nil {
		return "", 0, fmt.Errorf("reading from pack: %w", err)
	}
	if p.files != nil {
		f, ok := p.files[name]
		if !ok {
			return "", 0, fmt.Errorf("reading %q from pack %s: %w", name, p.Name, fs.ErrNotExist)
		}
		return f.sha256, f.size, nil
	}

	f, _, err := p.openRegular(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, contextReader{ctx: ctx, r: f})
	if err != nil {
		return "", 0, fmt.Errorf("reading %q from pack %s: %w", name, p.dir, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// modeName names the type of a file that is not regular, for error
// messages.
func modeName(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeSymlink != 0:
		return "symbolic link"
	case mode&fs.ModeNamedPipe != 0:
		return "named pipe"
	case mode&fs.ModeSocket != 0:
		return "socket"
	case mode&fs.ModeDevice != 0:
		return "device"
	default:
		return fmt.Sprintf("special file (mode %s)", mode)
	}
}

// contextReader fails reads once ctx is done.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}
