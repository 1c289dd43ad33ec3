package strictyaml

import "testing"

func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		"inner: {name: a, count: 2}\n",
		"list:\n  - name: b\n",
		"map: {k: {on: true}}\n",
		"&a [*a, *a]\n",
		"inner: !!binary aGVsbG8=\n",
		"? [a]\n: b\n",
		"list:\n  - [x]\n  - {name: b, count: many}\ninner: {name: a, name: b}\n",
		"inner: &x {count: 1}\nlist: [*x, 5]\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d doc
		document, err := Decode("fuzz.yml", data, &d)
		if err == nil && document == nil {
			t.Fatal("Decode returned neither a document nor an error")
		}
		if document != nil {
			document.Line("list[3].name")
		}

		var all doc
		document, errs := DecodeAll("fuzz.yml", data, &all)
		if document == nil && len(errs) == 0 {
			t.Fatal("DecodeAll returned neither a document nor an error")
		}
		if (err == nil) != (len(errs) == 0) {
			t.Fatalf("Decode error %v but DecodeAll errors %v", err, errs)
		}
		if document != nil {
			document.Line("list[3].name")
			document.Filter(errs)
		}
	})
}
