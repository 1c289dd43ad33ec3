package github

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	gh "github.com/google/go-github/v60/github"
)

// MaxCommentLength is the longest issue comment body GitHub accepts, in
// characters.
const MaxCommentLength = 65536

// DefaultTruncationNotice ends a comment that UpsertComment had to shorten.
const DefaultTruncationNotice = "_The report was truncated to fit GitHub's comment size limit. The full report is in the job summary of this workflow run._"

// MarkerComment returns the hidden HTML comment that identifies the
// auditpack comment for marker, e.g. "<!-- auditpack:.auditpack.yml -->".
func MarkerComment(marker string) string {
	return "<!-- auditpack:" + marker + " -->"
}

// UpsertComment edits the comment on issue or pull request number that
// contains MarkerComment(marker), or creates it when no comment does. It
// returns the comment's HTML URL and whether this call created it. Every page of comments is searched, so an
// existing comment is never duplicated; when several contain the marker, the
// oldest is edited. The marker comment is prepended to body when body lacks
// it, and a body over MaxCommentLength is cut by TruncateComment with
// DefaultTruncationNotice.
//
// A 403 from a read-only token wraps ErrForbidden.
func (c *Client) UpsertComment(ctx context.Context, owner, repo string, number int, marker, body string) (url string, created bool, err error) {
	if err := checkRepo(owner, repo); err != nil {
		return "", false, err
	}
	if number <= 0 {
		return "", false, fmt.Errorf("invalid issue number %d", number)
	}
	if marker == "" || strings.ContainsAny(marker, "\r\n>") || strings.Contains(marker, "--") {
		return "", false, fmt.Errorf("invalid comment marker %q: it must be non-empty and contain no newline, \">\" or \"--\"", marker)
	}
	tag := MarkerComment(marker)
	if !strings.Contains(body, tag) {
		body = tag + "\n" + body
	}
	body = TruncateComment(body, MaxCommentLength, DefaultTruncationNotice)

	// posted is set once a POST failed with a server error: GitHub may have
	// stored that comment, and then the search finds the comment this call
	// created.
	posted := false
	for retry := 0; ; retry++ {
		// Find the existing comment.
		existing, err := c.findComment(ctx, owner, repo, number, tag)
		if err != nil {
			return "", false, err
		}

		// Edit it when found. PATCH is retried by the transport.
		if existing != nil {
			path := fmt.Sprintf("/repos/%s/%s/issues/comments/%d", owner, repo, existing.GetID())
			edited, _, err := c.gh.Issues.EditComment(ctx, owner, repo, existing.GetID(), &gh.IssueComment{Body: &body})
			if err != nil {
				return "", false, newAPIError("PATCH", path, err)
			}
			return edited.GetHTMLURL(), posted, nil
		}

		// Create it otherwise. The transport does not repeat a POST after a
		// server error, because GitHub may have stored the comment anyway:
		// this loop searches again before a second attempt.
		path := fmt.Sprintf("/repos/%s/%s/issues/%d/comments", owner, repo, number)
		comment, _, err := c.gh.Issues.CreateComment(ctx, owner, repo, number, &gh.IssueComment{Body: &body})
		err = newAPIError("POST", path, err)
		if err == nil {
			return comment.GetHTMLURL(), true, nil
		}
		if !isServerError(err) || retry+1 >= c.policy.MaxAttempts {
			return "", false, err
		}
		posted = true
		c.logger.InfoContext(ctx, "comment creation failed, searching again before retrying",
			"path", path, "error", err.Error())
		if err := c.sleep(ctx, retry+1); err != nil {
			return "", false, err
		}
	}
}

// findComment returns the oldest comment on the issue whose body contains
// tag, or nil. It follows the Link header through every page.
func (c *Client) findComment(ctx context.Context, owner, repo string, number int, tag string) (*gh.IssueComment, error) {
	path := fmt.Sprintf("/repos/%s/%s/issues/%d/comments", owner, repo, number)
	opts := &gh.IssueListCommentsOptions{ListOptions: gh.ListOptions{PerPage: 100}}
	for {
		comments, resp, err := c.gh.Issues.ListComments(ctx, owner, repo, number, opts)
		if err != nil {
			return nil, newAPIError("GET", path, err)
		}
		for _, comment := range comments {
			if strings.Contains(comment.GetBody(), tag) {
				return comment, nil
			}
		}
		if resp.NextPage == 0 {
			return nil, nil
		}
		opts.Page = resp.NextPage
	}
}

// TruncateComment returns body unchanged when it has at most max characters
// (Unicode code points, as GitHub counts). Otherwise it cuts body at the last
// line break that leaves room for notice, closes a Markdown code fence left
// open by the cut, and appends notice on its own line. A body without a line
// break in range is cut at a character boundary. When notice alone exceeds
// max, the result is notice cut to max characters.
func TruncateComment(body string, max int, notice string) string {
	if max <= 0 {
		return ""
	}
	if utf8.RuneCountInString(body) <= max {
		return body
	}
	noticeLen := utf8.RuneCountInString(notice)
	if noticeLen >= max {
		return cutRunes(notice, max)
	}

	// Reserve room for a line break after the cut, a closing fence ("```"
	// and a line break) and the line break before the notice.
	budget := max - noticeLen - 6
	if budget <= 0 {
		return notice
	}
	kept := cutRunes(body, budget)
	if i := strings.LastIndexByte(kept, '\n'); i >= 0 {
		kept = kept[:i+1]
	} else {
		kept += "\n"
	}
	if fence := openFence(kept); fence != "" {
		kept += fence + "\n"
	}
	return kept + "\n" + notice
}

// cutRunes returns the first n code points of s.
func cutRunes(s string, n int) string {
	count := 0
	for i := range s {
		if count == n {
			return s[:i]
		}
		count++
	}
	return s
}

// openFence returns the fence ("```" or "~~~") of the code block that text
// ends inside, or "".
func openFence(text string) string {
	var fence string
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case fence == "" && (strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~")):
			fence = trimmed[:3]
		case fence != "" && strings.HasPrefix(trimmed, fence):
			fence = ""
		}
	}
	return fence
}
