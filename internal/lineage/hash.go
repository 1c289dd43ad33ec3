package lineage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// ErrSpecialFile is wrapped by the error for a named pipe, socket or
// device inside a directory, which has no content to hash.
var ErrSpecialFile = errors.New("a directory contains a special file")

// copyBufferSize is the read size used while hashing. Each hashing worker
// owns one buffer of this size.
const copyBufferSize = 256 << 10

// A single file of at least readAheadMinSize bytes is read ahead of
// hashing by a second goroutine into readAheadBuffers buffers of
// readAheadBufferSize bytes, 4 MiB in all. Smaller files and the files of
// a directory, which already keep one worker per core busy, are read and
// hashed in one goroutine.
const (
	readAheadMinSize    = 16 << 20
	readAheadBufferSize = 1 << 20
	readAheadBuffers    = 4
)

// HashPath computes the digest record of the file or directory at rel.
//
// A relative rel is resolved against baseDir, normally the directory of the
// configuration file. It may lead outside baseDir (for example
// "../models/model.onnx") as long as it exists, and an absolute rel is used
// as it is. The returned Entry records rel cleaned and slash-separated, so
// relative paths keep lineage.json the same on every machine.
//
// Files are read once each, concurrently by at most GOMAXPROCS workers.
// The walk stops at the first error and when ctx is cancelled.
func HashPath(ctx context.Context, baseDir, rel string) (Entry, error) {
	return Hash(ctx, baseDir, rel, Options{})
}

// Hash is [HashPath] with options: progress reporting, the MD5 digests DVC
// records, and Git LFS pointer detection. With zero Options it is exactly
// HashPath.
func Hash(ctx context.Context, baseDir, rel string, opts Options) (Entry, error) {
	if rel == "" {
		return Entry{}, errors.New("empty path: give the path of a file or directory")
	}
	full := rel
	if !filepath.IsAbs(full) {
		full = filepath.Join(baseDir, rel)
	}
	entry := Entry{Path: filepath.ToSlash(filepath.Clean(rel))}

	// Stat follows a symbolic link given as the path itself.
	info, err := os.Stat(full)
	if errors.Is(err, fs.ErrNotExist) {
		return Entry{}, fmt.Errorf("path %q (resolved to %s) does not exist; check the path: %w", rel, full, err)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("reading %q: %w", rel, err)
	}

	switch {
	case info.Mode().IsRegular():
		var f File
		if info.Size() >= readAheadMinSize {
			f, err = hashFile(ctx, full, nil, opts)
		} else {
			f, err = hashFile(ctx, full, make([]byte, copyBufferSize), opts)
		}
		if err != nil {
			return Entry{}, fmt.Errorf("hashing %q: %w", rel, err)
		}
		entry.Type, entry.SHA256, entry.Size = TypeFile, f.SHA256, f.Size
		entry.MD5, entry.LegacyMD5, entry.LFS = f.MD5, f.LegacyMD5, f.LFS
	case info.IsDir():
		files, err := hashTree(ctx, full, opts)
		if err != nil {
			return Entry{}, fmt.Errorf("hashing directory %q: %w", rel, err)
		}
		entry.Type, entry.SHA256, entry.Files = TypeDirectory, ManifestDigest(files), files
		for _, f := range files {
			entry.Size += f.Size
		}
	default:
		return Entry{}, fmt.Errorf("path %q is neither a regular file nor a directory (mode %s); give the path of a file or directory", rel, info.Mode().Type())
	}
	return entry, nil
}

// Manifest returns the manifest of files in the sha256sum output format,
// one "<sha256 hex>  <path>\n" line per file, in the order given.
func Manifest(files []File) []byte {
	var b strings.Builder
	for _, f := range files {
		b.WriteString(f.SHA256)
		b.WriteString("  ")
		b.WriteString(f.Path)
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// ManifestDigest returns the lowercase hex SHA-256 of [Manifest](files),
// which is a directory's digest when files are sorted by path.
func ManifestDigest(files []File) string {
	sum := sha256.Sum256(Manifest(files))
	return hex.EncodeToString(sum[:])
}

// treeFile is a regular file found by the walk: its manifest path and the
// file to read, which differs for a symbolic link.
type treeFile struct {
	rel    string
	source string
}

// hashTree walks root and hashes its regular files concurrently. It
// returns them sorted by path.
func hashTree(ctx context.Context, root string, opts Options) ([]File, error) {
	found, err := walkTree(ctx, root)
	if err != nil {
		return nil, err
	}
	if len(found) == 0 {
		return nil, errors.New("the directory contains no regular file (directories and .git are not counted); check the path")
	}
	slices.SortFunc(found, func(a, b treeFile) int { return strings.Compare(a.rel, b.rel) })

	files := make([]File, len(found))
	workers := min(runtime.GOMAXPROCS(0), len(found))
	var next atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for range workers {
		g.Go(func() error {
			buf := make([]byte, copyBufferSize)
			for {
				i := int(next.Add(1) - 1)
				if i >= len(found) {
					return nil
				}
				f, err := hashFile(gctx, found[i].source, buf, opts)
				if err != nil {
					return fmt.Errorf("hashing %q: %w", found[i].rel, err)
				}
				f.Path = found[i].rel
				files[i] = f
			}
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return files, nil
}

// walkTree lists the files of the directory root under the rules of the
// package documentation.
func walkTree(ctx context.Context, root string) ([]treeFile, error) {
	// Resolve root so that link targets can be compared with it.
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", root, err)
	}

	var found []treeFile
	err = filepath.WalkDir(realRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if path == realRoot {
			return nil
		}
		if d.Name() == ".git" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}

		rel, err := filepath.Rel(realRoot, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if strings.ContainsAny(d.Name(), "\n\r\\") {
			return fmt.Errorf("file name %q contains a newline, carriage return or backslash, which sha256sum would escape; rename it", rel)
		}

		switch mode := d.Type(); {
		case mode.IsDir():
			return nil
		case mode.IsRegular():
			found = append(found, treeFile{rel: rel, source: path})
			return nil
		case mode&fs.ModeSymlink != 0:
			target, err := linkTarget(realRoot, path, rel)
			if err != nil {
				return err
			}
			found = append(found, treeFile{rel: rel, source: target})
			return nil
		default:
			return fmt.Errorf("%w: %q is not a regular file, directory or symbolic link (mode %s); remove it from the directory", ErrSpecialFile, rel, mode)
		}
	})
	if err != nil {
		return nil, err
	}
	return found, nil
}

// linkTarget resolves the symbolic link at path and returns its target if
// that is a regular file inside realRoot.
func linkTarget(realRoot, path, rel string) (string, error) {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return "", fmt.Errorf("symbolic link %q cannot be resolved; fix or remove it: %w", rel, err)
	}
	inside, err := filepath.Rel(realRoot, target)
	if err != nil || inside == ".." || strings.HasPrefix(inside, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("symbolic link %q points outside the directory, to %s; replace it with the file or hash the target directory instead", rel, target)
	}
	info, err := os.Stat(target)
	if err != nil {
		return "", fmt.Errorf("symbolic link %q: %w", rel, err)
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("symbolic link %q points to %s, which is not a regular file; only links to files are followed", rel, filepath.ToSlash(inside))
	}
	return target, nil
}

// hashFile streams the file at path once through SHA-256 (and MD5 when
// opts ask for it) using buf. A nil buf reads the file ahead of hashing in
// a second goroutine, as [copyReadAhead] does. The returned File has no
// Path. When
// opts.DetectLFS is set and the file is a Git LFS pointer, the digest and
// size are the ones the pointer declares for the content, and LFS says so.
func hashFile(ctx context.Context, path string, buf []byte, opts Options) (File, error) {
	f, err := os.Open(path)
	if err != nil {
		return File{}, err
	}
	defer f.Close()

	h := sha256.New()
	var w io.Writer = h
	var md5s *dvcDigests
	if opts.MD5 {
		md5s = newDVCDigests()
		w = io.MultiWriter(h, md5s)
	}
	var head headWriter
	if opts.DetectLFS {
		w = io.MultiWriter(w, &head)
	}
	var n int64
	if buf == nil {
		n, err = copyReadAhead(ctx, w, f, opts.Progress)
	} else {
		n, err = io.CopyBuffer(w, contextReader{ctx: ctx, r: f, progress: opts.Progress}, buf)
	}
	if err != nil {
		return File{}, fmt.Errorf("reading %s: %w", path, err)
	}
	out := File{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}
	if md5s != nil {
		out.MD5, out.LegacyMD5 = md5s.sums()
	}
	if opts.DetectLFS && n <= maxPointerSize {
		if p, ok := ParseLFSPointer(head.bytes()); ok {
			out.LFS = &LFSInfo{PointerSHA256: out.SHA256, PointerSize: n}
			out.SHA256, out.Size = p.OID, p.Size
			out.MD5, out.LegacyMD5 = "", ""
		}
	}
	return out, nil
}

// contextReader fails reads once ctx is done, so a large file stops being
// hashed soon after cancellation.
type contextReader struct {
	ctx context.Context
	r   io.Reader
	// progress, when not nil, receives the count of every read.
	progress func(int64)
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	if c.progress != nil && n > 0 {
		c.progress(int64(n))
	}
	return n, err
}

// copyReadAhead copies r to w like [io.Copy], but reads r in a second
// goroutine while w consumes the previous reads, through readAheadBuffers
// buffers that the two goroutines pass back and forth. It reports each
// read to progress when progress is not nil, and stops reading once ctx
// is done. It returns after the reading goroutine has finished.
func copyReadAhead(ctx context.Context, w io.Writer, r io.Reader, progress func(int64)) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Both channels can hold every buffer, so neither goroutine blocks on
	// a send.
	free := make(chan []byte, readAheadBuffers)
	filled := make(chan []byte, readAheadBuffers)
	for range readAheadBuffers {
		free <- make([]byte, readAheadBufferSize)
	}

	// readErr is written before filled is closed and read after that.
	var readErr error
	go func() {
		defer close(filled)
		for {
			var buf []byte
			select {
			case buf = <-free:
			case <-ctx.Done():
				readErr = ctx.Err()
				return
			}
			if err := ctx.Err(); err != nil {
				readErr = err
				return
			}
			n, err := r.Read(buf)
			if n > 0 {
				if progress != nil {
					progress(int64(n))
				}
				filled <- buf[:n]
			}
			if err == io.EOF {
				return
			}
			if err != nil {
				readErr = err
				return
			}
		}
	}()

	var written int64
	var writeErr error
	for buf := range filled {
		if writeErr != nil {
			continue // drain, so that the reading goroutine finishes
		}
		n, err := w.Write(buf)
		written += int64(n)
		if err == nil && n < len(buf) {
			err = io.ErrShortWrite
		}
		if err != nil {
			writeErr = err
			cancel()
		}
		free <- buf[:cap(buf)]
	}
	if writeErr != nil {
		return written, writeErr
	}
	return written, readErr
}
