package ingest

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// csvSource reads CSV rows and picks the requested fields by header position.
type csvSource struct {
	reader  *csv.Reader
	limit   *rowLimitReader
	path    string
	indexes []int // header position of each requested column
	width   int   // fields in the header
}

// newCSVSource reads the header, if the file has one, and returns the
// source of the data rows. A one-byte delimiter gets the fast reader
// (fastcsv.go); any other delimiter gets encoding/csv, whose semantics the
// fast reader reproduces exactly.
func newCSVSource(r io.Reader, opts Options) (rowSource, error) {
	if err := checkDelimiter(opts); err != nil {
		return nil, err
	}
	if opts.Delimiter == 0 || opts.Delimiter < utf8.RuneSelf {
		return newFastCSVSource(r, opts)
	}
	return newStdCSVSource(r, opts)
}

// checkDelimiter rejects the delimiters encoding/csv cannot use.
func checkDelimiter(opts Options) error {
	d := opts.Delimiter
	if d == '"' || d == '\r' || d == '\n' || d == utf8.RuneError || (d != 0 && !utf8.ValidRune(d)) {
		return fmt.Errorf("%s: %q cannot separate CSV fields: use a comma, a semicolon, a tab or another character", opts.DisplayPath, d)
	}
	return nil
}

// newStdCSVSource is newCSVSource on encoding/csv.
func newStdCSVSource(r io.Reader, opts Options) (*csvSource, error) {
	path, columns := opts.DisplayPath, opts.Columns
	limit := &rowLimitReader{r: r, path: path, header: len(opts.Header) == 0}
	reader := csv.NewReader(limit)
	reader.ReuseRecord = true
	if opts.Delimiter != 0 {
		reader.Comma = opts.Delimiter
	}

	header := opts.Header
	headerLine := 0
	if len(header) > 0 {
		// Every record must have as many fields as the configured header.
		reader.FieldsPerRecord = len(header)
	} else {
		// FieldsPerRecord 0 makes the csv package require the header's
		// width of every later record.
		reader.FieldsPerRecord = 0
		record, err := reader.Read()
		if err == io.EOF {
			return nil, emptyFileError(path)
		}
		if err != nil {
			return nil, csvError(path, err, 0, 0)
		}
		header = record
		// Empty lines before the header are skipped, so it need not be
		// on line 1.
		headerLine, _ = reader.FieldPos(0)
		limit.startRow(reader.InputOffset())
	}

	indexes, err := columnIndexes(path, header, headerLine, columns)
	if err != nil {
		return nil, err
	}
	// The header slice is the reader's reused record, so only its length is
	// kept.
	return &csvSource{reader: reader, limit: limit, path: path, indexes: indexes, width: len(header)}, nil
}

// csvReadAhead is how far encoding/csv's Reader (Go 1.26) reads beyond
// the record it returns: the size of its bufio.Reader.
const csvReadAhead = 4096

// rowLimitReader stops encoding/csv from reading a line or a row longer
// than MaxRowBytes, which it would otherwise hold whole in memory. It sits
// between the file and the csv.Reader and counts the bytes it passes.
type rowLimitReader struct {
	r      io.Reader
	path   string
	header bool  // the header row has not been read yet
	read   int64 // bytes passed to the csv.Reader
	start  int64 // offset of the current row, from csv.Reader.InputOffset
	lines  int   // newlines passed
	length int   // bytes of the current line passed so far
}

// startRow records offset, the end of the row just returned, as the start
// of the next row.
func (l *rowLimitReader) startRow(offset int64) {
	l.start, l.header = offset, false
}

func (l *rowLimitReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for chunk := p[:n]; len(chunk) > 0; {
		end := bytes.IndexByte(chunk, '\n')
		if end < 0 {
			l.length += len(chunk)
			break
		}
		if l.length+end > MaxRowBytes {
			l.length += end
			break
		}
		l.lines++
		l.length = 0
		chunk = chunk[end+1:]
	}
	l.read += int64(n)
	// A row that ends within MaxRowBytes never gets here, because the
	// csv.Reader reads at most csvReadAhead bytes past the row's end.
	// NOTE: the line reported is where the limit was crossed, which for
	// a row of several lines is not the line the row starts on.
	if l.length > MaxRowBytes || l.read-l.start > MaxRowBytes+csvReadAhead {
		return 0, rowTooLongError(l.path, l.lines+1, l.header)
	}
	return n, err
}

func emptyFileError(path string) error {
	return fmt.Errorf("%s: %w: the file is empty; it needs a header and at least one row", path, ErrEmpty)
}

// columnIndexes returns the header position of each requested column.
// headerLine is the header's line in the file, 0 for a configured header.
func columnIndexes(path string, header []string, headerLine int, columns []string) ([]int, error) {
	positions := make(map[string]int, len(header))
	duplicates := make(map[string]bool)
	for i, name := range header {
		if _, seen := positions[name]; seen {
			duplicates[name] = true
			continue
		}
		positions[name] = i
	}

	indexes := make([]int, len(columns))
	for i, column := range columns {
		position, ok := positions[column]
		if !ok {
			return nil, &RowError{Path: path, Line: headerLine, Column: column, Err: fmt.Errorf(
				"%w in the header, which has %s: add the column to the file or configure one of these names",
				ErrMissingColumn, headerExcerpt(header))}
		}
		if duplicates[column] {
			return nil, &RowError{Path: path, Line: headerLine, Column: column, Err: errors.New(
				"the header names this column more than once: rename one of them")}
		}
		indexes[i] = position
	}
	return indexes, nil
}

func (s *csvSource) next(values []string) (int, error) {
	record, err := s.reader.Read()
	if err != nil {
		if err == io.EOF {
			return 0, io.EOF
		}
		return 0, csvError(s.path, err, len(record), s.width)
	}
	s.limit.startRow(s.reader.InputOffset())
	line, _ := s.reader.FieldPos(0)
	for i, index := range s.indexes {
		values[i] = record[index]
	}
	return line, nil
}

// csvError turns an encoding/csv error into a *RowError with advice. fields
// is the number of fields of the offending record and width the header's.
func csvError(path string, err error, fields, width int) error {
	var rowErr *RowError
	if errors.As(err, &rowErr) {
		return err
	}
	var parseErr *csv.ParseError
	if !errors.As(err, &parseErr) {
		return readError(path, err)
	}
	line := parseErr.StartLine
	if line == 0 {
		line = parseErr.Line
	}
	switch {
	case errors.Is(parseErr.Err, csv.ErrFieldCount):
		return &RowError{Path: path, Line: line, Err: fmt.Errorf(
			"%w: the row has %d fields but the header has %d; quote fields that contain commas",
			parseErr.Err, fields, width)}
	case errors.Is(parseErr.Err, csv.ErrQuote), errors.Is(parseErr.Err, csv.ErrBareQuote):
		return &RowError{Path: path, Line: parseErr.Line, Err: fmt.Errorf(
			"%w (column %d): enclose a field that contains quotes in double quotes and double each quote inside it",
			parseErr.Err, parseErr.Column)}
	}
	return &RowError{Path: path, Line: line, Err: parseErr.Err}
}

// maxExcerptBytes is the length from which headerExcerpt shortens a
// header in a message.
const maxExcerptBytes = 200

// headerExcerpt lists the names of header for a message, quoted and
// escaped. A list longer than maxExcerptBytes is cut short and ends with
// the number of columns, because a file that is not CSV can have a
// header of a megabyte.
func headerExcerpt(header []string) string {
	list := quoteAll(header)
	if len(list) <= maxExcerptBytes {
		return list
	}
	// %q escapes every byte that is not part of a printable character, so
	// the list is valid UTF-8 and is cut at the start of a character.
	cut := maxExcerptBytes
	for cut > 0 && !utf8.RuneStart(list[cut]) {
		cut--
	}
	columns := "columns"
	if len(header) == 1 {
		columns = "column"
	}
	return fmt.Sprintf("%s… (%d %s in all)", list[:cut], len(header), columns)
}

// quoteAll returns names as a comma-separated list of quoted strings.
func quoteAll(names []string) string {
	quoted := make([]string, len(names))
	for i, name := range names {
		quoted[i] = fmt.Sprintf("%q", name)
	}
	return strings.Join(quoted, ", ")
}
