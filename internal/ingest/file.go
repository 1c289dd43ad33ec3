package ingest

import (
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// OpenFile opens the regular file at path for reading. kind names the
// file in messages ("predictions", "results file") and display is the path
// as the user wrote it.
//
// Anything but a regular file is rejected before it is read: a directory,
// and a named pipe, a device or a socket, which can block forever without
// a writer (a named pipe) or never end (/dev/zero). The file is opened
// with O_NONBLOCK, and checked again once open, so that a named pipe put
// in place between the check and the open cannot block the open either.
func OpenFile(path, kind, display string) (*os.File, os.FileInfo, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, nil, fmt.Errorf("opening %s %s: %w", kind, display, err)
	}
	if err := checkRegular(info, kind, display); err != nil {
		return nil, nil, err
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("opening %s %s: %w", kind, display, err)
	}
	info, err = f.Stat()
	if err == nil {
		err = checkRegular(info, kind, display)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}

// checkRegular returns an error unless info describes a regular file.
func checkRegular(info os.FileInfo, kind, display string) error {
	mode := info.Mode()
	switch {
	case mode.IsRegular():
		return nil
	case mode.IsDir():
		return fmt.Errorf("%s %s is a directory: give a file", kind, display)
	}
	what := "a special file"
	switch mode.Type() {
	case fs.ModeNamedPipe:
		what = "a named pipe"
	case fs.ModeSocket:
		what = "a socket"
	case fs.ModeDevice, fs.ModeDevice | fs.ModeCharDevice:
		what = "a device"
	}
	return fmt.Errorf("%s %s is %s, not a regular file: write the data to a file and give its path", kind, display, what)
}

// GzipError is a gzip stream that is truncated or corrupt.
type GzipError struct {
	// Path is the file's path as the user wrote it.
	Path string
	Err  error
}

func (e *GzipError) Error() string {
	return fmt.Sprintf("%s: the gzip data is truncated or corrupt (%v): compress the file again, or download it again if it was copied", e.Path, e.Err)
}

func (e *GzipError) Unwrap() error { return e.Err }

// gzipReader reports every error of a gzip stream, except its end, as a
// *GzipError. Without it, a truncated file reads as "unexpected EOF".
type gzipReader struct {
	r    io.Reader
	path string
}

func (g *gzipReader) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		err = gzipError(g.path, err)
	}
	return n, err
}

// gzipError wraps err, an error from decompressing the gzip file at
// path, in a *GzipError when it means damaged data.
func gzipError(path string, err error) error {
	var corrupt flate.CorruptInputError
	var gzipErr *GzipError
	switch {
	case errors.As(err, &gzipErr):
		return err
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), errors.Is(err, gzip.ErrChecksum),
		errors.Is(err, gzip.ErrHeader), errors.As(err, &corrupt):
		return &GzipError{Path: path, Err: err}
	}
	return err
}

// readError describes err, which stopped the reading of the file at path.
func readError(path string, err error) error {
	var gzipErr *GzipError
	if errors.As(err, &gzipErr) {
		return err
	}
	return fmt.Errorf("reading %s: %w", path, err)
}
