package github

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	gh "github.com/google/go-github/v60/github"
)

// MaxFileSize is the largest file FileAtRef reads. Policy and configuration
// files are far smaller; the limit keeps a wrong path from pulling a model
// into memory.
const MaxFileSize = 16 << 20

// FileAtRef returns the content of the file at path in the repository at ref,
// through the contents API. The ref is a commit SHA, branch or tag, and an
// empty ref means the default branch. Files over 1 MB, for which that API returns no content, are
// read through the Git blobs API. A missing file wraps ErrNotFound; a
// directory, symbolic link or submodule at path is an error, and a file over
// MaxFileSize wraps ErrTooLarge.
func (c *Client) FileAtRef(ctx context.Context, owner, repo, path, ref string) ([]byte, error) {
	if err := checkRepo(owner, repo); err != nil {
		return nil, err
	}
	path = strings.Trim(path, "/")
	if path == "" || strings.Contains(path, "..") || strings.Contains(path, "\\") {
		return nil, fmt.Errorf("invalid repository file path %q: give a slash-separated path relative to the repository root, without \"..\"", path)
	}
	apiPath := "/repos/" + owner + "/" + repo + "/contents/" + (&url.URL{Path: path}).EscapedPath()

	// Read the metadata and, for files up to 1 MB, the content.
	file, dir, _, err := c.gh.Repositories.GetContents(ctx, owner, repo, path, &gh.RepositoryContentGetOptions{Ref: ref})
	if err != nil {
		return nil, newAPIError("GET", apiPath, err)
	}
	if dir != nil || file == nil {
		return nil, fmt.Errorf("reading %q at %q: it is a directory, not a file", path, ref)
	}
	if file.GetType() != "file" {
		return nil, fmt.Errorf("reading %q at %q: it is a %s, not a file", path, ref, file.GetType())
	}
	if file.GetSize() > MaxFileSize {
		return nil, fmt.Errorf("reading %q at %q: %d bytes exceed the limit of %d: %w", path, ref, file.GetSize(), MaxFileSize, ErrTooLarge)
	}

	// Decode inline content.
	if file.GetEncoding() == "base64" {
		content, err := file.GetContent()
		if err != nil {
			return nil, fmt.Errorf("decoding %q at %q: %w", path, ref, err)
		}
		return []byte(content), nil
	}

	// Larger files come with encoding "none": fetch the blob raw.
	if file.GetSHA() == "" {
		return nil, fmt.Errorf("reading %q at %q: GitHub returned encoding %q and no blob SHA", path, ref, file.GetEncoding())
	}
	blobPath := fmt.Sprintf("/repos/%s/%s/git/blobs/%s", owner, repo, file.GetSHA())
	content, _, err := c.gh.Git.GetBlobRaw(ctx, owner, repo, file.GetSHA())
	if err != nil {
		return nil, newAPIError("GET", blobPath, err)
	}
	if len(content) > MaxFileSize {
		return nil, fmt.Errorf("reading %q at %q: blob exceeds %d bytes: %w", path, ref, MaxFileSize, ErrTooLarge)
	}
	return content, nil
}
