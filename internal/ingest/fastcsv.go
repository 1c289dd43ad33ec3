package ingest

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"io"
	"unsafe"
)

// fastCSVSource reads CSV with a one-byte delimiter and keeps only the
// requested fields. It accepts exactly what encoding/csv accepts with its
// default settings: RFC 4180 quoting, doubled quotes and newlines inside
// quoted fields, CRLF turned into LF, empty lines skipped, and a final CR
// before the end of the file dropped. For invalid input it reports the
// same *csv.ParseError, with the same lines and columns. fastcsv_test.go
// compares the two on fixed and fuzzed input.
//
// It is faster because it copies only the requested fields, looks for the
// delimiter and the quote with bytes.IndexByte instead of decoding runes,
// and allocates no memory per row: values are strings over an arena (see
// keep) that is never written again once a row has been returned.
type fastCSVSource struct {
	reader *bufio.Reader
	path   string
	comma  byte
	// slot[k] is the position, among the kept fields, of the field at
	// header position k, or -1 when that field is not kept. Fields past
	// the end of slot are not kept.
	slot    []int
	indexes []int // the slot of each requested column
	width   int   // fields each record must have, 0 until the header is read
	lines   int   // physical lines read so far, as encoding/csv counts them

	long    []byte // a line longer than the bufio buffer
	scratch []byte // the kept fields of the current record, back to back
	ends    []int  // end of each kept field in scratch
	arena   []byte // backing store of the returned strings, only ever appended to
	kept    []string
	all     bool // keep every field (while reading the header)
}

// arenaSize is the size of each block of the arena: big enough to hold
// thousands of rows, small enough that a kept string pins little memory.
const arenaSize = 64 << 10

func newFastCSVSource(r io.Reader, opts Options) (*fastCSVSource, error) {
	s := &fastCSVSource{path: opts.DisplayPath, comma: ','}
	if buffered, ok := r.(*bufio.Reader); ok {
		s.reader = buffered
	} else {
		s.reader = bufio.NewReaderSize(r, 64<<10)
	}
	if opts.Delimiter != 0 {
		s.comma = byte(opts.Delimiter)
	}

	header := opts.Header
	headerLine := 0
	if len(header) > 0 {
		s.width = len(header)
	} else {
		s.all = true
		fields, _, line, err := s.record()
		s.all = false
		if err == io.EOF {
			return nil, emptyFileError(s.path)
		}
		if err != nil {
			return nil, csvError(s.path, err, 0, 0)
		}
		header = fields
		headerLine = line
	}

	indexes, err := columnIndexes(s.path, header, headerLine, opts.Columns)
	if err != nil {
		return nil, err
	}
	// Kept fields are numbered in the order they occur in a record.
	s.ends = s.ends[:0]
	s.slot = make([]int, len(header))
	for k := range s.slot {
		s.slot[k] = -1
	}
	const requested = -2
	for _, position := range indexes {
		s.slot[position] = requested
	}
	for k := range s.slot {
		if s.slot[k] == requested {
			s.slot[k] = len(s.ends)
			s.ends = append(s.ends, 0)
		}
	}
	for _, position := range indexes {
		s.indexes = append(s.indexes, s.slot[position])
	}
	return s, nil
}

func (s *fastCSVSource) next(values []string) (int, error) {
	fields, count, line, err := s.record()
	if err != nil {
		if err == io.EOF {
			return 0, io.EOF
		}
		return 0, csvError(s.path, err, count, s.width)
	}
	for i, slot := range s.indexes {
		values[i] = fields[slot]
	}
	return line, nil
}

// readLine returns the next physical line, as encoding/csv's Reader reads
// it: with its final "\r\n" turned into "\n", and without a final "\r" at
// the end of the file. It returns io.EOF only when nothing is left, and
// errRowTooLong, without counting the line, for a line longer than
// MaxRowBytes. The line is valid until the next call.
func (s *fastCSVSource) readLine() ([]byte, error) {
	line, err := s.reader.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		s.long = append(s.long[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(s.long) > MaxRowBytes {
				return nil, errRowTooLong
			}
			line, err = s.reader.ReadSlice('\n')
			s.long = append(s.long, line...)
		}
		line = s.long
	}
	if len(line) > MaxRowBytes {
		return nil, errRowTooLong
	}
	s.lines++
	n := len(line)
	if n > 0 && err == io.EOF {
		err = nil
		if line[n-1] == '\r' {
			line = line[:n-1]
		}
	}
	if n = len(line); n >= 2 && line[n-2] == '\r' && line[n-1] == '\n' {
		line[n-2] = '\n'
		line = line[:n-1]
	}
	return line, err
}

// newlineLength returns 1 when line ends in '\n', else 0.
func newlineLength(line []byte) int {
	if len(line) > 0 && line[len(line)-1] == '\n' {
		return 1
	}
	return 0
}

// record parses the next record. It returns the kept fields (every field
// while s.all is set), the number of fields in the record, the line the
// record starts on, and io.EOF after the last record. A syntax error is a
// *csv.ParseError; the fields are then those before the error.
func (s *fastCSVSource) record() (fields []string, count, start int, err error) {
	// Skip empty lines.
	var line []byte
	for {
		line, err = s.readLine()
		if err == errRowTooLong {
			return nil, 0, 0, rowTooLongError(s.path, s.lines+1, s.all)
		}
		if err != nil {
			return nil, 0, 0, err
		}
		if len(line) > newlineLength(line) {
			break
		}
	}

	start = s.lines
	size := len(line) // bytes of the record's lines read so far
	s.scratch = s.scratch[:0]
	if s.all {
		s.ends = s.ends[:0]
	}
	position := 0 // the field's position in the record
	kept := 0     // fields kept so far
	column := 1   // 1-based byte column of line[0] in its physical line
	physical := start
	var parseErr error

fields:
	for {
		keep := s.all || (position < len(s.slot) && s.slot[position] >= 0)

		if len(line) == 0 || line[0] != '"' {
			// An unquoted field runs to the next delimiter or the end of
			// the line, and may not contain a quote. Fields are short, so
			// one loop over the bytes beats two calls of bytes.IndexByte.
			end := 0
			for end < len(line) && line[end] != s.comma && line[end] != '"' {
				end++
			}
			if end < len(line) && line[end] == '"' {
				parseErr = &csv.ParseError{StartLine: start, Line: s.lines, Column: column + end, Err: csv.ErrBareQuote}
				break fields
			}
			field := line[:end]
			if end == len(line) {
				field = line[:end-newlineLength(line)]
				end = -1
			}
			if keep {
				s.scratch = append(s.scratch, field...)
				kept = s.endField(kept)
			}
			position++
			if end < 0 {
				break fields
			}
			line = line[end+1:]
			column += end + 1
			continue fields
		}

		// A quoted field runs to the quote that is followed by the
		// delimiter or the end of a line. Two quotes stand for one, and
		// the field may span lines.
		line = line[1:]
		column++
		for {
			quote := bytes.IndexByte(line, '"')
			switch {
			case quote >= 0:
				if keep {
					s.scratch = append(s.scratch, line[:quote]...)
				}
				line = line[quote+1:]
				column += quote + 1
				switch {
				case len(line) > 0 && line[0] == '"':
					if keep {
						s.scratch = append(s.scratch, '"')
					}
					line = line[1:]
					column++
				case len(line) > 0 && line[0] == s.comma:
					if keep {
						kept = s.endField(kept)
					}
					position++
					line = line[1:]
					column++
					continue fields
				case len(line) == newlineLength(line):
					if keep {
						kept = s.endField(kept)
					}
					position++
					break fields
				default:
					parseErr = &csv.ParseError{StartLine: start, Line: s.lines, Column: column - 1, Err: csv.ErrQuote}
					break fields
				}
			case len(line) > 0:
				// The field goes on to the next line.
				if keep {
					s.scratch = append(s.scratch, line...)
				}
				column += len(line)
				line, err = s.readLine()
				size += len(line)
				if err == errRowTooLong || size > MaxRowBytes {
					return nil, 0, 0, rowTooLongError(s.path, start, s.all)
				}
				if len(line) > 0 {
					physical++
					column = 1
				}
				if err != nil && err != io.EOF {
					return nil, 0, 0, err
				}
			default:
				// The file ends inside the quotes.
				parseErr = &csv.ParseError{StartLine: start, Line: physical, Column: column, Err: csv.ErrQuote}
				break fields
			}
		}
	}

	fields = s.strings(kept)
	if parseErr != nil {
		return fields, position, start, parseErr
	}
	if s.width == 0 {
		s.width = position
	} else if position != s.width {
		return fields, position, start, &csv.ParseError{StartLine: start, Line: start, Column: 1, Err: csv.ErrFieldCount}
	}
	return fields, position, start, nil
}

// endField records the end of the kept field number kept and returns
// kept+1.
func (s *fastCSVSource) endField(kept int) int {
	if s.all {
		s.ends = append(s.ends, len(s.scratch))
	} else {
		s.ends[kept] = len(s.scratch)
	}
	return kept + 1
}

// strings copies the first kept fields of the scratch buffer into the
// arena and returns them as strings.
//
// The strings point into the arena without a copy. That is safe because
// the arena's bytes are never changed once written: when a block is full
// a new one is allocated, and the old one lives on as long as a string
// points into it.
func (s *fastCSVSource) strings(kept int) []string {
	if cap(s.kept) < kept {
		s.kept = make([]string, kept)
	}
	s.kept = s.kept[:kept]
	if kept == 0 {
		return s.kept
	}
	size := s.ends[kept-1]
	if cap(s.arena)-len(s.arena) < size {
		s.arena = make([]byte, 0, max(arenaSize, size))
	}
	base := len(s.arena)
	s.arena = append(s.arena, s.scratch[:size]...)
	block := s.arena[base : base+size]
	begin := 0
	for i := range kept {
		end := s.ends[i]
		if end > begin {
			s.kept[i] = unsafe.String(&block[begin], end-begin)
		} else {
			s.kept[i] = ""
		}
		begin = end
	}
	return s.kept
}
