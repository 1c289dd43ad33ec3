package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/auditpack/auditpack/internal/audit"
	"github.com/auditpack/auditpack/internal/config"
	"github.com/auditpack/auditpack/internal/github"
	"github.com/auditpack/auditpack/internal/policy"
	"github.com/auditpack/auditpack/internal/report"
	"github.com/auditpack/auditpack/policies"
)

// gate is what decides a run: the policy files applied and the baseline
// settings, with where they were read.
type gate struct {
	policies []policy.File
	baseline *config.Baseline
	// source is "the base commit 1a2b3c4" when read there; empty for the
	// working tree.
	source   string
	proposed []report.PolicyChange
	notes    []string
	// cfg is the configuration that the baseline settings come from,
	// which locates their errors.
	cfg *config.Config
}

// repoPath returns abs relative to the workspace, slash-separated, or an
// error when it lies outside.
func repoPath(workspace, abs string) (string, error) {
	rel, err := filepath.Rel(workspace, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s is outside the workspace %s", abs, workspace)
	}
	return filepath.ToSlash(rel), nil
}

// baseGate reads the configuration and its policy files as they are at
// the pull request's base commit, so that a pull request cannot loosen its
// own gate, and lists the policy changes it proposes. When the
// configuration does not exist at the base commit (the pull request adds
// it), the pull request's own policies apply and a note says so.
func baseGate(ctx context.Context, client *github.Client, owner, repo, baseSHA, configRel string, head *config.Config) (*gate, error) {
	headGate, headErr := workingTreeGate(head)

	data, err := client.FileAtRef(ctx, owner, repo, configRel, baseSHA)
	if errors.Is(err, github.ErrNotFound) {
		if headErr != nil {
			return nil, headErr
		}
		headGate.notes = append(headGate.notes, fmt.Sprintf(
			"%s does not exist at the base commit, so the policies of this pull request apply.", configRel))
		return headGate, nil
	}
	if err != nil {
		return nil, withPermissionHint(fmt.Errorf("reading %s at the base commit %s: %w", configRel, baseSHA, err))
	}
	base, err := config.Parse(configRel+"@"+shortSHA(baseSHA), data)
	if err != nil {
		return nil, fmt.Errorf("the configuration at the base commit does not load, so the gate cannot be established: %w", err)
	}

	// Policy paths are relative to the configuration file's directory.
	dir := path.Dir(configRel)
	read := func(ref string) ([]byte, error) {
		content, err := client.FileAtRef(ctx, owner, repo, path.Join(dir, ref), baseSHA)
		if errors.Is(err, github.ErrNotFound) {
			return nil, fmt.Errorf("%s at %s: %w", ref, shortSHA(baseSHA), fs.ErrNotExist)
		}
		return content, err
	}
	files, err := policy.LoadFrom(base.Policies, read, policies.FS)
	if err != nil {
		return nil, withPermissionHint(fmt.Errorf("policy files at the base commit %s: %w", shortSHA(baseSHA), err))
	}
	source := "the base commit " + shortSHA(baseSHA)
	for i := range files {
		if !strings.HasPrefix(files[i].Path, policy.BuiltinPrefix) {
			files[i].Source = source
		}
	}

	g := &gate{policies: files, baseline: base.Baseline, source: source, cfg: base}
	if headErr != nil {
		g.notes = append(g.notes, "The policy files proposed by this pull request do not load: "+headErr.Error())
	} else {
		g.proposed = policyChanges(files, headGate.policies)
	}
	if !reflect.DeepEqual(base.Baseline, head.Baseline) {
		g.notes = append(g.notes, "This pull request changes the baseline settings; the base branch's settings apply until it is merged.")
	}
	return g, nil
}

// workingTreeGate loads the configuration's policy files from disk.
func workingTreeGate(cfg *config.Config) (*gate, error) {
	files, err := policy.Load(cfg.Policies, cfg.Resolve, policies.FS)
	if err != nil {
		return nil, err
	}
	return &gate{policies: files, baseline: cfg.Baseline, cfg: cfg}, nil
}

// policyChanges compares the policy files by reference and digest.
func policyChanges(base, head []policy.File) []report.PolicyChange {
	baseSums := map[string]string{}
	for _, f := range base {
		baseSums[f.Path] = f.SHA256
	}
	headSums := map[string]string{}
	var changes []report.PolicyChange
	for _, f := range head {
		headSums[f.Path] = f.SHA256
		switch old, ok := baseSums[f.Path]; {
		case !ok:
			changes = append(changes, report.PolicyChange{Path: f.Path, Change: "added", HeadSHA256: f.SHA256})
		case old != f.SHA256:
			changes = append(changes, report.PolicyChange{Path: f.Path, Change: "modified", BaseSHA256: old, HeadSHA256: f.SHA256})
		}
	}
	for _, f := range base {
		if _, ok := headSums[f.Path]; !ok {
			changes = append(changes, report.PolicyChange{Path: f.Path, Change: "removed", BaseSHA256: f.SHA256})
		}
	}
	return changes
}

func shortSHA(sha string) string {
	return sha[:min(7, len(sha))]
}

// maxBaselineSize bounds a downloaded baseline archive.
const maxBaselineSize = 512 << 20

// releaseFetcher downloads baseline packs from the repository's releases.
type releaseFetcher struct {
	client      *github.Client
	owner, repo string
	// currentID and currentTag name the release this run publishes,
	// which is never its own baseline; zero when the event is not a
	// release.
	currentID  int64
	currentTag string
}

var _ audit.ReleaseFetcher = (*releaseFetcher)(nil)

// FetchReleaseAsset implements audit.ReleaseFetcher.
func (f *releaseFetcher) FetchReleaseAsset(ctx context.Context, tag, name, dst string) (string, error) {
	rel, err := f.release(ctx, tag)
	if err != nil {
		return "", err
	}

	assets, err := f.client.ListReleaseAssets(ctx, f.owner, f.repo, rel.ID)
	if err != nil {
		return "", fmt.Errorf("listing the assets of release %s failed: %w", rel.TagName, err)
	}
	var id int64
	for _, a := range assets {
		if a.Name == name && a.State == "uploaded" {
			id = a.ID
		}
	}
	if id == 0 {
		return "", fmt.Errorf("release %s has no asset %s: %w", rel.TagName, name, audit.ErrBaselineNotFound)
	}

	out, err := os.Create(dst)
	if err != nil {
		return "", fmt.Errorf("creating %s: %w", dst, err)
	}
	if _, err := f.client.DownloadReleaseAsset(ctx, f.owner, f.repo, id, out, maxBaselineSize); err != nil {
		_ = out.Close()
		_ = os.Remove(dst)
		return "", fmt.Errorf("downloading asset %s of release %s failed: %w", name, rel.TagName, err)
	}
	if err := out.Close(); err != nil {
		return "", fmt.Errorf("writing %s: %w", dst, err)
	}
	return rel.TagName, nil
}

// release finds the release that holds the baseline: the release of tag,
// else the latest published release. On a release event the latest
// release is usually the one being published, so there the newest
// published release other than the event's is taken from the full list.
func (f *releaseFetcher) release(ctx context.Context, tag string) (*github.Release, error) {
	if tag != "" {
		rel, err := f.client.ReleaseByTag(ctx, f.owner, f.repo, tag)
		switch {
		case errors.Is(err, github.ErrNotFound):
			return nil, fmt.Errorf("no release for tag %s: %w", tag, audit.ErrBaselineNotFound)
		case err != nil:
			return nil, fmt.Errorf("looking up release %s failed: %w", tag, err)
		case f.isCurrent(rel):
			return nil, fmt.Errorf("release %s is the one this run publishes: %w", tag, audit.ErrBaselineNotFound)
		}
		return rel, nil
	}

	if f.currentID == 0 && f.currentTag == "" {
		rel, err := f.client.LatestRelease(ctx, f.owner, f.repo)
		switch {
		case errors.Is(err, github.ErrNotFound):
			return nil, fmt.Errorf("the repository has no published release yet: %w", audit.ErrBaselineNotFound)
		case err != nil:
			return nil, fmt.Errorf("looking up the latest release failed: %w", err)
		}
		return rel, nil
	}

	releases, err := f.client.ListReleases(ctx, f.owner, f.repo)
	if err != nil {
		return nil, fmt.Errorf("listing the releases failed: %w", err)
	}
	if rel := previousRelease(releases, f.isCurrent); rel != nil {
		return rel, nil
	}
	return nil, fmt.Errorf("the repository has no published release other than %s, the one this run publishes: %w", f.currentTag, audit.ErrBaselineNotFound)
}

func (f *releaseFetcher) isCurrent(rel *github.Release) bool {
	return (f.currentID != 0 && rel.ID == f.currentID) || (f.currentTag != "" && rel.TagName == f.currentTag)
}

// previousRelease returns the newest published release, neither a draft
// nor a prerelease, for which skip is false, or nil. Newest means the
// latest creation time, as GitHub defines its latest release; on a tie the
// release GitHub lists first wins.
func previousRelease(releases []github.Release, skip func(*github.Release) bool) *github.Release {
	var best *github.Release
	for i := range releases {
		rel := &releases[i]
		if rel.Draft || rel.Prerelease || skip(rel) {
			continue
		}
		if best == nil || rel.CreatedAt.After(best.CreatedAt) {
			best = rel
		}
	}
	return best
}
