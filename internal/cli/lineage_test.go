package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditpack/auditpack/internal/dvc"
	"github.com/auditpack/auditpack/internal/lineage"
)

// lineageDemo extends the demo with a sharded model directory, a training
// dataset directory tracked by a DVC 3 dvc.lock, and provenance.
func lineageDemo(t *testing.T) string {
	t.Helper()
	dir := demo(t)
	writeFile(t, filepath.Join(dir, "models", "sharded", "model-00001-of-00002.safetensors"), "shard one")
	writeFile(t, filepath.Join(dir, "models", "sharded", "model-00002-of-00002.safetensors"), "shard two")
	writeFile(t, filepath.Join(dir, "data", "train", "part-0.csv"), "a,b\n1,2\n")
	writeFile(t, filepath.Join(dir, "data", "train", "part-1.csv"), "a,b\n3,4\n")
	writeFile(t, filepath.Join(dir, "src", "prepare.py"), "print('prepare')\n")

	train, err := lineage.Hash(t.Context(), dir, "data/train", lineage.Options{MD5: true})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "dvc.lock"), fmt.Sprintf(`schema: '2.0'
stages:
  prepare:
    cmd: python src/prepare.py
    outs:
    - path: data/train
      hash: md5
      md5: %s
      size: %d
      nfiles: 2
`, dvc.DirMD5(train.Files, dvc.SchemeMD5), train.Size))

	cfgPath := filepath.Join(dir, ".auditpack.yml")
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(data), "    - models/model.json\n", "    - models/model.json\n    - models/sharded\n  subjects: per-file\n", 1)
	cfg = strings.Replace(cfg, "datasets:\n", `datasets:
  - name: demo-training
    role: training
    path: data/train
    source: https://example.com/loans
    license: CC-BY-4.0
    terms: Internal use for credit models only.
    collection: {start: 2020-01, end: 2021-12}
    preprocessing: [src/prepare.py]
    composition:
      - {origin: synthetic, share: 0.4}
      - {origin: proprietary, share: 0.6}
`, 1)
	writeFile(t, cfgPath, cfg)
	return dir
}

func TestRunRecordsLineage(t *testing.T) {
	dir := lineageDemo(t)
	out := filepath.Join(t.TempDir(), "pack")
	r := auditpack(t, fixedEpoch, "run", "--config", filepath.Join(dir, ".auditpack.yml"), "--key", filepath.Join(dir, "keys", "cosign.key"), "--out", out)
	if r.code != ExitOK {
		t.Fatalf("run exited %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}

	var lin lineage.Lineage
	data, err := os.ReadFile(filepath.Join(out, "lineage.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &lin); err != nil {
		t.Fatal(err)
	}
	train := lin.Datasets[0]
	if train.Name != "demo-training" || len(train.DVC) != 1 || train.DVC[0].Status != lineage.DVCMatched || train.DVC[0].Scheme != dvc.SchemeMD5 {
		t.Errorf("training dataset DVC checks = %+v, want one matched md5 check", train.DVC)
	}
	if p := train.Provenance; p == nil || len(p.Composition) != 2 || len(p.Preprocessing) != 1 || p.Preprocessing[0].SHA256 == "" || p.Terms == "" {
		t.Errorf("provenance = %+v", train.Provenance)
	}

	// Each model file is its own subject, and both model-signing bundles
	// verify against the artifacts.
	for _, name := range []string{"aibom.cdx.json", "attestations/model-signing-1.sigstore.json", "attestations/model-signing-2.sigstore.json"} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("pack lacks %s: %v", name, err)
		}
	}
	pub := filepath.Join(dir, "keys", "cosign.pub")
	v := auditpack(t, nil, "verify", out, "--key", pub,
		"--artifact", filepath.Join(dir, "models", "sharded", "model-00002-of-00002.safetensors"),
		"--artifact", filepath.Join(dir, "models", "sharded"))
	if v.code != ExitOK {
		t.Errorf("verify exited %d\n%s%s", v.code, v.stdout, v.stderr)
	}
	if strings.Count(v.stdout, "matches the signed model") != 1 {
		t.Errorf("verify output should show the sharded model matching its model signature:\n%s", v.stdout)
	}
}

func TestLineageVerifyReportsChanges(t *testing.T) {
	dir := lineageDemo(t)
	out := filepath.Join(t.TempDir(), "pack")
	r := auditpack(t, fixedEpoch, "run", "--config", filepath.Join(dir, ".auditpack.yml"), "--key", filepath.Join(dir, "keys", "cosign.key"), "--out", out)
	if r.code != ExitOK {
		t.Fatalf("run exited %d\n%s", r.code, r.stderr)
	}
	pub := filepath.Join(dir, "keys", "cosign.pub")

	ok := auditpack(t, nil, "lineage", "verify", out, "--dir", dir, "--key", pub)
	if ok.code != ExitOK || !strings.Contains(ok.stdout, "every artifact and dataset matches") {
		t.Fatalf("lineage verify on unchanged files exited %d\n%s%s", ok.code, ok.stdout, ok.stderr)
	}

	for _, bad := range []string{filepath.Join(dir, "no-such-dir"), filepath.Join(dir, ".auditpack.yml")} {
		r := auditpack(t, nil, "lineage", "verify", out, "--dir", bad, "--key", pub)
		if r.code != ExitUsage || !strings.Contains(r.stderr, "--dir "+bad+" is not a directory") {
			t.Errorf("lineage verify --dir %s exited %d, want 2 naming --dir\n%s", bad, r.code, r.stderr)
		}
	}

	writeFile(t, filepath.Join(dir, "data", "train", "part-0.csv"), "a,b\n9,9\n")
	if err := os.Remove(filepath.Join(dir, "data", "train", "part-1.csv")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "data", "train", "part-2.csv"), "a,b\n5,6\n")
	if err := os.Remove(filepath.Join(dir, "data", "eval.csv")); err != nil {
		t.Fatal(err)
	}

	got := auditpack(t, nil, "lineage", "verify", out+".tar.gz", "--dir", dir, "--key", pub)
	if got.code != ExitFail {
		t.Fatalf("lineage verify after changes exited %d, want 1\n%s%s", got.code, got.stdout, got.stderr)
	}
	for _, want := range []string{
		"changed    dataset  data/train: 1 changed, 1 missing, 1 added",
		"  changed  part-0.csv", "  missing  part-1.csv", "  added    part-2.csv",
		"missing    dataset  data/eval.csv",
		"matched    artifact models/model.json",
	} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, got.stdout)
		}
	}

	js := auditpack(t, nil, "lineage", "verify", out, "--dir", dir, "--json", "--key", pub)
	var report lineageReport
	if err := json.Unmarshal([]byte(js.stdout), &report); err != nil {
		t.Fatalf("--json output: %v\n%s", err, js.stdout)
	}
	if report.OK || len(report.Datasets) != 2 || report.Datasets[1].Status != lineage.StatusMissing {
		t.Errorf("JSON report = %+v", report)
	}
	if len(report.Checks) == 0 {
		t.Error("the JSON report of a verified pack has no pack checks")
	}
	for _, c := range report.Checks {
		if !c.OK {
			t.Errorf("pack check %+v failed, want every check of the intact pack ok", c)
		}
	}
}

func TestRunBlocksDeniedLicense(t *testing.T) {
	dir := lineageDemo(t)
	writeFile(t, filepath.Join(dir, "policies", "licenses.yaml"), "licenses:\n  deny: [CC-BY-4.0]\n")
	cfgPath := filepath.Join(dir, ".auditpack.yml")
	data, _ := os.ReadFile(cfgPath)
	writeFile(t, cfgPath, strings.Replace(string(data), "  - policies/demo.yaml\n", "  - policies/demo.yaml\n  - policies/licenses.yaml\n", 1))

	out := filepath.Join(t.TempDir(), "pack")
	r := auditpack(t, fixedEpoch, "run", "--config", cfgPath, "--sign", "none", "--out", out)
	if r.code != ExitFail {
		t.Fatalf("run exited %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	policyJSON, err := os.ReadFile(filepath.Join(out, "policy.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(policyJSON), "needs denied licence(s) CC-BY-4.0") {
		t.Errorf("policy.json does not explain the denied licence:\n%s", policyJSON)
	}
}

func TestRunRejectsLFSPointerModel(t *testing.T) {
	dir := demo(t)
	writeFile(t, filepath.Join(dir, "models", "model.json"), "version https://git-lfs.github.com/spec/v1\noid sha256:"+strings.Repeat("ab", 32)+"\nsize 1048576\n")
	parent := t.TempDir()
	r := auditpack(t, fixedEpoch, "run", "--config", filepath.Join(dir, ".auditpack.yml"), "--sign", "none", "--out", filepath.Join(parent, "pack"))
	if r.code != ExitUsage || !strings.Contains(r.stderr, "is a Git LFS pointer") || !strings.Contains(r.stderr, "git lfs pull") {
		t.Errorf("run exited %d, want 2 naming the pointer and the fetch command\n%s", r.code, r.stderr)
	}
}
