package ingest

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// parquetBatch is how many rows a parquetSource decodes at a time.
const parquetBatch = 1024

// parquetSource reads rows of a Parquet file with a flat schema.
type parquetSource struct {
	reader  *parquet.Reader
	path    string
	indexes map[int][]int // leaf column index to the requested positions
	rows    []parquet.Row
	next_   int // next unread row of rows
	filled  int // rows of rows decoded by the last read
	row     int // 1-based number of the row last returned
}

// openParquet opens a Parquet file, optionally gzip-compressed. Parquet
// needs random access, so a compressed file is first decompressed into a
// temporary file that Close removes.
func openParquet(path string, opts Options) (*Reader, error) {
	f, _, err := OpenFile(path, "predictions", opts.DisplayPath)
	if err != nil {
		return nil, err
	}

	// The digest covers the file as stored, so it is taken before any
	// decompression.
	hash := sha256.New()
	buffered := bufio.NewReaderSize(io.TeeReader(f, hash), 64<<10)
	magic, _ := buffered.Peek(2)
	isGzip := len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b
	closer := &fileCloser{file: f}

	var data *os.File
	if isGzip {
		gz, err := gzip.NewReader(buffered)
		if err != nil {
			f.Close()
			return nil, gzipError(opts.DisplayPath, err)
		}
		tmp, err := os.CreateTemp("", "auditpack-*.parquet")
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%s: creating a temporary file to decompress into: %w", opts.DisplayPath, err)
		}
		closer.temp = tmp
		if _, err := io.Copy(tmp, gz); err != nil {
			closer.Close()
			return nil, readError(opts.DisplayPath, gzipError(opts.DisplayPath, err))
		}
		data = tmp
	} else {
		if strings.HasSuffix(strings.ToLower(opts.DisplayPath), ".gz") {
			f.Close()
			return nil, fmt.Errorf("%s: the name ends in .gz but the file is not gzip-compressed: compress it or rename it", opts.DisplayPath)
		}
		data = f
	}
	if _, err := io.Copy(io.Discard, buffered); err != nil {
		closer.Close()
		return nil, fmt.Errorf("reading %s: %w", opts.DisplayPath, err)
	}
	digest := hex.EncodeToString(hash.Sum(nil))

	info, err := data.Stat()
	if err != nil {
		closer.Close()
		return nil, fmt.Errorf("reading %s: %w", opts.DisplayPath, err)
	}
	file, err := parquet.OpenFile(data, info.Size())
	if err != nil {
		closer.Close()
		return nil, fmt.Errorf("%s: not a readable Parquet file: %w", opts.DisplayPath, err)
	}

	source, err := newParquetSource(file, opts)
	if err != nil {
		closer.Close()
		return nil, err
	}
	return &Reader{path: opts.DisplayPath, format: Parquet, columns: opts.Columns, rows: source, digest: digest, file: closer}, nil
}

func newParquetSource(file *parquet.File, opts Options) (*parquetSource, error) {
	schema := file.Schema()
	var names []string
	for _, path := range schema.Columns() {
		names = append(names, strings.Join(path, "."))
	}
	indexes := map[int][]int{}
	for i, column := range opts.Columns {
		leaf, ok := schema.Lookup(strings.Split(column, ".")...)
		if !ok {
			return nil, &RowError{Path: opts.DisplayPath, Line: 0, Column: column, Err: fmt.Errorf(
				"%w in the Parquet schema, which has %s: configure one of these names", ErrMissingColumn, quoteAll(names))}
		}
		if leaf.MaxRepetitionLevel > 0 {
			return nil, &RowError{Path: opts.DisplayPath, Column: column, Err: errors.New(
				"the column is repeated (a list); give one value per row")}
		}
		indexes[leaf.ColumnIndex] = append(indexes[leaf.ColumnIndex], i)
	}
	rows := make([]parquet.Row, parquetBatch)
	return &parquetSource{reader: parquet.NewReader(file), path: opts.DisplayPath, indexes: indexes, rows: rows}, nil
}

// next returns the row number (1-based, there are no lines) in place of a
// line number.
func (s *parquetSource) next(values []string) (int, error) {
	if s.next_ == s.filled {
		n, err := s.reader.ReadRows(s.rows)
		if n == 0 {
			if err == nil || errors.Is(err, io.EOF) {
				return 0, io.EOF
			}
			return 0, fmt.Errorf("reading %s after row %d: %w", s.path, s.row, err)
		}
		s.next_, s.filled = 0, n
	}
	row := s.rows[s.next_]
	s.next_++
	s.row++
	for i := range values {
		values[i] = ""
	}
	for _, v := range row {
		positions, ok := s.indexes[v.Column()]
		if !ok {
			continue
		}
		text := parquetText(v)
		for _, p := range positions {
			values[p] = text
		}
	}
	return s.row, nil
}

// parquetText renders a value as the text a CSV file would hold: numbers
// in the shortest form that reads back to the same value, null as "".
func parquetText(v parquet.Value) string {
	if v.IsNull() {
		return ""
	}
	switch v.Kind() {
	case parquet.Boolean:
		return strconv.FormatBool(v.Boolean())
	case parquet.Int32:
		return strconv.FormatInt(int64(v.Int32()), 10)
	case parquet.Int64:
		return strconv.FormatInt(v.Int64(), 10)
	case parquet.Float:
		return strconv.FormatFloat(float64(v.Float()), 'g', -1, 32)
	case parquet.Double:
		return strconv.FormatFloat(v.Double(), 'g', -1, 64)
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return string(v.ByteArray())
	}
	return v.String()
}

// fileCloser closes the input file and removes a temporary decompressed
// copy.
type fileCloser struct {
	file *os.File
	temp *os.File
}

func (c *fileCloser) Close() error {
	err := c.file.Close()
	if c.temp != nil {
		err = errors.Join(err, c.temp.Close(), os.Remove(c.temp.Name()))
	}
	return err
}
