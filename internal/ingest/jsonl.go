package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// jsonlSource reads one JSON object per line.
type jsonlSource struct {
	scanner *bufio.Scanner
	path    string
	columns []string
	line    int
	fields  map[string]json.RawMessage
}

func newJSONLSource(r io.Reader, path string, columns []string) *jsonlSource {
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 0, 64<<10), MaxRowBytes)
	return &jsonlSource{scanner: scanner, path: path, columns: columns}
}

func (s *jsonlSource) next(values []string) (int, error) {
	for s.scanner.Scan() {
		s.line++
		text := bytes.TrimSpace(s.scanner.Bytes())
		if len(text) == 0 {
			continue
		}
		if err := s.parse(text, values); err != nil {
			return 0, err
		}
		return s.line, nil
	}
	if err := s.scanner.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return 0, &RowError{Path: s.path, Line: s.line + 1, Err: fmt.Errorf(
				"the line is longer than %d bytes (ingest.MaxRowBytes): put one JSON object per line", MaxRowBytes)}
		}
		return 0, readError(s.path, err)
	}
	return 0, io.EOF
}

// parse decodes one line into values. Strings are returned as they are,
// numbers as their JSON text, booleans as "true" or "false" and null as "".
func (s *jsonlSource) parse(text []byte, values []string) error {
	if text[0] != '{' {
		return &RowError{Path: s.path, Line: s.line, Err: errors.New(
			"the line is not a JSON object: write one object such as {\"label\": 1} per line")}
	}
	clear(s.fields)
	if s.fields == nil {
		s.fields = make(map[string]json.RawMessage, len(s.columns))
	}
	if err := json.Unmarshal(text, &s.fields); err != nil {
		return &RowError{Path: s.path, Line: s.line, Err: fmt.Errorf(
			"invalid JSON: %w: write one complete object per line", err)}
	}
	// json.Unmarshal keeps the last of repeated keys, so a line such as
	// {"label": 1, "label": 0} would silently read as label 0.
	if members(text) != len(s.fields) {
		return &RowError{Path: s.path, Line: s.line, Err: fmt.Errorf(
			"the key %q appears more than once in this object: keep one of them", repeatedKey(text))}
	}

	for i, column := range s.columns {
		raw, ok := s.fields[column]
		if !ok {
			return &RowError{Path: s.path, Line: s.line, Column: column, Err: fmt.Errorf(
				"%w in this object: add the key to every line or configure the right column name", ErrMissingColumn)}
		}
		value, err := scalar(raw)
		if err != nil {
			return &RowError{Path: s.path, Line: s.line, Column: column, Err: err}
		}
		values[i] = value
	}
	return nil
}

// scalar converts a JSON value that json.Unmarshal has already validated.
func scalar(raw json.RawMessage) (string, error) {
	switch raw[0] {
	case '"':
		// encoding/json replaces invalid UTF-8 and unpaired surrogate
		// escapes with U+FFFD, which would make different values equal.
		if !utf8.Valid(raw) {
			return "", invalidUTF8Error(string(raw[1:len(raw)-1]), JSONL)
		}
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			return "", fmt.Errorf("invalid JSON string: %w", err)
		}
		if strings.ContainsRune(text, utf8.RuneError) {
			if escape := unpairedSurrogate(raw); escape != "" {
				return "", fmt.Errorf("%w: the string contains %s, half of a UTF-16 surrogate pair, which is not a character (Python's json.dumps writes one for a byte that was read with errors=\"surrogateescape\"): decode the source data with its real encoding, then write the file again",
					ErrInvalidUTF8, escape)
			}
		}
		return text, nil
	case '{', '[':
		return "", errors.New("the value is an object or an array: give a string, a number or a boolean")
	case 'n':
		return "", nil
	}
	// A number, true or false: its JSON text is its value.
	return string(raw), nil
}

// members returns the number of members of the JSON object text, which
// json.Unmarshal has already validated: the commas outside strings at
// nesting depth 1, plus one unless the object is empty.
func members(text []byte) int {
	depth, commas, inString, escaped, empty := 0, 0, false, false, true
	for _, c := range text {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			continue
		case c == '}' || c == ']':
			depth--
			continue
		case c == ',' && depth == 1:
			commas++
		}
		if depth == 1 && c > ' ' {
			empty = false
		}
	}
	if empty {
		return 0
	}
	return commas + 1
}

// repeatedKey returns the first key of the JSON object text that repeats
// an earlier one after decoding, or "" if there is none. text must be
// valid JSON.
func repeatedKey(text []byte) string {
	decoder := json.NewDecoder(bytes.NewReader(text))
	if _, err := decoder.Token(); err != nil {
		return ""
	}
	seen := map[string]bool{}
	for decoder.More() {
		token, err := decoder.Token()
		if err != nil {
			return ""
		}
		key, _ := token.(string)
		if seen[key] {
			return key
		}
		seen[key] = true
		var value json.RawMessage
		if err := decoder.Decode(&value); err != nil {
			return ""
		}
	}
	return ""
}

// unpairedSurrogate returns the first \uXXXX escape of the JSON string raw
// that is a UTF-16 surrogate without its other half, or "" if there is
// none. raw must be a valid JSON string, quotes included.
func unpairedSurrogate(raw []byte) string {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		if raw[i+1] != 'u' {
			i++ // skip the escaped character, which may be a backslash
			continue
		}
		unit := escapedUnit(raw[i:])
		switch {
		case unit >= 0xD800 && unit < 0xDC00:
			if next := escapedUnit(raw[i+6:]); next >= 0xDC00 && next < 0xE000 {
				i += 11
				continue
			}
			return string(raw[i : i+6])
		case unit >= 0xDC00 && unit < 0xE000:
			return string(raw[i : i+6])
		}
		i += 5
	}
	return ""
}

// escapedUnit returns the UTF-16 code unit of a \uXXXX escape at the start
// of text, or -1 when text does not start with one.
func escapedUnit(text []byte) int {
	if len(text) < 6 || text[0] != '\\' || text[1] != 'u' {
		return -1
	}
	unit, err := strconv.ParseUint(string(text[2:6]), 16, 16)
	if err != nil {
		return -1
	}
	return int(unit)
}
