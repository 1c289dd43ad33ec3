// Package strictyaml decodes YAML files into Go structs strictly: unknown
// keys, values of the wrong shape and multiple documents are errors that
// name the file, the line and the key, in the words of the file rather than
// of Go types. The configuration and the policy loaders share it.
package strictyaml

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Error is one problem found in a YAML file.
type Error struct {
	File string
	// Line is 1-based; 0 means the problem has no single line.
	Line int
	// Key is the dotted path of the offending key, such as
	// "evaluations[0].columns.label"; empty for the whole file.
	Key string
	Msg string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		fmt.Fprintf(&b, "%s: ", e.Key)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Document is a decoded file, kept so that later validation can point at the
// line of any key.
type Document struct {
	file string
	root *yaml.Node
	// problems lists the keys whose values DecodeAll could not decode.
	problems []string
	// bad maps each value node that check rejected to the Go type it
	// should have fitted. duplicates contains the key nodes that repeat an
	// earlier key. DecodeAll leaves both out of decoding.
	bad        map[*yaml.Node]reflect.Type
	duplicates map[*yaml.Node]bool
}

// reject records node as a value of the wrong shape for the Go type t and
// returns err.
func (d *Document) reject(node *yaml.Node, t reflect.Type, err *Error) []error {
	if d.bad == nil {
		d.bad = map[*yaml.Node]reflect.Type{}
	}
	d.bad[node] = t
	return []error{err}
}

// prune replaces the rejected values under node with the zero value of
// their type, and removes the repeated keys. yaml.v3 would otherwise drop
// a list item that it cannot decode, shifting the items after it. A
// replaced value keeps its line, so Line still finds the keys that were
// reported.
func (d *Document) prune(node *yaml.Node) {
	if t, ok := d.bad[node]; ok {
		*node = zeroNode(t, node.Line, node.Column)
		return
	}
	if node.Kind == yaml.MappingNode {
		// check reports a repeated key, a key that is not a plain scalar
		// and a merge key ("<<"). They are removed before decoding,
		// because yaml.v3 panics on some of them.
		var kept []*yaml.Node
		for i := 0; i+1 < len(node.Content); i += 2 {
			key := node.Content[i]
			if d.duplicates[key] || d.badKey(key, "") != nil {
				continue
			}
			kept = append(kept, key, node.Content[i+1])
		}
		node.Content = kept
	}
	for _, child := range node.Content {
		d.prune(child)
	}
}

// Decode parses data as a single YAML mapping, rejects keys that v's struct
// type does not declare, and decodes into v. The returned error joins every
// problem found, each an *Error.
func Decode(file string, data []byte, v any) (*Document, error) {
	root, err := parse(file, data)
	if err != nil {
		return nil, err
	}
	doc := &Document{file: file, root: root}

	// Check keys and shapes before decoding, because yaml.v3 names Go types
	// rather than keys in its own messages.
	if errs := doc.check(root, reflect.TypeOf(v).Elem(), ""); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := decodeSafely(root, v); err != nil {
		return nil, doc.decodeError(err)
	}
	return doc, nil
}

// DecodeAll is Decode that keeps going after unknown keys and values of
// the wrong shape, so that a caller can validate the rest of the file and
// report every problem in one run. It decodes into v every value that
// fits, leaving the others at their zero value, and returns those problems
// as errs. doc is nil only when data is not a single YAML mapping; errs
// then holds that error. Pass the validation errors through doc.Filter,
// which drops those about keys whose values could not be decoded.
func DecodeAll(file string, data []byte, v any) (doc *Document, errs []error) {
	root, err := parse(file, data)
	if err != nil {
		return nil, []error{err}
	}
	doc = &Document{file: file, root: root}
	errs = doc.check(root, reflect.TypeOf(v).Elem(), "")
	for _, e := range errs {
		var ye *Error
		if errors.As(e, &ye) && !strings.HasPrefix(ye.Msg, "unknown key") {
			doc.problems = append(doc.problems, ye.Key)
		}
	}
	doc.prune(root)
	if err := decodeSafely(root, v); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, append(errs, doc.decodeError(err))
		}
		// yaml.v3 decodes what fits and reports the rest, such as a
		// number too large for its field.
		errs = append(errs, doc.decodeError(err))
	}
	return doc, errs
}

// decodeSafely decodes root into v, turning a panic inside yaml.v3 into an
// error, so that no input can crash a caller.
func decodeSafely(root *yaml.Node, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the YAML could not be decoded (%v): simplify the file's structure", r)
		}
	}()
	return root.Decode(v)
}

// zeroNode returns a node that decodes to the zero value of t.
func zeroNode(t reflect.Type, line, column int) yaml.Node {
	n := yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: line, Column: column}
	switch t.Kind() {
	case reflect.Pointer, reflect.Interface:
		// A null decodes to nil.
	case reflect.Struct, reflect.Map:
		n.Kind, n.Tag = yaml.MappingNode, "!!map"
	case reflect.Slice:
		n.Kind, n.Tag = yaml.SequenceNode, "!!seq"
	case reflect.Bool:
		n.Tag, n.Value = "!!bool", "false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		n.Tag, n.Value = "!!int", "0"
	case reflect.String:
		n.Tag = "!!str"
	}
	return n
}

// SortByLine orders errs by line, keeping the order of errors on the same
// line; errors that are not *Error, or have no line, come first.
func SortByLine(errs []error) {
	line := func(e error) int {
		var ye *Error
		if errors.As(e, &ye) {
			return ye.Line
		}
		return 0
	}
	slices.SortStableFunc(errs, func(a, b error) int { return cmp.Compare(line(a), line(b)) })
}

// HasProblem reports whether DecodeAll could not decode the value of key,
// of a key inside it or of a key that contains it. A validation that
// compares key with other keys can skip itself then.
func (d *Document) HasProblem(key string) bool {
	for _, p := range d.problems {
		if related(p, key) {
			return true
		}
	}
	return false
}

// Filter returns errs without the *Error values about keys that DecodeAll
// could not decode, or keys inside or containing them. Those values were
// left at zero, so such errors would repeat a problem already reported.
func (d *Document) Filter(errs []error) []error {
	if len(d.problems) == 0 {
		return errs
	}
	var out []error
	for _, e := range errs {
		var ye *Error
		if errors.As(e, &ye) && d.HasProblem(ye.Key) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// related reports whether one of the keys a and b is the other or lies
// inside it.
func related(a, b string) bool {
	return within(a, b) || within(b, a)
}

// within reports whether key is outer or a key inside it.
func within(key, outer string) bool {
	if outer == "" || !strings.HasPrefix(key, outer) {
		return false
	}
	rest := key[len(outer):]
	return rest == "" || rest[0] == '.' || rest[0] == '['
}

// Errorf returns an *Error for key, located at the key's line when the key
// is present in the file, else at its nearest present parent.
func (d *Document) Errorf(key, format string, args ...any) *Error {
	return &Error{File: d.file, Line: d.Line(key), Key: key, Msg: fmt.Sprintf(format, args...)}
}

var segmentRE = regexp.MustCompile(`([^.\[\]]+)|\[(\d+)\]`)

// Line returns the line of key (a path such as "a.b[2].c"), or of its
// nearest present parent; 0 if none is present.
func (d *Document) Line(key string) int {
	line, _ := d.lookup(key)
	return line
}

// Keys returns the keys of the mapping at key, in file order, or nil when
// key is not present or is not a mapping. A validation can use it to tell
// a key that is present but empty from one that is left out.
func (d *Document) Keys(key string) []string {
	_, node := d.lookup(key)
	if node == nil || node.Kind != yaml.MappingNode {
		return nil
	}
	keys := make([]string, 0, len(node.Content)/2)
	for i := 0; i+1 < len(node.Content); i += 2 {
		keys = append(keys, node.Content[i].Value)
	}
	return keys
}

// lookup returns the value node of key with the line of key, or nil with
// the line of key's nearest present parent.
func (d *Document) lookup(key string) (int, *yaml.Node) {
	node := d.root
	if node == nil {
		return 0, nil
	}
	line := node.Line
	for _, m := range segmentRE.FindAllStringSubmatch(key, -1) {
		var next *yaml.Node
		switch {
		case m[1] != "" && node.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(node.Content); i += 2 {
				if node.Content[i].Value == m[1] {
					line = node.Content[i].Line
					next = node.Content[i+1]
					break
				}
			}
		case m[2] != "" && node.Kind == yaml.SequenceNode:
			idx, _ := strconv.Atoi(m[2])
			if idx < len(node.Content) {
				next = node.Content[idx]
				line = next.Line
			}
		}
		if next == nil {
			return line, nil
		}
		node = next
	}
	return line, node
}

func parse(file string, data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: "the file is empty"}
		}
		return nil, syntaxError(file, data, err)
	}
	// A second document in the same file is almost always a mistake.
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: file, Line: extra.Line, Msg: "more than one YAML document; keep a single document"}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(file, data, err)
	}
	if len(doc.Content) == 0 {
		return nil, &Error{File: file, Msg: "the file is empty"}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &Error{File: file, Line: root.Line, Msg: "the top level must be a mapping of keys"}
	}
	return root, nil
}

var lineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a yaml.v3 parse error into an *Error with the line of
// the problem.
func syntaxError(file string, data []byte, err error) error {
	msg := err.Error()
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Line: problemLine(data, line, m[2]), Msg: "invalid YAML: " + m[2]}
	}
	text := strings.TrimPrefix(msg, "yaml: ")
	return &Error{File: file, Line: unmarkedLine(data, text), Msg: "invalid YAML: " + text}
}

// maxSearchedLines bounds the lines problemLine parses again, each time
// from the start of the file, so that the search stays cheap.
const maxSearchedLines = 2000

// problemLine returns the line of a syntax error that yaml.v3 reported at
// line. When the parser was inside a block, yaml.v3 gives the line where
// that block starts (the context) instead of the offending line, so
// "rules:" on line 1 takes the blame for a bad indentation on line 3. The
// offending line is the first one at which the file, cut after that line,
// fails with the same message.
func problemLine(data []byte, line int, text string) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) > maxSearchedLines {
		return line
	}
	end := 0
	for n := range lines {
		end += len(lines[n])
		if n+1 < line {
			continue
		}
		err := parseAll(data[:end])
		if err == nil {
			continue
		}
		if m := lineRE.FindStringSubmatch(err.Error()); m != nil && m[2] == text {
			return n + 1
		}
	}
	return line
}

// parseAll parses every document of data and returns the first error.
func parseAll(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var node yaml.Node
		if err := dec.Decode(&node); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

var anchorRE = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// unmarkedLine finds the line of the yaml.v3 errors whose message carries
// none: a control character, invalid UTF-8 and an unknown anchor. It
// returns 0 when it cannot tell.
func unmarkedLine(data []byte, text string) int {
	offset := -1
	switch {
	case text == "control characters are not allowed":
		offset = bytes.IndexFunc(data, func(r rune) bool {
			return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f
		})
	case strings.Contains(text, "UTF-8"):
		for i := 0; i < len(data); {
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size <= 1 {
				offset = i
				break
			}
			i += size
		}
	default:
		if m := anchorRE.FindStringSubmatch(text); m != nil {
			offset = bytes.Index(data, []byte("*"+m[1]))
		}
	}
	if offset < 0 {
		return 0
	}
	return bytes.Count(data[:offset], []byte("\n")) + 1
}

var unmarshalLineRE = regexp.MustCompile(`^\s*line (\d+): (.*)$`)

// decodeError turns yaml.v3 type errors into *Error values. Most shape
// problems are caught earlier by check; this covers the rest, such as a
// number too large for its field.
func (d *Document) decodeError(err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return &Error{File: d.file, Msg: err.Error()}
	}
	var errs []error
	for _, e := range te.Errors {
		if m := unmarshalLineRE.FindStringSubmatch(e); m != nil {
			line, _ := strconv.Atoi(m[1])
			errs = append(errs, &Error{File: d.file, Line: line, Msg: m[2]})
			continue
		}
		errs = append(errs, &Error{File: d.file, Msg: e})
	}
	return errors.Join(errs...)
}

// check walks node against the Go type t and reports unknown keys and
// values whose YAML kind cannot fit t, using the file's own key names.
func (d *Document) check(node *yaml.Node, t reflect.Type, path string) []error {
	declared := t
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if node.Kind == yaml.AliasNode {
		node = node.Alias
	}
	if node.Kind == yaml.ScalarNode && node.Tag == "!!null" {
		return nil
	}
	where := path
	if where == "" {
		where = "the top level"
	}

	switch t.Kind() {
	case reflect.Struct:
		if node.Kind != yaml.MappingNode {
			return d.reject(node, declared, &Error{File: d.file, Line: node.Line, Key: path, Msg: fmt.Sprintf("must be a mapping, got %s", kindName(node))})
		}
		fields := map[string]reflect.StructField{}
		var names []string
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" || !f.IsExported() {
				continue
			}
			fields[name] = f
			names = append(names, name)
		}
		var errs []error
		seen := map[string]bool{}
		for i := 0; i+1 < len(node.Content); i += 2 {
			k, v := node.Content[i], node.Content[i+1]
			key := join(path, k.Value)
			f, ok := fields[k.Value]
			switch {
			case d.badKey(k, path) != nil:
				errs = append(errs, d.badKey(k, path))
				continue
			case !ok:
				errs = append(errs, &Error{File: d.file, Line: k.Line, Key: key,
					Msg: fmt.Sprintf("unknown key in %s; valid keys are %s", where, strings.Join(names, ", "))})
				continue
			case seen[k.Value]:
				if d.duplicates == nil {
					d.duplicates = map[*yaml.Node]bool{}
				}
				d.duplicates[k] = true
				errs = append(errs, &Error{File: d.file, Line: k.Line, Key: key, Msg: "duplicate key"})
				continue
			}
			seen[k.Value] = true
			errs = append(errs, d.check(v, f.Type, key)...)
		}
		return errs

	case reflect.Slice:
		if node.Kind != yaml.SequenceNode {
			return d.reject(node, declared, &Error{File: d.file, Line: node.Line, Key: path, Msg: fmt.Sprintf("must be a list, got %s", kindName(node))})
		}
		var errs []error
		for i, item := range node.Content {
			errs = append(errs, d.check(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
		return errs

	case reflect.Map:
		if node.Kind != yaml.MappingNode {
			return d.reject(node, declared, &Error{File: d.file, Line: node.Line, Key: path, Msg: fmt.Sprintf("must be a mapping, got %s", kindName(node))})
		}
		var errs []error
		for i := 0; i+1 < len(node.Content); i += 2 {
			if err := d.badKey(node.Content[i], path); err != nil {
				errs = append(errs, err)
				continue
			}
			errs = append(errs, d.check(node.Content[i+1], t.Elem(), join(path, node.Content[i].Value))...)
		}
		return errs

	case reflect.Interface:
		return nil

	default:
		if node.Kind != yaml.ScalarNode {
			return d.reject(node, declared, &Error{File: d.file, Line: node.Line, Key: path, Msg: fmt.Sprintf("must be a single value, got %s", kindName(node))})
		}
		return d.checkScalar(node, declared, t, path)
	}
}

// badKey returns the error for a mapping key that is not a plain value:
// a list or mapping used as a key, or a merge key ("<<"). prune removes
// such keys, so DecodeAll reports them and decodes the rest.
func (d *Document) badKey(k *yaml.Node, path string) error {
	switch {
	case k.Kind != yaml.ScalarNode:
		return &Error{File: d.file, Line: k.Line, Key: path, Msg: fmt.Sprintf("a key must be a single value, got %s", kindName(k))}
	case k.Tag == "!!merge":
		return &Error{File: d.file, Line: k.Line, Key: join(path, "<<"), Msg: "merge keys (<<) are not supported: write the keys out"}
	}
	return nil
}

func (d *Document) checkScalar(node *yaml.Node, declared, t reflect.Type, path string) []error {
	bad := func(want string) []error {
		return d.reject(node, declared, &Error{File: d.file, Line: node.Line, Key: path, Msg: fmt.Sprintf("must be %s, got %q", want, node.Value)})
	}
	switch t.Kind() {
	case reflect.Bool:
		if node.Tag != "!!bool" {
			return bad("true or false")
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		if node.Tag != "!!int" {
			return bad("an integer")
		}
	case reflect.Float64, reflect.Float32:
		if node.Tag != "!!int" && node.Tag != "!!float" {
			return bad("a number")
		}
	case reflect.String:
		// Any scalar reads as a string; labels such as 1 or true are common.
	}
	return nil
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
