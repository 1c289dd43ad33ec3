package dvc

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditpack/auditpack/internal/lineage"
)

// The dvc.lock and .dvc layouts below follow real files:
//   - 03sarath/dvc-example-get-started at 15249be5c0c5336ddb762e9ad8a4f56843e122b3
//     (dvc.lock, schema '2.0', DVC 2: md5 without a hash field, .dir outs
//     with size and nfiles) and data/data.xml.dvc at e0e783e4e9e4.
//   - 0221csds146/ML_PIPELINE_USING_DVC-and-AWS-S3 at
//     37d838e289d52de08a3964f6a17c61e24df5220a (dvc.lock written by DVC 3:
//     every entry carries "hash: md5").
// The digests are recomputed here for files the tests write.

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// pythonDirMD5 computes DVC's .dir digest with Python's own json.dumps,
// an oracle independent of DirMD5.
func pythonDirMD5(t *testing.T, entries map[string]string) string {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	var lines []string
	for path, sum := range entries {
		lines = append(lines, path+"\t"+sum)
	}
	script := `import sys, json, hashlib
rows = [l.split("\t") for l in sys.stdin.read().splitlines()]
lst = sorted(({"relpath": p, "md5": m} for p, m in rows), key=lambda e: e["relpath"])
print(hashlib.md5(json.dumps(lst, sort_keys=True).encode()).hexdigest() + ".dir")`
	cmd := exec.Command("python3", "-c", script)
	cmd.Stdin = strings.NewReader(strings.Join(lines, "\n"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	return strings.TrimSpace(string(out))
}

func hash(t *testing.T, base, rel string) lineage.Entry {
	t.Helper()
	e, err := lineage.Hash(t.Context(), base, rel, lineage.Options{MD5: true, DetectLFS: true})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestCheckLockFile(t *testing.T) {
	base := t.TempDir()
	// A CRLF text file makes DVC 2's and DVC 3's md5 differ.
	train := "id\tlabel\r\n1\t0\r\n"
	test := "id\tlabel\n2\t1\n"
	write(t, base, map[string]string{
		"data/data.xml":           "<xml/>\n",
		"data/prepared/train.tsv": train,
		"data/prepared/test.tsv":  test,
		"data/remote.csv":         "x\n",
	})
	legacyDir := pythonDirMD5(t, map[string]string{"train.tsv": md5hex(strings.ReplaceAll(train, "\r\n", "\n")), "test.tsv": md5hex(test)})
	rawDir := pythonDirMD5(t, map[string]string{"train.tsv": md5hex(train), "test.tsv": md5hex(test)})
	size := len(train) + len(test)

	lock := fmt.Sprintf(`schema: '2.0'
stages:
  prepare:
    cmd: python src/prepare.py data/data.xml
    deps:
    - path: data/data.xml
      md5: %s
      size: 7
    params:
      params.yaml:
        prepare.seed: 20170428
    outs:
    - path: data/prepared
      md5: %s
      size: %d
      nfiles: 2
  prepare3:
    cmd: python src/prepare.py
    outs:
    - path: data/prepared
      hash: md5
      md5: %s
      size: %d
      nfiles: 2
  stale:
    cmd: python src/prepare.py
    outs:
    - path: data/prepared
      hash: md5
      md5: %s
      size: %d
      nfiles: 2
  fetch:
    cmd: aws s3 cp s3://bucket/remote.csv data/remote.csv
    deps:
    - path: s3://bucket/remote.csv
      etag: '"0f343b0931126a20f133d67c2b018a3b"'
    outs:
    - path: data/remote.csv
      etag: 0f343b0931126a20f133d67c2b018a3b
`, md5hex("<xml/>\n"), legacyDir, size, rawDir, size, legacyDir, size)
	lockPath := filepath.Join(base, "dvc.lock")
	write(t, base, map[string]string{"dvc.lock": lock})

	entries, err := Load(lockPath)
	if err != nil {
		t.Fatal(err)
	}
	prepared := hash(t, base, "data/prepared")
	found := Find(entries, lockPath, filepath.Join(base, "data", "prepared"))
	if len(found) != 3 {
		t.Fatalf("Find returned %d entries for data/prepared, want 3", len(found))
	}
	want := map[string]string{"prepare": lineage.DVCMatched, "prepare3": lineage.DVCMatched, "stale": lineage.DVCMismatched}
	for _, e := range found {
		got := Check(e, "dvc.lock", prepared)
		if got.Status != want[e.Stage] {
			t.Errorf("stage %s (%s): status %s (%s), want %s", e.Stage, e.Scheme, got.Status, got.Detail, want[e.Stage])
		}
	}

	// The DVC 2 dependency, a file.
	xml := Find(entries, lockPath, filepath.Join(base, "data", "data.xml"))
	if len(xml) != 1 || Check(xml[0], "dvc.lock", hash(t, base, "data/data.xml")).Status != lineage.DVCMatched {
		t.Errorf("data/data.xml: entries %+v did not match", xml)
	}

	// An etag cannot be recomputed: not checkable, never a mismatch.
	remote := Find(entries, lockPath, filepath.Join(base, "data", "remote.csv"))
	if len(remote) != 1 {
		t.Fatalf("Find returned %d entries for data/remote.csv, want 1", len(remote))
	}
	if got := Check(remote[0], "dvc.lock", hash(t, base, "data/remote.csv")); got.Status != lineage.DVCNotCheckable || !strings.Contains(got.Detail, "etag") {
		t.Errorf("etag entry: %+v, want not checkable naming etag", got)
	}

	// A changed file is a mismatch for both schemes.
	write(t, base, map[string]string{"data/prepared/test.tsv": "id\tlabel\n2\t0\n"})
	changed := hash(t, base, "data/prepared")
	for _, e := range found[:2] {
		if got := Check(e, "dvc.lock", changed); got.Status != lineage.DVCMismatched {
			t.Errorf("stage %s after a change: %+v, want mismatched", e.Stage, got)
		}
	}
}

func TestCheckDVCFile(t *testing.T) {
	tests := []struct {
		name    string
		dvcFile string
		content string
		want    string
		detail  string
	}{
		{"dvc 2 md5", "outs:\n- md5: %s\n  size: 11\n  path: data.xml\n  desc: Imported raw data\n", "<a>\r\n</a>\r\n", lineage.DVCMatched, ""},
		{"dvc 3 md5", "outs:\n- md5: %s\n  size: 11\n  hash: md5\n  path: data.xml\n", "<a>\r\n</a>\r\n", lineage.DVCMatched, ""},
		{"wrong size", "outs:\n- md5: %s\n  size: 15\n  path: data.xml\n", "<a>\r\n</a>\r\n", lineage.DVCMismatched, "15 bytes"},
		{"binary file dvc 2", "outs:\n- md5: %s\n  path: data.xml\n", "\x00\x01\r\n", lineage.DVCMatched, ""},
		{"directory recorded", "outs:\n- md5: 0123456789abcdef0123456789abcdef.dir\n  path: data.xml\n", "x", lineage.DVCMismatched, "directory"},
		{"unknown hash", "outs:\n- md5: %s\n  hash: blake3\n  path: data.xml\n", "x", lineage.DVCNotCheckable, "blake3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := t.TempDir()
			write(t, base, map[string]string{"data/data.xml": tt.content})
			sum := md5hex(tt.content)
			if strings.Contains(tt.dvcFile, "hash: md5") || strings.Contains(tt.name, "binary") {
				sum = md5hex(tt.content)
			} else if !strings.Contains(tt.content, "\x00") {
				sum = md5hex(strings.ReplaceAll(tt.content, "\r\n", "\n"))
			}
			content := tt.dvcFile
			if strings.Contains(content, "%s") {
				content = fmt.Sprintf(content, sum)
			}
			dvcPath := filepath.Join(base, "data", "data.xml.dvc")
			write(t, base, map[string]string{"data/data.xml.dvc": content})

			entries, err := Load(dvcPath)
			if err != nil {
				t.Fatal(err)
			}
			found := Find(entries, dvcPath, filepath.Join(base, "data", "data.xml"))
			if len(found) != 1 {
				t.Fatalf("Find returned %d entries, want 1", len(found))
			}
			got := Check(found[0], "data/data.xml.dvc", hash(t, base, "data/data.xml"))
			if got.Status != tt.want {
				t.Errorf("status = %s (%s), want %s", got.Status, got.Detail, tt.want)
			}
			if !strings.Contains(got.Detail, tt.detail) {
				t.Errorf("detail %q lacks %q", got.Detail, tt.detail)
			}
		})
	}
}

func TestCheckLFSPointerNotCheckable(t *testing.T) {
	base := t.TempDir()
	pointer := "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n"
	write(t, base, map[string]string{"data.csv": pointer})
	e := Entry{Path: "data.csv", MD5: md5hex(pointer), Scheme: SchemeMD5, Size: -1, NFiles: -1}
	got := Check(e, "data.csv.dvc", hash(t, base, "data.csv"))
	if got.Status != lineage.DVCNotCheckable || !strings.Contains(got.Detail, "git lfs pull") {
		t.Errorf("Check of a pointer = %+v, want not checkable with the fetch hint", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, file, content, want string
	}{
		{"lock schema 3", "dvc.lock", "schema: '3.0'\nstages: {}\n", "not supported"},
		{"lock without stages", "dvc.lock", "schema: '2.0'\n", "no stages"},
		{"dvc without outs", "x.dvc", "meta: {a: 1}\n", "must have outs"},
		{"out without path", "x.dvc", "outs:\n- md5: abc\n", "x.dvc:2: out entry has no path"},
		{"not yaml", "x.dvc", "outs: [\n", "invalid .dvc file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.file, []byte(tt.content))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDirMD5EscapesLikePython(t *testing.T) {
	files := []lineage.File{
		{Path: "café/ü.csv", MD5: md5hex("a")},
		{Path: "a\"b.csv", MD5: md5hex("b")},
		{Path: "emoji-😀.csv", MD5: md5hex("c")},
	}
	want := pythonDirMD5(t, map[string]string{"café/ü.csv": md5hex("a"), "a\"b.csv": md5hex("b"), "emoji-😀.csv": md5hex("c")})
	if got := DirMD5(files, SchemeMD5); got != want {
		t.Errorf("DirMD5 = %s, Python gives %s", got, want)
	}
}
