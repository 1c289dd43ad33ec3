package audit

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/config"
	"github.com/auditpack/auditpack/internal/dvc"
	"github.com/auditpack/auditpack/internal/lineage"
	"github.com/auditpack/auditpack/internal/policy"
)

// gatherLineage hashes the artifacts and datasets, cross-checks datasets
// with the DVC files that track them, records each dataset's provenance
// and reads the repository state.
func gatherLineage(ctx context.Context, cfg *config.Config, opts RunOptions) (*lineage.Lineage, error) {
	progress := startProgress(ctx, opts.Progress, totalSize(cfg))
	defer progress.stop()
	hashOpts := lineage.Options{Progress: progress.add, DetectLFS: true}

	lin := &lineage.Lineage{Artifacts: []lineage.Entry{}, Datasets: []lineage.Dataset{}}
	for i, a := range cfg.Model.Artifacts {
		entry, err := lineage.Hash(ctx, cfg.Dir, a, hashOpts)
		if err != nil {
			return nil, fmt.Errorf("%s: model.artifacts[%d]: %w", cfg.Path, i, err)
		}
		if pointer := firstPointer(entry); pointer != "" {
			return nil, fmt.Errorf("%s: model.artifacts[%d]: %s is a Git LFS pointer, not the model; fetch the content first with %s",
				cfg.Path, i, pointer, lineage.LFSFetchCommand(pointer))
		}
		lin.Artifacts = append(lin.Artifacts, entry)
	}

	for i, d := range cfg.Datasets {
		dataset, err := gatherDataset(ctx, cfg, i, d, hashOpts)
		if err != nil {
			return nil, err
		}
		lin.Datasets = append(lin.Datasets, dataset)
	}

	repo, err := lineage.RepositoryWithPaths(ctx, cfg.Dir, namedPaths(cfg))
	if err != nil {
		return nil, fmt.Errorf("reading the repository state: %w", err)
	}
	lin.Repository = repo
	return lin, nil
}

func gatherDataset(ctx context.Context, cfg *config.Config, i int, d config.Dataset, hashOpts lineage.Options) (lineage.Dataset, error) {
	key := fmt.Sprintf("%s: datasets[%d]", cfg.Path, i)

	// DVC files first: they decide whether MD5 digests are needed.
	tracking, err := dvcEntries(cfg, d)
	if err != nil {
		return lineage.Dataset{}, fmt.Errorf("%s.dvc: %w", key, err)
	}
	hashOpts.MD5 = len(tracking) > 0

	entry, err := lineage.Hash(ctx, cfg.Dir, d.Path, hashOpts)
	if err != nil {
		return lineage.Dataset{}, fmt.Errorf("%s.path: %w", key, err)
	}
	out := lineage.Dataset{Name: d.Name, Role: d.Role, Entry: entry, Source: d.Source, License: d.License}
	if pointer := firstPointer(entry); pointer != "" {
		out.LFSFetch = lineage.LFSFetchCommand(filepath.ToSlash(filepath.Clean(d.Path)))
	}
	for _, t := range tracking {
		out.DVC = append(out.DVC, dvc.Check(t.entry, t.file, entry))
	}
	for _, t := range tracking {
		if t.none {
			out.DVC = append(out.DVC, lineage.DVCCheck{File: t.file, Status: lineage.DVCNotCheckable,
				Detail: fmt.Sprintf("the file has no entry for %s", d.Path)})
		}
	}

	prov := &lineage.Provenance{Description: d.Description, Terms: d.Terms}
	if d.Collection != (config.Period{}) {
		prov.Collection = &lineage.Period{Start: d.Collection.Start, End: d.Collection.End}
	}
	for _, s := range d.Composition {
		prov.Composition = append(prov.Composition, lineage.Share{Origin: s.Origin, Share: s.Share})
	}
	for j, p := range d.Preprocessing {
		code, err := lineage.Hash(ctx, cfg.Dir, p, lineage.Options{Progress: hashOpts.Progress})
		if err != nil {
			return lineage.Dataset{}, fmt.Errorf("%s.preprocessing[%d]: %w", key, j, err)
		}
		commit, err := lineage.LastCommit(ctx, cfg.Dir, p)
		if err != nil {
			return lineage.Dataset{}, fmt.Errorf("%s.preprocessing[%d]: %w", key, j, err)
		}
		prov.Preprocessing = append(prov.Preprocessing, lineage.Code{Entry: code, Commit: commit})
	}
	if prov.Description != "" || prov.Terms != "" || prov.Collection != nil || len(prov.Composition) > 0 || len(prov.Preprocessing) > 0 {
		out.Provenance = prov
	}
	return out, nil
}

// tracked is one DVC entry for a dataset, or (none) a named DVC file
// without one.
type tracked struct {
	file  string
	entry dvc.Entry
	none  bool
}

// dvcEntries finds the DVC entries that track dataset d: in the files the
// configuration names, or else in PATH.dvc and the dvc.lock beside the
// configuration file when they exist.
func dvcEntries(cfg *config.Config, d config.Dataset) ([]tracked, error) {
	files := d.DVC
	explicit := len(files) > 0
	if !explicit {
		for _, candidate := range []string{d.Path + ".dvc", "dvc.lock"} {
			if _, err := os.Stat(cfg.Resolve(candidate)); err == nil {
				files = append(files, candidate)
			}
		}
	}
	var out []tracked
	for _, f := range files {
		entries, err := dvc.Load(cfg.Resolve(f))
		if err != nil {
			return nil, err
		}
		found := dvc.Find(entries, cfg.Resolve(f), cfg.Resolve(d.Path))
		for _, e := range found {
			out = append(out, tracked{file: filepath.ToSlash(f), entry: e})
		}
		if len(found) == 0 && explicit {
			out = append(out, tracked{file: filepath.ToSlash(f), none: true})
		}
	}
	return out, nil
}

// firstPointer returns the path of the entry's first Git LFS pointer, or "".
func firstPointer(e lineage.Entry) string {
	if e.LFS != nil {
		return e.Path
	}
	for _, f := range e.Files {
		if f.LFS != nil {
			return e.Path + "/" + f.Path
		}
	}
	return ""
}

// namedPaths lists every path the configuration names, for the
// repository's file states.
func namedPaths(cfg *config.Config) []string {
	paths := []string{cfg.Resolve(filepath.Base(cfg.Path))}
	paths = append(paths, cfg.Model.Artifacts...)
	for _, d := range cfg.Datasets {
		paths = append(paths, d.Path)
		paths = append(paths, d.Preprocessing...)
		paths = append(paths, d.DVC...)
	}
	for _, e := range cfg.Evaluations {
		if e.Predictions != "" {
			paths = append(paths, e.Predictions)
		}
		if e.Results != "" {
			paths = append(paths, e.Results)
		}
	}
	for _, p := range cfg.Policies {
		if !strings.HasPrefix(p, policy.BuiltinPrefix) {
			paths = append(paths, p)
		}
	}

	// A file named twice, such as a dataset that is also the predictions
	// file, is recorded once.
	seen := make(map[string]bool, len(paths))
	unique := paths[:0]
	for _, p := range paths {
		key := filepath.Clean(p)
		if !seen[key] {
			seen[key] = true
			unique = append(unique, p)
		}
	}
	return unique
}

// licensed lists the model's and the datasets' licences for the policy.
func licensed(cfg *config.Config) []policy.Licensed {
	datasets := make([][2]string, len(cfg.Datasets))
	for i, d := range cfg.Datasets {
		datasets[i] = [2]string{d.Name, d.License}
	}
	return licenceItems(cfg.Model.License, datasets)
}

// licenceItems names the model's licence and each dataset's (name and
// licence) by the paths that licence results carry, for run and verify
// alike.
func licenceItems(model string, datasets [][2]string) []policy.Licensed {
	items := []policy.Licensed{{Path: "model.license", License: model}}
	for _, d := range datasets {
		items = append(items, policy.Licensed{Path: "datasets." + d[0] + ".license", License: d[1]})
	}
	return items
}

// perFileSubjects makes every artifact and every file of a directory
// artifact a subject, the files named "ARTIFACT/FILE", so that a verifier
// can match the whole directory or any one shard.
func perFileSubjects(lin *lineage.Lineage) []attest.Subject {
	var out []attest.Subject
	for _, a := range lin.Artifacts {
		out = append(out, attest.Subject{Name: a.Path, Digest: map[string]string{"sha256": a.SHA256}})
		if a.Type == lineage.TypeFile {
			continue
		}
		for _, f := range a.Files {
			out = append(out, attest.Subject{Name: a.Path + "/" + f.Path, Digest: map[string]string{"sha256": f.SHA256}})
		}
	}
	return out
}

// totalSize adds up the sizes of the files to hash, for the progress
// bar. Unreadable paths count as 0; hashing reports them.
func totalSize(cfg *config.Config) int64 {
	var total int64
	paths := append([]string(nil), cfg.Model.Artifacts...)
	for _, d := range cfg.Datasets {
		paths = append(paths, d.Path)
	}
	for _, p := range paths {
		_ = filepath.WalkDir(cfg.Resolve(p), func(_ string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() && d.Name() == ".git" {
				return filepath.SkipDir
			}
			if info, err := d.Info(); err == nil && !d.IsDir() {
				total += info.Size()
			}
			return nil
		})
	}
	return total
}
