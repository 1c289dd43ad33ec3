package cli

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/auditpack/auditpack/internal/actions"
	"github.com/auditpack/auditpack/internal/audit"
	"github.com/auditpack/auditpack/internal/config"
	"github.com/auditpack/auditpack/internal/github"
	"github.com/auditpack/auditpack/internal/policy"
	"github.com/auditpack/auditpack/internal/report"
)

// Names of the Action's outputs, as action.yml declares them.
const (
	outputVerdict    = "verdict"
	outputPackDir    = "pack-dir"
	outputArchive    = "archive"
	outputBundles    = "bundles"
	outputFailed     = "failed"
	outputWarned     = "warned"
	outputCommentURL = "comment-url"
	outputBaseline   = "baseline"
)

// publish writes the annotations, the comment, the release assets, the
// outputs and the job summary. A 403 on the comment or an upload becomes a
// warning. Another failure is recorded in a.publishErr, and every step
// still runs, so that the job summary always appears.
func (a *actionRun) publish(ctx context.Context, cfg *config.Config, g *gate, outcome *audit.Outcome, sign audit.SignMode) {
	v := outcome.Verdict
	configRel := a.in.config
	if rel, err := repoPath(a.gh.Workspace, absPath(a.in.config)); err == nil {
		configRel = rel
	}

	_ = a.rt.Group("auditpack: publishing", func() error {
		a.annotate(cfg, configRel, v)

		in := report.Input{
			Model: cfg.Model.Name, Version: cfg.Model.Version, Verdict: v,
			ConfigPath: configRel, PolicySource: g.source, Proposed: g.proposed,
			Signing: signingNote(sign),
			Links:   report.Links{Run: a.gh.RunURL(), Archive: filepath.Base(outcome.Archive)},
		}
		in.SetRepository(outcome.Repository)
		a.warnDirty(in)

		// Release assets first, so that the comment and summary can say
		// where the pack is.
		if rel := a.event.Release; rel != nil {
			switch {
			case !a.in.upload:
				a.log.InfoContext(ctx, "release assets not uploaded: input upload-release-assets is false")
			case !isPublish(a.event):
				a.log.Log(ctx, actions.LevelNotice, fmt.Sprintf(
					"The release assets were not uploaded because the release event's type is %q; they are uploaded on the types published, released and created.", a.event.Action),
					actions.AttrTitle, "auditpack")
			case a.uploadAssets(ctx, rel.ID, outcome):
				in.Links.Release = rel.HTMLURL
				a.published = append(a.published, "the release assets")
			default:
				a.unpublished = append(a.unpublished, "the release assets")
			}
		}

		var commentURL string
		if pr := a.event.PullRequest; pr != nil && a.in.comment {
			if commentURL = a.comment(ctx, pr, configRel, in); commentURL != "" {
				a.published = append(a.published, "the pull request comment")
			} else {
				a.unpublished = append(a.unpublished, "the pull request comment")
			}
		}

		in.Notes = a.notes
		if a.outputs(outcome, commentURL) {
			a.published = append(a.published, "the step outputs")
		}
		if a.summary(in, outcome) {
			a.published = append(a.published, "the job summary")
		}
		return nil
	})
}

// comment creates or edits the pull request comment and returns its URL,
// empty when it was not posted.
func (a *actionRun) comment(ctx context.Context, pr *actions.PullRequest, configRel string, in report.Input) string {
	in.Notes = a.notes
	body := report.Comment(github.MarkerComment(commentMarker(configRel)), in)
	url, created, err := a.client.UpsertComment(ctx, a.gh.Owner, a.gh.Repo, pr.Number, commentMarker(configRel), body)
	switch {
	case errors.Is(err, github.ErrForbidden) && pr.Fork:
		a.warn(fmt.Sprintf("The pull request comment was not posted because this pull request comes from a fork, whose workflow token is read-only (%v). The verdict is in this job summary.", err))
		return ""
	case errors.Is(err, github.ErrForbidden):
		a.warn(fmt.Sprintf("The pull request comment was not posted because the token cannot write comments (%v). The verdict is in this job summary; to post the comment, give the job permissions: pull-requests: write.", err))
		return ""
	case err != nil:
		a.fail(fmt.Errorf("posting the pull request comment: %w", err))
		return ""
	case created:
		a.log.InfoContext(ctx, "pull request comment created", "url", url)
	default:
		a.log.InfoContext(ctx, "pull request comment updated", "url", url)
	}
	return url
}

// annotate issues an error annotation for every failed blocking rule and
// a warning for every warned rule, on the policy file when there is one.
// GitHub shows at most 10 annotations of each level per step; the job
// summary lists them all.
func (a *actionRun) annotate(cfg *config.Config, configRel string, v *policy.Verdict) {
	for _, r := range v.Results {
		var level actions.AnnotationLevel
		switch r.Outcome {
		case policy.OutcomeFail:
			level = actions.LevelErrorAnnotation
		case policy.OutcomeWarn:
			level = actions.LevelWarningAnnotation
		default:
			continue
		}
		ann := actions.Annotation{Level: level, Title: "auditpack rule " + r.RuleID, Message: r.Message}
		if r.Policy != "" && !strings.HasPrefix(r.Policy, policy.BuiltinPrefix) {
			ann.File = path.Join(path.Dir(configRel), r.Policy)
		}
		if err := a.rt.Annotate(ann); err != nil {
			a.fail(err)
		}
	}
}

// uploadAssets uploads the archive and every bundle, replacing assets of
// the same name, and reports whether all were uploaded.
func (a *actionRun) uploadAssets(ctx context.Context, releaseID int64, outcome *audit.Outcome) bool {
	packName := filepath.Base(filepath.Clean(outcome.PackDir))
	uploads := [][2]string{{filepath.Base(outcome.Archive), outcome.Archive}}
	for _, b := range outcome.Bundles {
		uploads = append(uploads, [2]string{packName + "." + path.Base(b), filepath.Join(outcome.PackDir, filepath.FromSlash(b))})
	}
	for _, u := range uploads {
		asset, err := a.client.UploadReleaseAsset(ctx, a.gh.Owner, a.gh.Repo, releaseID, u[0], u[1])
		switch {
		case errors.Is(err, github.ErrForbidden):
			a.warn(fmt.Sprintf("The release assets were not uploaded because the token cannot write to releases (%v); give the job permissions: contents: write.", err))
			return false
		case err != nil:
			a.fail(fmt.Errorf("uploading release asset %s: %w", u[0], err))
			return false
		}
		a.log.Info("release asset uploaded", "name", asset.Name, "size", asset.Size)
	}
	return true
}

// outputs sets the step outputs and reports whether all were set.
func (a *actionRun) outputs(outcome *audit.Outcome, commentURL string) bool {
	v := outcome.Verdict
	bundles := make([]string, 0, len(outcome.Bundles))
	for _, b := range outcome.Bundles {
		bundles = append(bundles, filepath.Join(outcome.PackDir, filepath.FromSlash(b)))
	}
	baseline := ""
	if v.Baseline != nil {
		baseline = string(v.Baseline.Status)
	}
	values := [][2]string{
		{outputVerdict, string(v.Result)},
		{outputPackDir, a.displayPath(outcome.PackDir)},
		{outputArchive, a.displayPath(outcome.Archive)},
		{outputBundles, a.displayPaths(bundles)},
		{outputFailed, strconv.Itoa(v.Counts.Failed)},
		{outputWarned, strconv.Itoa(v.Counts.Warned)},
		{outputCommentURL, commentURL},
		{outputBaseline, baseline},
	}
	for _, kv := range values {
		if err := a.rt.SetOutput(kv[0], kv[1]); err != nil {
			a.fail(err)
			return false
		}
	}
	return true
}

// summary appends the job summary; when the full one exceeds GitHub's
// limit, a version without the pack summary and the full table follows.
// It reports whether the summary was written.
func (a *actionRun) summary(in report.Input, outcome *audit.Outcome) bool {
	in.CardSummary = string(outcome.Summary)
	err := a.rt.AppendSummary(report.Summary(in))
	if errors.Is(err, actions.ErrSummaryTooLarge) {
		in.CardSummary = ""
		err = a.rt.AppendSummary(report.Comment("", in))
	}
	if err != nil {
		a.fail(fmt.Errorf("writing the job summary: %w", err))
		return false
	}
	return true
}

// warnDirty logs one warning annotation when the pack was made from a
// working tree with uncommitted changes or with untracked files that the
// configuration names. The comment and the job summary contain it too. On a
// pull request whose gate comes from the base commit, the untracked files
// are named by the pull request's configuration.
func (a *actionRun) warnDirty(in report.Input) {
	var parts []string
	if in.Dirty {
		part := "uncommitted changes"
		if len(in.Changed) > 0 {
			part += " (" + strings.Join(in.Changed, ", ") + ")"
		}
		parts = append(parts, part)
	}
	if len(in.Untracked) > 0 {
		named := "that the configuration names"
		if in.PolicySource != "" {
			named = "named by this pull request's configuration"
		}
		parts = append(parts, "untracked files "+named+" ("+strings.Join(in.Untracked, ", ")+"), which no commit holds")
	}
	if len(parts) == 0 {
		return
	}
	a.log.Warn("The pack was made from a working tree with "+strings.Join(parts, " and ")+", so it does not describe a committed state.",
		actions.AttrTitle, "auditpack")
}

// displayPath returns p relative to the workspace when inside it, which
// is how later steps (outside the container) can use it.
func (a *actionRun) displayPath(p string) string {
	if rel, err := repoPath(a.gh.Workspace, absPath(p)); err == nil && a.gh.Workspace != "" {
		return rel
	}
	return p
}

func (a *actionRun) displayPaths(paths []string) string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = a.displayPath(p)
	}
	return strings.Join(out, "\n")
}

// fail records a publishing error and shows it as an error annotation.
// After a signal, the failures are what the cancellation caused, and the
// one annotation of interrupted says what was not published instead.
func (a *actionRun) fail(err error) {
	a.publishErr = errors.Join(a.publishErr, err)
	if a.ctx != nil && a.ctx.Err() != nil {
		return
	}
	a.log.Error(err.Error(), actions.AttrTitle, "auditpack")
}

func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// isPublish reports whether a release event publishes the release.
func isPublish(e *actions.Event) bool {
	return e.Name == "release" && (e.Action == "published" || e.Action == "released" || e.Action == "created")
}

func signingNote(sign audit.SignMode) string {
	switch sign {
	case audit.SignNone:
		return "unsigned pack"
	case audit.SignKeyless:
		return "signed keylessly with Sigstore"
	}
	return "signed with a key"
}
