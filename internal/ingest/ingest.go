// Package ingest streams rows out of prediction files (CSV with or without a
// header row, JSON Lines or Parquet), optionally gzip-compressed, without
// loading them whole.
//
// A Reader yields, for each data row, the string values of the requested
// columns, in the order of the request. It does not interpret values:
// parsing numbers and labels is the caller's job, which reports problems as a
// *RowError so that every message names the file, the line and the column.
package ingest

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// Format is the layout of a predictions file.
type Format string

// The formats a Reader understands.
const (
	// CSV is comma-separated values with a header row (RFC 4180 quoting).
	CSV Format = "csv"
	// JSONL is JSON Lines: one JSON object per line, blank lines skipped.
	JSONL Format = "jsonl"
	// Parquet is Apache Parquet with a flat schema, read row group by row
	// group.
	Parquet Format = "parquet"
)

// ErrEmpty is returned, wrapped with the file's path, when a file has no data
// rows: it is empty, or a CSV file has a header but no rows after it.
var ErrEmpty = errors.New("no data rows")

// ErrMissingColumn is the error inside a *RowError when a requested column is
// absent from a CSV header or from a JSON Lines object.
var ErrMissingColumn = errors.New("column not found")

// ErrInvalidUTF8 is the error inside a *RowError when a value of a
// requested column is not valid UTF-8. Such a value cannot be stored in
// the JSON of a pack unchanged, and two different invalid values would
// become the same group or class once their invalid bytes were replaced.
var ErrInvalidUTF8 = errors.New("not valid UTF-8")

// MaxValueBytes is the longest value, in bytes, that a Reader returns from
// a requested column. Labels, scores, ids and group values are short, and
// labels and group values are copied into several files of a pack, so a
// longer value means that the configuration names the wrong column (or
// the file is damaged). It is reported as a *RowError before the value
// reaches any computation.
const MaxValueBytes = 256

// MaxRowBytes is the longest line, and the longest row, in bytes, that a
// Reader reads from a CSV or JSON Lines file. A row spans several lines
// when a quoted CSV field contains newlines. Prediction rows are far
// shorter, so a longer one means that the file is not line-oriented text
// (or a quote is never closed), and reading on would hold it all in
// memory. It is reported as a *RowError.
const MaxRowBytes = 1 << 20

// errRowTooLong is returned by the CSV sources' line readers for a line
// or a row longer than MaxRowBytes, before it becomes a *RowError.
var errRowTooLong = errors.New("row too long")

// rowTooLongError describes a header (when header is set) or a row,
// found on line, that is longer than MaxRowBytes.
func rowTooLongError(path string, line int, header bool) error {
	what := "the row"
	if header {
		what = "the header row"
	}
	return &RowError{Path: path, Line: line, Err: fmt.Errorf(
		"%s is longer than %d bytes (ingest.MaxRowBytes): check that the file is CSV text with one row per line and that every quoted field is closed",
		what, MaxRowBytes)}
}

// RowError is a problem with one row (or the header) of a predictions file.
// Its message reads like `eval/predictions.csv:17: column "score": ...`.
type RowError struct {
	// Path is the file's path as the user wrote it.
	Path string
	// Line is the 1-based line on which the row starts.
	Line int
	// Column is the column concerned, or "" when the whole row is at fault.
	Column string
	// Err describes the problem and the fix.
	Err error
}

// Error returns "path:line: column "name": problem".
func (e *RowError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("%s:%d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("%s:%d: column %q: %v", e.Path, e.Line, e.Column, e.Err)
}

// Unwrap returns the underlying error.
func (e *RowError) Unwrap() error { return e.Err }

// ParseFormat converts a format name from a configuration ("csv", "jsonl" or
// its synonym "ndjson") into a Format.
func ParseFormat(name string) (Format, error) {
	switch strings.ToLower(name) {
	case "csv":
		return CSV, nil
	case "jsonl", "ndjson":
		return JSONL, nil
	case "parquet":
		return Parquet, nil
	}
	return "", fmt.Errorf("unknown predictions format %q: use csv, jsonl, ndjson or parquet", name)
}

// FormatFromPath picks the format from a file name's extension: .csv, .tsv
// (tab-separated CSV), .jsonl, .ndjson or .parquet, each optionally followed
// by .gz.
func FormatFromPath(path string) (Format, error) {
	name := strings.ToLower(filepath.Base(path))
	name = strings.TrimSuffix(name, ".gz")
	switch filepath.Ext(name) {
	case ".csv", ".tsv":
		return CSV, nil
	case ".jsonl", ".ndjson":
		return JSONL, nil
	case ".parquet":
		return Parquet, nil
	}
	return "", fmt.Errorf("cannot tell the format of %q from its extension: name it .csv, .tsv, .jsonl, .ndjson or .parquet (optionally with .gz), or set the format explicitly", path)
}

// Options selects the file's format and the columns to return.
type Options struct {
	// DisplayPath is the path as the user wrote it, used in every message.
	// Open uses the path it is given when DisplayPath is empty.
	DisplayPath string
	// Format is the file's layout. The zero value picks it from the file
	// name's extension (see FormatFromPath).
	Format Format
	// Columns are the names of the columns to return, in order. A name may
	// appear more than once.
	Columns []string
	// Delimiter separates the fields of a CSV file. The zero value means
	// ',', or a tab for a file named .tsv.
	Delimiter rune
	// Header names the columns of a CSV file that has no header row. Empty
	// means the first row is the header.
	Header []string
}

// Reader streams the requested columns of a predictions file, one row at a
// time. It is not safe for concurrent use.
type Reader struct {
	path    string
	format  Format
	columns []string
	rows    rowSource
	hashed  *hashingReader // nil for NewReader and Parquet
	digest  string         // the digest of a Parquet file, computed on Open
	file    io.Closer      // nil for NewReader
	count   int
	line    int
}

// rowSource is the format-specific half of a Reader.
type rowSource interface {
	// next fills values with the requested columns of the next data row and
	// returns the line the row starts on, or io.EOF after the last row.
	next(values []string) (line int, err error)
}

// Open opens the predictions file at path and reads its header. Compressed
// input is recognised by the gzip magic bytes, so a .gz suffix is optional.
// A file named .gz that is not gzip is an error. The caller must Close the
// Reader.
func Open(path string, opts Options) (*Reader, error) {
	if opts.DisplayPath == "" {
		opts.DisplayPath = path
	}
	if opts.Format == "" {
		format, err := FormatFromPath(opts.DisplayPath)
		if err != nil {
			return nil, err
		}
		opts.Format = format
	}

	if opts.Format == Parquet {
		return openParquet(path, opts)
	}
	if opts.Delimiter == 0 && strings.HasSuffix(strings.TrimSuffix(strings.ToLower(opts.DisplayPath), ".gz"), ".tsv") {
		opts.Delimiter = '\t'
	}

	f, _, err := OpenFile(path, "predictions", opts.DisplayPath)
	if err != nil {
		return nil, err
	}
	hashed := &hashingReader{r: f, hash: sha256.New()}

	// Every byte of the file goes through hashed, compressed or not, so that
	// SHA256 is the digest of the file as stored.
	buffered := bufio.NewReaderSize(hashed, 64<<10)
	var input io.Reader = buffered
	magic, _ := buffered.Peek(2)
	isGzip := len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b
	switch {
	case isGzip:
		gz, err := gzip.NewReader(buffered)
		if err != nil {
			f.Close()
			return nil, gzipError(opts.DisplayPath, err)
		}
		input = &gzipReader{r: gz, path: opts.DisplayPath}
	case strings.HasSuffix(strings.ToLower(opts.DisplayPath), ".gz"):
		f.Close()
		return nil, fmt.Errorf("%s: the name ends in .gz but the file is not gzip-compressed: compress it or rename it", opts.DisplayPath)
	}

	r, err := NewReader(input, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.hashed = hashed
	r.file = f
	return r, nil
}

// NewReader reads the header (for CSV) from r and returns a Reader over the
// rest. r must already be decompressed, and opts.Format must be set.
func NewReader(r io.Reader, opts Options) (*Reader, error) {
	if len(opts.Columns) == 0 {
		return nil, errors.New("no columns requested")
	}
	input := skipBOM(r)

	reader := &Reader{path: opts.DisplayPath, format: opts.Format, columns: opts.Columns}
	switch opts.Format {
	case CSV:
		rows, err := newCSVSource(input, opts)
		if err != nil {
			return nil, err
		}
		reader.rows = rows
	case JSONL:
		reader.rows = newJSONLSource(input, opts.DisplayPath, opts.Columns)
	default:
		return nil, fmt.Errorf("%s: format %q cannot be read from a stream: use csv or jsonl, or Open for parquet", opts.DisplayPath, opts.Format)
	}
	return reader, nil
}

// Next fills values, which must have one element per requested column, with
// the next row's values. The strings stay valid and unchanged after later
// calls, so they may be kept. It returns io.EOF after the last row, an error
// wrapping ErrEmpty if the file had no data rows, and a *RowError for a
// malformed row. After an error other than a *RowError the Reader must not
// be used again.
func (r *Reader) Next(values []string) error {
	if len(values) != len(r.columns) {
		return fmt.Errorf("Next needs %d values, got a slice of %d", len(r.columns), len(values))
	}
	line, err := r.rows.next(values)
	if err == io.EOF {
		if r.count == 0 {
			return r.emptyError()
		}
		return io.EOF
	}
	if err != nil {
		return err
	}
	// Only the requested columns are checked, so the cost grows with
	// their bytes and not with the width of the file.
	for i, value := range values {
		if len(value) > MaxValueBytes || !utf8.ValidString(value) {
			return r.valueError(line, r.columns[i], value)
		}
	}
	r.count++
	r.line = line
	return nil
}

// valueError describes a value that is too long or not valid UTF-8.
func (r *Reader) valueError(line int, column, value string) error {
	if len(value) > MaxValueBytes {
		return &RowError{Path: r.path, Line: line, Column: column, Err: fmt.Errorf(
			"the value is %d bytes long, and a value of a configured column may have at most %d bytes: check that the configuration names the right column",
			len(value), MaxValueBytes)}
	}
	return &RowError{Path: r.path, Line: line, Column: column, Err: invalidUTF8Error(value, r.format)}
}

// invalidUTF8Error names the first invalid byte of value, which must not
// be valid UTF-8, and how to re-encode a file of the given format.
func invalidUTF8Error(value string, format Format) error {
	offset := 0
	for offset < len(value) {
		c, size := utf8.DecodeRuneInString(value[offset:])
		if c == utf8.RuneError && size == 1 {
			break
		}
		offset += size
	}
	fix := "re-encode the file as UTF-8, for example with iconv -f latin1 -t utf-8 if it was written as Latin-1"
	if format == Parquet {
		fix = "write the column as UTF-8 strings, decoding the source data with its real encoding first"
	}
	return fmt.Errorf("%w: the value %q has the byte 0x%02x at offset %d, which is not part of a UTF-8 character: %s",
		ErrInvalidUTF8, value, value[offset], offset, fix)
}

// emptyError describes a file without data rows in the words of its
// format.
func (r *Reader) emptyError() error {
	switch r.format {
	case JSONL:
		return fmt.Errorf("%s: %w: the file needs at least one JSON object line", r.path, ErrEmpty)
	case Parquet:
		return fmt.Errorf("%s: %w: the file needs at least one row", r.path, ErrEmpty)
	}
	return fmt.Errorf("%s: %w: the file needs a header and at least one row", r.path, ErrEmpty)
}

// Line returns the line on which the row last returned by Next starts.
func (r *Reader) Line() int { return r.line }

// Path returns the display path used in messages.
func (r *Reader) Path() string { return r.path }

// Rows returns the number of data rows returned so far.
func (r *Reader) Rows() int { return r.count }

// SHA256 reads whatever is left of the file (for example a gzip trailer) and
// returns the hex SHA-256 of all of its bytes as stored. It is meant to be
// called once Next has returned io.EOF, and is available only for a Reader
// made by Open.
func (r *Reader) SHA256() (string, error) {
	if r.digest != "" {
		return r.digest, nil
	}
	if r.hashed == nil {
		return "", errors.New("SHA256 needs a Reader made by Open")
	}
	if _, err := io.Copy(io.Discard, r.hashed); err != nil {
		return "", readError(r.path, err)
	}
	return hex.EncodeToString(r.hashed.hash.Sum(nil)), nil
}

// Close closes the underlying file of a Reader made by Open.
func (r *Reader) Close() error {
	if r.file == nil {
		return nil
	}
	return r.file.Close()
}

// hashingReader feeds every byte read through it into a hash.
type hashingReader struct {
	r    io.Reader
	hash hash.Hash
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.hash.Write(p[:n])
	return n, err
}

// skipBOM drops a UTF-8 byte order mark at the start of r.
func skipBOM(r io.Reader) io.Reader {
	buffered := bufio.NewReaderSize(r, 64<<10)
	if prefix, err := buffered.Peek(3); err == nil && string(prefix) == "\uFEFF" {
		buffered.Discard(3)
	}
	return buffered
}
