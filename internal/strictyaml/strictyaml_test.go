package strictyaml

import (
	"errors"
	"strings"
	"testing"
)

type inner struct {
	Name  string  `yaml:"name"`
	Count int     `yaml:"count"`
	Ratio float64 `yaml:"ratio"`
	On    bool    `yaml:"on"`
}

type doc struct {
	Inner inner            `yaml:"inner"`
	List  []inner          `yaml:"list"`
	Map   map[string]inner `yaml:"map"`
	Any   any              `yaml:"any"`
}

func TestDecodeValid(t *testing.T) {
	var d doc
	yaml := "inner: {name: a, count: 2, ratio: 0.5, on: true}\nlist:\n  - name: b\nmap:\n  k: {count: 3}\nany: [1, {x: y}]\n"
	if _, err := Decode("f.yml", []byte(yaml), &d); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if d.Inner.Name != "a" || d.Inner.Count != 2 || d.Inner.Ratio != 0.5 || !d.Inner.On {
		t.Errorf("inner = %+v", d.Inner)
	}
	if len(d.List) != 1 || d.List[0].Name != "b" {
		t.Errorf("list = %+v", d.List)
	}
	if d.Map["k"].Count != 3 {
		t.Errorf("map = %+v", d.Map)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		// want lists substrings that must each appear.
		want []string
	}{
		{"empty", "", []string{"f.yml: the file is empty"}},
		{"comment only", "# nothing\n", []string{"f.yml: the file is empty"}},
		{"scalar root", "42\n", []string{"f.yml:1: the top level must be a mapping"}},
		{"syntax", "inner: {name: a\n", []string{"f.yml:", "invalid YAML"}},
		{"two documents", "inner: {}\n---\ninner: {}\n", []string{"f.yml:2: more than one YAML document"}},
		{"unknown key", "inner:\n  nme: a\n", []string{"f.yml:2: inner.nme: unknown key in inner; valid keys are name, count, ratio, on"}},
		{"unknown top key", "outer: 1\n", []string{"f.yml:1: outer: unknown key in the top level"}},
		{"string for int", "inner: {count: many}\n", []string{"f.yml:1: inner.count: must be an integer, got \"many\""}},
		{"string for float", "inner: {ratio: high}\n", []string{"inner.ratio: must be a number, got \"high\""}},
		{"string for bool", "inner: {on: yes please}\n", []string{"inner.on: must be true or false"}},
		{"list for struct", "inner: [a]\n", []string{"inner: must be a mapping, got a list"}},
		{"scalar for list", "list: a\n", []string{"list: must be a list, got \"a\""}},
		{"item of list", "list:\n  - {name: a}\n  - {bad: 1}\n", []string{"f.yml:3: list[1].bad: unknown key"}},
		{"map value", "map:\n  k: {bad: 1}\n", []string{"f.yml:2: map.k.bad: unknown key"}},
		{"mapping for scalar", "inner: {name: {a: b}}\n", []string{"inner.name: must be a single value, got a mapping"}},
		{"every problem at once", "inner: {nme: a, count: x}\nouter: 1\n", []string{"inner.nme", "inner.count", "outer"}},
		{"int overflow", "inner: {count: 99999999999999999999}\n", []string{"f.yml:1:"}},
		{"bad indentation in a list", "list:\n  - name: a\n  count: 1\n", []string{"f.yml:3: invalid YAML: did not find expected '-' indicator"}},
		{"dash in a mapping item", "list:\n  - name: a\n    - count: 1\n", []string{"f.yml:3: invalid YAML: did not find expected key"}},
		{"stray line after a list", "list:\n  - name: a\n    count: 1\n\n   - name: b\n", []string{"f.yml:5: invalid YAML"}},
		{"mapping value in a value", "list:\n  - name: a\n    count: 1: 2\n", []string{"f.yml:3: invalid YAML: mapping values are not allowed"}},
		{"control character", "inner:\n  name: a\n  count: 1\x01\n", []string{"f.yml:3: invalid YAML: control characters are not allowed"}},
		{"invalid UTF-8", "inner:\n  name: a\n  count: \xff\n", []string{"f.yml:3: invalid YAML:"}},
		{"unknown anchor", "inner:\n  name: a\n  count: *nope\n", []string{"f.yml:3: invalid YAML: unknown anchor 'nope' referenced"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d doc
			_, err := Decode("f.yml", []byte(tt.yaml), &d)
			if err == nil {
				t.Fatal("Decode succeeded, want an error")
			}
			var se *Error
			if !errors.As(err, &se) {
				t.Errorf("error %T is not an *Error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestDocumentLine(t *testing.T) {
	var d doc
	yaml := "inner:\n  name: a\nlist:\n  - name: b\n  - name: c\n    count: 1\n"
	document, err := Decode("f.yml", []byte(yaml), &d)
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]int{
		"inner":          1,
		"inner.name":     2,
		"inner.missing":  1,
		"list[1]":        5,
		"list[1].count":  6,
		"list[7].name":   3,
		"absent.key":     1,
		"list[1].name.x": 5,
	}
	for key, want := range tests {
		if got := document.Line(key); got != want {
			t.Errorf("Line(%q) = %d, want %d", key, got, want)
		}
	}
	e := document.Errorf("list[1].count", "must be %d", 2)
	if got, want := e.Error(), "f.yml:6: list[1].count: must be 2"; got != want {
		t.Errorf("Errorf = %q, want %q", got, want)
	}
}

func TestDocumentKeys(t *testing.T) {
	var d doc
	yaml := "inner: {name: a, count: 0}\nlist:\n  - name: b\n  - {}\nmap: {}\n"
	document, err := Decode("f.yml", []byte(yaml), &d)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key  string
		want []string
	}{
		{"", []string{"inner", "list", "map"}},
		{"inner", []string{"name", "count"}},
		{"list[0]", []string{"name"}},
		{"list[1]", []string{}},
		{"map", []string{}},
		{"list", nil},       // a list, not a mapping
		{"inner.name", nil}, // a scalar
		{"absent", nil},
		{"list[5]", nil},
	}
	for _, tt := range tests {
		got := document.Keys(tt.key)
		if strings.Join(got, ",") != strings.Join(tt.want, ",") || (got == nil) != (tt.want == nil) {
			t.Errorf("Keys(%q) = %#v, want %#v", tt.key, got, tt.want)
		}
	}
}

func TestDecodeAllKeepsGoing(t *testing.T) {
	var d doc
	yaml := "inner: {name: a, count: many, ratio: 0.5}\nlist:\n  - name: b\n    colour: red\n  - [x]\nmap:\n  k: {count: 3}\n"
	dc, errs := DecodeAll("f.yml", []byte(yaml), &d)
	if dc == nil {
		t.Fatalf("DecodeAll gave no document: %v", errs)
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	want := []string{
		`f.yml:1: inner.count: must be an integer, got "many"`,
		`f.yml:4: list[0].colour: unknown key in list[0]; valid keys are name, count, ratio, on`,
		`f.yml:5: list[1]: must be a mapping, got a list`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The values that fit are decoded.
	if d.Inner.Name != "a" || d.Inner.Ratio != 0.5 || d.Inner.Count != 0 || len(d.List) != 2 || d.List[0].Name != "b" || d.Map["k"].Count != 3 {
		t.Errorf("decoded %+v", d)
	}

	tests := []struct {
		key  string
		drop bool
	}{
		{"inner.count", true},   // the key itself
		{"inner", true},         // a key that contains it
		{"list[1].name", true},  // a key inside one that could not be read
		{"inner.name", false},   // a sibling
		{"list[0].name", false}, // unknown keys do not stop decoding
		{"list[10]", false},     // a prefix that is not a parent
		{"", false},
	}
	for _, tt := range tests {
		kept := dc.Filter([]error{dc.Errorf(tt.key, "invalid")})
		if dropped := len(kept) == 0; dropped != tt.drop {
			t.Errorf("Filter of an error at %q: dropped = %v, want %v", tt.key, dropped, tt.drop)
		}
	}
}

func TestDecodeAllNotYAML(t *testing.T) {
	var d doc
	if dc, errs := DecodeAll("f.yml", []byte("- a\n"), &d); dc != nil || len(errs) != 1 {
		t.Errorf("DecodeAll = %v, %v; want no document and one error", dc, errs)
	}
}

func TestSortByLine(t *testing.T) {
	errs := []error{&Error{File: "f", Line: 9, Msg: "c"}, errors.New("plain"), &Error{File: "f", Line: 2, Msg: "a"}, &Error{File: "f", Line: 9, Msg: "d"}}
	SortByLine(errs)
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	if want := "plain|f:2: a|f:9: c|f:9: d"; strings.Join(got, "|") != want {
		t.Errorf("sorted = %s, want %s", strings.Join(got, "|"), want)
	}
}
