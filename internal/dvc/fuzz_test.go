package dvc

import "testing"

// FuzzParse feeds arbitrary .dvc and dvc.lock files to Parse, which must
// return entries or an error, never panic.
func FuzzParse(f *testing.F) {
	f.Add("data.dvc", []byte("outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 12\n  hash: md5\n  path: data.csv\n"))
	f.Add("dvc.lock", []byte("schema: '2.0'\nstages:\n  prep:\n    cmd: python prep.py\n    deps:\n    - path: raw\n      md5: 0123456789abcdef0123456789abcdef.dir\n      size: 10\n      nfiles: 2\n    outs:\n    - path: out.csv\n      md5: 0123456789abcdef0123456789abcdef\n"))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		if name != "dvc.lock" {
			name = "data.dvc"
		}
		_, _ = Parse(name, data)
	})
}
