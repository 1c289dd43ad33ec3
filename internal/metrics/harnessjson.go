package metrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// positionError is a problem at a line and byte column of a results file.
// ReadHarness prefixes it with the file's path, giving path:line:column.
type positionError struct {
	Line   int
	Column int // 1-based byte column; 0 when only the line is known
	Err    error
}

func (e *positionError) Error() string {
	if e.Column == 0 {
		return fmt.Sprintf("%d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("%d:%d: %v", e.Line, e.Column, e.Err)
}

func (e *positionError) Unwrap() error { return e.Err }

// checkJSON checks that data is exactly one valid JSON value with no key
// repeated in any object. firstLine is the line of data's first byte in
// the file.
//
// encoding/json keeps the last of repeated keys without a word, so
// {"acc": 0.2, "acc": 0.9} would read as 0.9, and it reports a syntax
// error only as a byte offset.
func checkJSON(data []byte, firstLine int) error {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.UseNumber()
	walker := &jsonWalker{data: data, decoder: decoder, firstLine: firstLine}
	if err := walker.value(""); err != nil {
		return err
	}
	offset := int(decoder.InputOffset())
	if _, err := decoder.Token(); err != io.EOF {
		for offset < len(data) && isJSONSpace(data[offset]) {
			offset++
		}
		return walker.at(offset, errors.New("unexpected data after the JSON value: a results file must contain exactly one JSON document"))
	}
	return nil
}

// jsonWalker reads a JSON document token by token.
type jsonWalker struct {
	data      []byte
	decoder   *json.Decoder
	firstLine int
}

// value reads one value whose key path (for messages) is path.
func (w *jsonWalker) value(path string) error {
	token, err := w.decoder.Token()
	if err != nil {
		return w.syntaxError(err)
	}
	switch token {
	case json.Delim('{'):
		return w.object(path)
	case json.Delim('['):
		for index := 0; w.decoder.More(); index++ {
			if err := w.value(path + "[" + strconv.Itoa(index) + "]"); err != nil {
				return err
			}
		}
		if _, err := w.decoder.Token(); err != nil {
			return w.syntaxError(err)
		}
	}
	return nil
}

// object reads the members of an object after its '{'.
func (w *jsonWalker) object(path string) error {
	seen := map[string]bool{}
	for w.decoder.More() {
		// The key starts at the first quote after the previous token.
		start := int(w.decoder.InputOffset())
		for start < len(w.data) && w.data[start] != '"' {
			start++
		}
		token, err := w.decoder.Token()
		if err != nil {
			return w.syntaxError(err)
		}
		key, _ := token.(string)
		child := key
		if path != "" {
			child = path + "." + key
		}
		if seen[key] {
			where := "the top-level object"
			if path != "" {
				where = path
			}
			return w.at(start, fmt.Errorf("the key %q appears more than once in %s: keep one of them", key, where))
		}
		seen[key] = true
		if err := w.value(child); err != nil {
			return err
		}
	}
	if _, err := w.decoder.Token(); err != nil {
		return w.syntaxError(err)
	}
	return nil
}

// syntaxError places a decoding error at its line and column, with advice
// for the NaN and Infinity that Python's json module writes by default.
func (w *jsonWalker) syntaxError(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return w.at(len(w.data), errors.New("unexpected end of JSON input: the file is truncated"))
	}
	var syntax *json.SyntaxError
	if !errors.As(err, &syntax) {
		return err
	}
	// The Offset of a Decoder's error does not count the delimiters that
	// Token consumed, but json.Unmarshal scans the whole document and
	// reports the offset in it.
	var raw json.RawMessage
	if errors.As(json.Unmarshal(w.data, &raw), &syntax) {
		err = syntax
	}
	// Offset counts the bytes read, up to and including the bad one.
	offset := max(int(syntax.Offset)-1, 0)
	if offset > 0 && offset <= len(w.data) && w.data[offset-1] == '-' {
		offset--
	}
	rest := w.data[min(offset, len(w.data)):]
	for _, word := range []string{"NaN", "Infinity", "-Infinity"} {
		if bytes.HasPrefix(rest, []byte(word)) {
			return w.at(offset, fmt.Errorf("%s is not valid JSON (Python's json.dump writes it unless allow_nan=False): write null for an undefined value, or a number", word))
		}
	}
	return w.at(offset, fmt.Errorf("invalid JSON: %v", err))
}

// at returns err at the line and column of data[offset].
func (w *jsonWalker) at(offset int, err error) error {
	offset = min(offset, len(w.data))
	before := w.data[:offset]
	line := w.firstLine + bytes.Count(before, []byte("\n"))
	column := offset - bytes.LastIndexByte(before, '\n')
	return &positionError{Line: line, Column: column, Err: err}
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
