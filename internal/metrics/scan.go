package metrics

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/auditpack/auditpack/internal/ingest"
)

// checkEvery is how many rows a scan reads between two checks of its
// context.
const checkEvery = 4096

// batchRows is how many rows the reading goroutine of a scan hands over at
// a time.
const batchRows = 2048

// rowBatch is a run of rows: values holds len(lines) rows of the requested
// columns, one after another.
type rowBatch struct {
	values []string
	lines  []int
	err    error // the error that ended the file, nil at its end
}

// scan reads every row of spec's predictions file once and calls each with
// the requested columns' values, which are only valid during the call. It
// returns the file's Source.
//
// One goroutine reads and parses the file while the caller's goroutine
// runs each, so that parsing and computing overlap on two cores. Handing
// the values between goroutines is safe because an ingest.Reader never
// changes a string it has returned.
func scan(ctx context.Context, spec Spec, columns []string, each func(values []string, line int) error) (Source, error) {
	var format ingest.Format
	if spec.Format != "" {
		var err error
		if format, err = ingest.ParseFormat(spec.Format); err != nil {
			return Source{}, err
		}
	}
	reader, err := ingest.Open(spec.Path, ingest.Options{
		DisplayPath: spec.DisplayPath, Format: format, Columns: columns,
		Delimiter: spec.Delimiter, Header: spec.Header,
	})
	if err != nil {
		return Source{}, err
	}
	defer reader.Close()

	full := make(chan *rowBatch, 2)
	free := make(chan *rowBatch, 3)
	for range cap(free) {
		free <- &rowBatch{values: make([]string, 0, batchRows*len(columns)), lines: make([]int, 0, batchRows)}
	}
	done := make(chan struct{})
	defer func() {
		// Stop the reading goroutine and wait until it has let go of the
		// reader, which the earlier deferred call closes.
		close(done)
		for range full {
		}
	}()
	go readBatches(ctx, reader, len(columns), full, free, done)

	for batch := range full {
		for i, line := range batch.lines {
			if err := each(batch.values[i*len(columns):(i+1)*len(columns)], line); err != nil {
				return Source{}, err
			}
		}
		if batch.err != nil {
			return Source{}, batch.err
		}
		free <- batch
	}

	// full is closed only after the reading goroutine has finished with the
	// reader, so the digest can be read here.
	digest, err := reader.SHA256()
	if err != nil {
		return Source{}, err
	}
	return Source{Path: spec.DisplayPath, SHA256: digest, Rows: int64(reader.Rows())}, nil
}

// readBatches fills batches from free with rows of reader and sends them
// on full, which it closes at the end of the file or after an error. It
// stops early when done is closed.
func readBatches(ctx context.Context, reader *ingest.Reader, width int, full, free chan *rowBatch, done <-chan struct{}) {
	defer close(full)
	row := make([]string, width)
	for {
		var batch *rowBatch
		select {
		case batch = <-free:
		case <-done:
			return
		}
		batch.values, batch.lines, batch.err = batch.values[:0], batch.lines[:0], nil
		end := false
		for len(batch.lines) < batchRows {
			if reader.Rows()%checkEvery == 0 {
				if err := ctx.Err(); err != nil {
					batch.err, end = err, true
					break
				}
			}
			err := reader.Next(row)
			if err == io.EOF {
				end = true
				break
			}
			if err != nil {
				batch.err, end = err, true
				break
			}
			batch.values = append(batch.values, row...)
			batch.lines = append(batch.lines, reader.Line())
		}
		select {
		case full <- batch:
		case <-done:
			return
		}
		if end {
			return
		}
	}
}

// linearGroups is the number of groups of a column up to which assign
// looks a value up by comparing it with each group's.
const linearGroups = 8

// groupIndex assigns every row a group id in each dimension: each group
// column, then each intersection of columns. Group ids are dense, in the
// order groups are first met.
type groupIndex struct {
	path  string // the predictions file, for messages
	limit int    // the most groups a dimension may have
	names []string
	// parts[d] lists the positions, among the row's group values, that
	// make up dimension d.
	parts [][]int
	ids   []map[string]int32
	// values[d][id] holds the value of each column of group id.
	values [][][]string
	key    []byte
}

func newGroupIndex(spec Spec) *groupIndex {
	g := &groupIndex{path: spec.DisplayPath, limit: spec.MaxGroups, names: spec.dimensionNames()}
	if g.limit <= 0 {
		g.limit = DefaultMaxGroups
	}
	position := make(map[string]int, len(spec.Groups))
	for i, column := range spec.Groups {
		position[column] = i
		g.parts = append(g.parts, []int{i})
	}
	for _, combo := range spec.Intersections {
		var part []int
		for _, column := range combo {
			part = append(part, position[column])
		}
		g.parts = append(g.parts, part)
	}
	g.ids = make([]map[string]int32, len(g.parts))
	g.values = make([][][]string, len(g.parts))
	for d := range g.ids {
		g.ids[d] = map[string]int32{}
	}
	return g
}

// assign fills ids with the group of the row on line in every dimension
// and reports whether any group is new. A group beyond the limit is an
// error.
func (g *groupIndex) assign(row []string, ids []int32, line int) (bool, error) {
	created := false
	for d, part := range g.parts {
		var id int32
		var ok bool
		switch {
		case len(part) == 1 && len(g.values[d]) <= linearGroups:
			// A few string comparisons beat hashing the value.
			value := row[part[0]]
			for i, values := range g.values[d] {
				if values[0] == value {
					id, ok = int32(i), true
					break
				}
			}
		case len(part) == 1:
			id, ok = g.ids[d][row[part[0]]]
		default:
			// The unit separator cannot be confused with text in a
			// well-formed file, and a collision is checked in names.
			g.key = g.key[:0]
			for i, p := range part {
				if i > 0 {
					g.key = append(g.key, 0x1f)
				}
				g.key = append(g.key, row[p]...)
			}
			id, ok = g.ids[d][string(g.key)]
		}
		if !ok {
			if len(g.values[d]) >= g.limit {
				return false, g.tooManyGroups(d, line)
			}
			id = int32(len(g.values[d]))
			values := make([]string, len(part))
			for i, p := range part {
				values[i] = strings.Clone(row[p])
			}
			g.values[d] = append(g.values[d], values)
			g.ids[d][strings.Join(values, "\x1f")] = id
			created = true
		}
		ids[d] = id
	}
	return created, nil
}

// tooManyGroups is the error for a group of dimension d, first met on
// line, that would exceed the limit.
func (g *groupIndex) tooManyGroups(d, line int) error {
	kind, fix := "group column", "remove the column from groups"
	if len(g.parts[d]) > 1 {
		kind, fix = "intersection", "remove the intersection from intersections"
	}
	return &ingest.RowError{Path: g.path, Line: line, Column: g.names[d], Err: fmt.Errorf(
		"the %s has more than %d distinct values (fairness.max_groups): a group column should hold a protected attribute such as race or sex, not an identifier; %s, or raise fairness.max_groups if it really has that many groups",
		kind, g.limit, fix)}
}

// groupNames returns the display names of the groups of dimension d, by
// id: the value itself, or the values joined with "+" for an intersection.
// Two distinct groups rendered the same way are an error.
func (g *groupIndex) groupNames(d int) ([]string, error) {
	names := make([]string, len(g.values[d]))
	seen := make(map[string]int, len(names))
	for id, values := range g.values[d] {
		name := strings.Join(values, "+")
		if other, ok := seen[name]; ok {
			return nil, fmt.Errorf("intersection %s: the groups %q and %q both render as %q: remove '+' from the values of its columns",
				g.names[d], g.values[d][other], values, name)
		}
		seen[name] = id
		names[id] = name
	}
	return names, nil
}
