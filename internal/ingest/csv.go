package ingest

import (
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
	reader := csv.NewReader(r)
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
	}

	indexes, err := columnIndexes(path, header, headerLine, columns)
	if err != nil {
		return nil, err
	}
	// The header slice is the reader's reused record, so only its length is
	// kept.
	return &csvSource{reader: reader, path: path, indexes: indexes, width: len(header)}, nil
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
				ErrMissingColumn, quoteAll(header))}
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
	line, _ := s.reader.FieldPos(0)
	for i, index := range s.indexes {
		values[i] = record[index]
	}
	return line, nil
}

// csvError turns an encoding/csv error into a *RowError with advice. fields
// is the number of fields of the offending record and width the header's.
func csvError(path string, err error, fields, width int) error {
	var parseErr *csv.ParseError
	if !errors.As(err, &parseErr) {
		return fmt.Errorf("reading %s: %w", path, err)
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

// quoteAll returns names as a comma-separated list of quoted strings.
func quoteAll(names []string) string {
	quoted := make([]string, len(names))
	for i, name := range names {
		quoted[i] = fmt.Sprintf("%q", name)
	}
	return strings.Join(quoted, ", ")
}
