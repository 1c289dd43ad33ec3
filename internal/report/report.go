// Package report renders the pull request comment and the job summary of
// the GitHub Action from a run's verdict, its baseline comparison and the
// links of the run.
package report

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/auditpack/auditpack/internal/lineage"
	"github.com/auditpack/auditpack/internal/policy"
)

// MaxCommentLength is the longest comment body GitHub accepts, in
// characters.
const MaxCommentLength = 65536

// Input is what the comment and the summary show.
type Input struct {
	// Model and Version name the model under audit.
	Model   string
	Version string
	Verdict *policy.Verdict
	// ConfigPath is the configuration file, relative to the repository.
	ConfigPath string
	// PolicySource says where the applied policy files were read, such as
	// "the base commit 1a2b3c4"; empty for the working tree.
	PolicySource string
	// Proposed lists policy files that the pull request changes; those
	// changes were not applied.
	Proposed []PolicyChange
	// Dirty is set when the pack was made from a working tree with
	// uncommitted changes to tracked files (lineage.json's
	// repository.dirty); Changed lists the paths of repository.files
	// whose state is "modified". Untracked lists those whose state is
	// "untracked": files the configuration names that no commit holds,
	// such as a new policy file, which Git does not count as changes.
	// SetRepository fills all three.
	Dirty     bool
	Changed   []string
	Untracked []string
	// Signing says how the pack is signed.
	Signing string
	// Links point to the run, the release and the pack.
	Links Links
	// Notes are extra lines, such as why the comment could not be posted.
	Notes []string
	// CardSummary is the pack's summary.md, appended to the job summary.
	CardSummary string
}

// SetRepository sets Dirty, Changed and Untracked from the Git state that
// the pack records, listing each path once. A nil repo (outside a
// repository) sets nothing.
func (in *Input) SetRepository(repo *lineage.Repo) {
	if repo == nil {
		return
	}
	in.Dirty = repo.Dirty
	in.Changed, in.Untracked = nil, nil
	seen := map[lineage.PathState]bool{}
	for _, f := range repo.Files {
		key := lineage.PathState{Path: f.Path, State: f.State}
		if seen[key] {
			continue
		}
		seen[key] = true
		switch f.State {
		case lineage.StateModified:
			in.Changed = append(in.Changed, f.Path)
		case lineage.StateUntracked:
			in.Untracked = append(in.Untracked, f.Path)
		}
	}
}

// Links are the URLs the report points to; empty ones are left out.
type Links struct {
	// Run is the workflow run, whose page shows the job summary.
	Run string
	// Release is the release the pack was attached to.
	Release string
	// Archive is the name of the pack archive.
	Archive string
}

// PolicyChange is a policy file that differs between the base commit and
// the pull request.
type PolicyChange struct {
	// Path is the policy reference as the configuration writes it.
	Path string
	// Change is "added", "modified" or "removed".
	Change string
	// BaseSHA256 and HeadSHA256 are the file digests; empty when absent.
	BaseSHA256 string
	HeadSHA256 string
}

// Comment renders the pull request comment, which starts with marker and
// has at most MaxCommentLength characters. Detail is collapsed first, then
// dropped in favour of the job summary when the comment would be too long.
func Comment(marker string, in Input) string {
	for _, level := range []detail{detailFull, detailFindings, detailCounts} {
		body := marker + "\n" + render(in, level, false)
		if utf8.RuneCountInString(body) <= MaxCommentLength {
			return body
		}
	}
	// Only very long notes can make even the counts too long: cut them.
	body := marker + "\n" + render(in, detailCounts, false)
	return string([]rune(body)[:MaxCommentLength])
}

// Summary renders the job summary: everything the comment shows, every
// result, the applied policy files with their digests, and the pack's
// summary.
func Summary(in Input) string {
	return render(in, detailFull, true)
}

// detail is how much of the results a rendering shows.
type detail int

const (
	// detailFull shows the findings and, collapsed, every result.
	detailFull detail = iota
	// detailFindings shows only failed and warned results.
	detailFindings
	// detailCounts shows only the counts and points to the job summary.
	detailCounts
)

// maxFindingRows bounds the findings table of the comment at the
// findings level; the job summary lists every finding.
const maxFindingRows = 200

func render(in Input, level detail, summary bool) string {
	var b strings.Builder
	v := in.Verdict

	title := "auditpack"
	if in.Model != "" {
		title += ": " + escape(in.Model)
		if in.Version != "" {
			title += " " + escape(in.Version)
		}
	}
	fmt.Fprintf(&b, "### %s %s\n\n", verdictIcon(v.Result), title)
	b.WriteString(VerdictLine(v) + "\n\n")
	if in.ConfigPath != "" {
		fmt.Fprintf(&b, "Configuration `%s`", escapeCode(in.ConfigPath))
		if in.PolicySource != "" {
			fmt.Fprintf(&b, "; policies as of %s", escape(in.PolicySource))
		}
		b.WriteString(".\n\n")
	}

	writeBaseline(&b, v.Baseline)
	writeDirty(&b, in)

	findings := filter(v.Results, func(r policy.Result) bool {
		return r.Outcome == policy.OutcomeFail || r.Outcome == policy.OutcomeWarn
	})
	switch {
	case level == detailCounts:
		if len(findings) > 0 {
			fmt.Fprintf(&b, "%d failed or warned rule checks are listed in the job summary; they do not fit in a comment.\n\n", len(findings))
		}
	case len(findings) > 0:
		b.WriteString("#### Failed and warned rules\n\n")
		limit := len(findings)
		if !summary && level == detailFindings {
			limit = min(limit, maxFindingRows)
		}
		writeTable(&b, findings[:limit])
		if limit < len(findings) {
			fmt.Fprintf(&b, "%d more are listed in the job summary.\n\n", len(findings)-limit)
		}
	}

	noBaseline := filter(v.Results, func(r policy.Result) bool { return r.Outcome == policy.OutcomeNoBaseline })
	if len(noBaseline) > 0 && level != detailCounts {
		b.WriteString("#### Not checked: no baseline value\n\n")
		writeTable(&b, noBaseline)
	}
	if level != detailCounts {
		writeNotApplicable(&b, v.Results)
	}

	if level == detailFull && len(v.Results) > 0 {
		if summary {
			b.WriteString("#### Every rule check\n\n")
			writeTable(&b, v.Results)
		} else {
			fmt.Fprintf(&b, "<details><summary>Every rule check (%d) with the change from the baseline</summary>\n\n", len(v.Results))
			writeTable(&b, v.Results)
			b.WriteString("</details>\n\n")
		}
	}

	writeProposed(&b, in.Proposed)
	if summary {
		writePolicies(&b, v.Policies)
	}
	writeFooter(&b, in, level != detailFull && !summary)

	if summary && strings.TrimSpace(in.CardSummary) != "" {
		b.WriteString("\n<details><summary>Pack summary (summary.md)</summary>\n\n")
		b.WriteString(neutralizeMentions(strings.TrimSpace(in.CardSummary)))
		b.WriteString("\n\n</details>\n")
	}
	return b.String()
}

func writeBaseline(b *strings.Builder, info *policy.BaselineInfo) {
	if info == nil {
		return
	}
	switch info.Status {
	case policy.BaselineVerified:
		fmt.Fprintf(b, "Baseline: %s, verified (signed by %s).", escape(info.Source), escape(info.Signer))
	case policy.BaselineUnverified:
		fmt.Fprintf(b, "Baseline: %s, **not verified**: %s.", escape(info.Source), escape(info.Reason))
	case policy.BaselineRefused:
		fmt.Fprintf(b, "Baseline: %s, **not used**: %s.", escape(info.Source), escape(info.Reason))
	case policy.BaselineMissing:
		fmt.Fprintf(b, "Baseline: none found (%s): %s.", escape(info.Source), escape(info.Reason))
	default:
		reason := info.Reason
		if reason == "" {
			reason = "disabled in the configuration"
		}
		fmt.Fprintf(b, "Baseline: none (%s).", escape(reason))
	}
	if info.SHA256 != "" {
		// The digest is the archive's, or a pack directory's index.json's.
		fmt.Fprintf(b, " SHA-256 `%s`.", info.SHA256)
	}
	b.WriteString("\n\n")
}

// writeDirty warns that the pack does not describe a committed state.
func writeDirty(b *strings.Builder, in Input) {
	if !in.Dirty && len(in.Untracked) == 0 {
		return
	}
	var parts []string
	if in.Dirty {
		part := "uncommitted changes"
		if len(in.Changed) > 0 {
			part += " (" + codeList(in.Changed) + ")"
		}
		parts = append(parts, part)
	}
	if len(in.Untracked) > 0 {
		named := "that the configuration names"
		if in.PolicySource != "" {
			// The gate reads the base commit's configuration; the
			// files are named by the one in the working tree.
			named = "named by this pull request's configuration"
		}
		parts = append(parts, "untracked files "+named+" ("+codeList(in.Untracked)+"), which no commit holds")
	}
	fmt.Fprintf(b, "> [!WARNING]\n> The pack was made from a working tree with %s, so it does not describe a committed state.\n\n", strings.Join(parts, " and "))
}

// codeList renders paths as comma-separated code spans.
func codeList(paths []string) string {
	quoted := make([]string, len(paths))
	for i, p := range paths {
		quoted[i] = "`" + escapeCode(p) + "`"
	}
	return strings.Join(quoted, ", ")
}

func writeTable(b *strings.Builder, results []policy.Result) {
	b.WriteString("| Outcome | Rule | Metric | Value | Threshold | Baseline | Change |\n")
	b.WriteString("| --- | --- | --- | ---: | --- | ---: | ---: |\n")
	for _, r := range results {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s |\n",
			outcomeLabel(r), escape(r.RuleID), escape(r.Metric), value(r),
			threshold(r), number(r.Baseline, "–"), delta(r.Delta))
	}
	b.WriteString("\n")
}

// writeNotApplicable lists the rules that applied to nothing.
func writeNotApplicable(b *strings.Builder, results []policy.Result) {
	b.WriteString(NotApplicable(results, escape))
}

// NotApplicable renders, as a Markdown list, the rules that applied to
// nothing, each with the reason its result gives, with text passed
// through escape; it is empty when every rule applied.
func NotApplicable(results []policy.Result, escape func(string) string) string {
	var b strings.Builder
	for _, r := range results {
		if r.Outcome != policy.OutcomeNotApplicable {
			continue
		}
		if b.Len() == 0 {
			b.WriteString("Not applicable (these never block):\n\n")
		}
		fmt.Fprintf(&b, "- %s: %s\n", escape(r.RuleID), escape(r.Message))
	}
	if b.Len() > 0 {
		b.WriteString("\n")
	}
	return b.String()
}

func writeProposed(b *strings.Builder, changes []PolicyChange) {
	if len(changes) == 0 {
		return
	}
	b.WriteString("#### Policy changes proposed by this pull request (not applied)\n\n")
	b.WriteString("The gate above uses the policies of the base branch. These changes take effect once merged.\n\n")
	b.WriteString("| Policy file | Change | Base SHA-256 | Proposed SHA-256 |\n| --- | --- | --- | --- |\n")
	for _, c := range changes {
		fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", escapeCode(c.Path), escape(c.Change), short(c.BaseSHA256), short(c.HeadSHA256))
	}
	b.WriteString("\n")
}

func writePolicies(b *strings.Builder, files []policy.File) {
	if len(files) == 0 {
		return
	}
	b.WriteString("#### Policy files applied\n\n| Policy | SHA-256 | Read from |\n| --- | --- | --- |\n")
	for _, f := range files {
		source := f.Source
		switch {
		case strings.HasPrefix(f.Path, policy.BuiltinPrefix):
			source = "built into auditpack"
		case source == "":
			source = "the working tree"
		}
		fmt.Fprintf(b, "| `%s` | `%s` | %s |\n", escapeCode(f.Path), f.SHA256, escape(source))
	}
	b.WriteString("\n")
}

func writeFooter(b *strings.Builder, in Input, collapsed bool) {
	for _, n := range in.Notes {
		fmt.Fprintf(b, "> [!WARNING]\n> %s\n\n", escape(n))
	}
	var links []string
	if in.Links.Run != "" {
		label := "Workflow run"
		if collapsed {
			label = "Full report in the job summary"
		}
		links = append(links, fmt.Sprintf("[%s](%s)", label, in.Links.Run))
	}
	if in.Links.Release != "" {
		links = append(links, fmt.Sprintf("[Release](%s)", in.Links.Release))
	}
	if in.Links.Archive != "" {
		links = append(links, fmt.Sprintf("pack `%s`", escapeCode(in.Links.Archive)))
	}
	if in.Signing != "" {
		links = append(links, escape(in.Signing))
	}
	if len(links) > 0 {
		b.WriteString(strings.Join(links, " · ") + "\n")
	}
}

func filter(results []policy.Result, keep func(policy.Result) bool) []policy.Result {
	var out []policy.Result
	for _, r := range results {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

// VerdictLine renders the verdict and its counts as one Markdown line, for
// the comment, the job summary and summary.md alike.
func VerdictLine(v *policy.Verdict) string {
	return fmt.Sprintf("**Verdict: %s.** %s", verdictLabel(v), counts(v))
}

func counts(v *policy.Verdict) string {
	c := v.Counts
	var parts []string
	if checked(v) {
		parts = append(parts, fmt.Sprintf("%d %s passed, %d warned, %d failed", c.Passed, checks(c.Passed), c.Warned, c.Failed))
	}
	if c.NoBaseline > 0 {
		parts = append(parts, fmt.Sprintf("%d not checked for lack of a baseline", c.NoBaseline))
	}
	if c.NotApplicable > 0 {
		parts = append(parts, fmt.Sprintf("%d %s not applicable", c.NotApplicable, rules(c.NotApplicable)))
	}
	switch {
	case checked(v):
		return strings.Join(parts, ", ") + "."
	case len(parts) > 0:
		return "No rule was checked: " + strings.Join(parts, ", ") + "."
	}
	return "No rule was checked."
}

// checked reports whether any rule check passed, warned or failed.
func checked(v *policy.Verdict) bool {
	return v.Counts.Passed+v.Counts.Warned+v.Counts.Failed > 0
}

func verdictLabel(v *policy.Verdict) string {
	switch v.Result {
	case policy.OutcomeFail:
		return "FAIL"
	case policy.OutcomeWarn:
		return "PASS with warnings"
	}
	if !checked(v) {
		// A pass that checked nothing must not read as a real pass.
		return "PASS (no rule checked)"
	}
	return "PASS"
}

func verdictIcon(o policy.Outcome) string {
	switch o {
	case policy.OutcomeFail:
		return "❌"
	case policy.OutcomeWarn:
		return "⚠️"
	}
	return "✅"
}

func outcomeLabel(r policy.Result) string {
	switch r.Outcome {
	case policy.OutcomeFail:
		return "❌ failed (blocks)"
	case policy.OutcomeWarn:
		return "⚠️ warned"
	case policy.OutcomeNoBaseline:
		return "➖ no baseline"
	case policy.OutcomeNotApplicable:
		return "➖ not applicable"
	}
	return "✅ passed"
}

// value renders the measured value of a result: the licence expression
// of a licence result, a dash for a rule that did not apply.
func value(r policy.Result) string {
	switch {
	case r.RuleID == policy.RuleLicenses:
		if r.License == "" {
			return "none declared"
		}
		return escape(r.License)
	case r.Outcome == policy.OutcomeNotApplicable:
		return "–"
	}
	return number(r.Value, "undefined")
}

// threshold lists the rule's bounds, such as "≥ 0.7, drop ≤ 0.05". A
// licence result has no number to bound, so it gives the reason for its
// outcome instead.
func threshold(r policy.Result) string {
	if r.RuleID == policy.RuleLicenses {
		return escape(policy.LicenseReason(r))
	}
	var parts []string
	if r.Min != nil {
		parts = append(parts, "≥ "+policy.Format(*r.Min))
	}
	if r.Max != nil {
		parts = append(parts, "≤ "+policy.Format(*r.Max))
	}
	if r.MaxDrop != nil {
		parts = append(parts, "drop ≤ "+policy.Format(*r.MaxDrop))
	}
	if r.MaxIncrease != nil {
		parts = append(parts, "rise ≤ "+policy.Format(*r.MaxIncrease))
	}
	return strings.Join(parts, ", ")
}

func number(v *float64, none string) string {
	if v == nil {
		return none
	}
	return policy.Format(*v)
}

func delta(d *float64) string {
	if d == nil {
		return "–"
	}
	if *d >= 0 {
		return "+" + policy.Format(*d)
	}
	return policy.Format(*d)
}

func short(sha string) string {
	if sha == "" {
		return "–"
	}
	return "`" + sha[:min(12, len(sha))] + "`"
}

// escape makes text from configuration and data safe in a Markdown table
// cell, inert as HTML, and unable to @mention anyone.
func escape(s string) string {
	r := strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "\r", " ", "\n", " ", "`", "'")
	return neutralizeMentions(r.Replace(s))
}

// neutralizeMentions puts a zero-width space after every '@' that could
// start a GitHub @mention of a user or team, so that text from the
// configuration or the data posted in a comment or a job summary notifies
// nobody. An '@' after an ASCII letter or digit, as in an e-mail address,
// is left alone.
//
// NOTE: GitHub does not document its mention syntax; this follows what it
// links: '@' at the start or after a character other than a letter or
// digit, followed by a letter or digit.
func neutralizeMentions(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] != '@' || i+1 == len(s) || !isASCIIAlnum(s[i+1]) {
			continue
		}
		if i > 0 && isASCIIAlnum(s[i-1]) {
			continue
		}
		b.WriteString("\u200b")
	}
	return b.String()
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// escapeCode makes text safe inside a code span in a table cell.
func escapeCode(s string) string {
	return strings.NewReplacer("`", "'", "|", `\|`, "\r", " ", "\n", " ").Replace(s)
}

// checks returns "rule check" or "rule checks" to agree with n.
func checks(n int) string {
	if n == 1 {
		return "rule check"
	}
	return "rule checks"
}

// rules returns "rule" or "rules" to agree with n.
func rules(n int) string {
	if n == 1 {
		return "rule"
	}
	return "rules"
}
