package github

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	gh "github.com/google/go-github/v60/github"
)

// Release is the part of a GitHub release that auditpack uses.
type Release struct {
	ID         int64
	TagName    string
	Name       string
	Draft      bool
	Prerelease bool
	// CreatedAt is the date of the release's commit, which GitHub sorts
	// releases by; PublishedAt is zero for a draft.
	CreatedAt   time.Time
	PublishedAt time.Time
	// UploadURL is GitHub's URL template, e.g.
	// "https://uploads.github.com/repos/o/r/releases/1/assets{?name,label}".
	UploadURL string
	HTMLURL   string
	Assets    []Asset
}

// Asset is a release asset.
type Asset struct {
	ID          int64
	Name        string
	Label       string
	ContentType string
	Size        int64
	// State is "uploaded", or "starter" for an upload that did not finish.
	State              string
	BrowserDownloadURL string
}

// ReleaseByTag returns the release for tag. A missing release wraps
// ErrNotFound.
func (c *Client) ReleaseByTag(ctx context.Context, owner, repo, tag string) (*Release, error) {
	if err := checkRepo(owner, repo); err != nil {
		return nil, err
	}
	if tag == "" {
		return nil, errors.New("release tag is empty")
	}
	path := fmt.Sprintf("/repos/%s/%s/releases/tags/%s", owner, repo, tag)
	rel, _, err := c.gh.Repositories.GetReleaseByTag(ctx, owner, repo, tag)
	if err != nil {
		return nil, newAPIError("GET", path, err)
	}
	return convertRelease(rel), nil
}

// LatestRelease returns the repository's latest published release, which
// GitHub defines as the most recent one that is neither a draft nor a
// prerelease. A repository without one wraps ErrNotFound.
func (c *Client) LatestRelease(ctx context.Context, owner, repo string) (*Release, error) {
	if err := checkRepo(owner, repo); err != nil {
		return nil, err
	}
	path := fmt.Sprintf("/repos/%s/%s/releases/latest", owner, repo)
	rel, _, err := c.gh.Repositories.GetLatestRelease(ctx, owner, repo)
	if err != nil {
		return nil, newAPIError("GET", path, err)
	}
	return convertRelease(rel), nil
}

// ListReleases returns every release of the repository in the order
// GitHub lists them (newest first), following the Link header through
// every page. The list includes drafts when the token has push access, so
// callers filter by Draft and Prerelease.
// https://docs.github.com/rest/releases/releases#list-releases
func (c *Client) ListReleases(ctx context.Context, owner, repo string) ([]Release, error) {
	if err := checkRepo(owner, repo); err != nil {
		return nil, err
	}
	path := fmt.Sprintf("/repos/%s/%s/releases", owner, repo)
	opts := &gh.ListOptions{PerPage: 100}
	var releases []Release
	for {
		page, resp, err := c.gh.Repositories.ListReleases(ctx, owner, repo, opts)
		if err != nil {
			return nil, newAPIError("GET", path, err)
		}
		for _, r := range page {
			releases = append(releases, *convertRelease(r))
		}
		if resp.NextPage == 0 {
			return releases, nil
		}
		opts.Page = resp.NextPage
	}
}

// ListReleaseAssets returns every asset of a release, following pagination.
func (c *Client) ListReleaseAssets(ctx context.Context, owner, repo string, releaseID int64) ([]Asset, error) {
	if err := checkRepo(owner, repo); err != nil {
		return nil, err
	}
	path := fmt.Sprintf("/repos/%s/%s/releases/%d/assets", owner, repo, releaseID)
	opts := &gh.ListOptions{PerPage: 100}
	var assets []Asset
	for {
		page, resp, err := c.gh.Repositories.ListReleaseAssets(ctx, owner, repo, releaseID, opts)
		if err != nil {
			return nil, newAPIError("GET", path, err)
		}
		for _, a := range page {
			assets = append(assets, convertAsset(a))
		}
		if resp.NextPage == 0 {
			return assets, nil
		}
		opts.Page = resp.NextPage
	}
}

// UploadReleaseAsset uploads the file at path as the asset name of a
// release, first deleting an asset of the same name so that a re-run
// replaces it instead of failing with 422 already_exists. The content type
// follows the file name's extension (see ContentType). name may contain only
// ASCII letters, digits and "._-+", and may not start or end with a dot,
// because GitHub silently renames other names and the replacement would then
// miss the old asset.
//
// A server error is retried after listing the assets again, because GitHub
// may have kept a partial asset of that name.
func (c *Client) UploadReleaseAsset(ctx context.Context, owner, repo string, releaseID int64, name, path string) (*Asset, error) {
	if err := checkRepo(owner, repo); err != nil {
		return nil, err
	}
	if err := checkAssetName(name); err != nil {
		return nil, err
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading release asset: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("release asset %q is not a regular file", path)
	}

	for retry := 0; ; retry++ {
		// Delete an asset of the same name, if any.
		if err := c.deleteAssetNamed(ctx, owner, repo, releaseID, name); err != nil {
			return nil, err
		}

		// Upload the file.
		asset, err := c.uploadOnce(ctx, owner, repo, releaseID, name, path)
		if err == nil {
			return asset, nil
		}
		// A concurrent run can win the race between delete and upload;
		// already_exists then also earns one more round.
		retryable := isServerError(err) || hasValidationCode(err, "already_exists")
		if !retryable || retry+1 >= c.policy.MaxAttempts {
			return nil, err
		}
		c.logger.InfoContext(ctx, "asset upload failed, replacing again",
			"asset", name, "release", releaseID, "error", err.Error())
		if err := c.sleep(ctx, retry+1); err != nil {
			return nil, err
		}
	}
}

func (c *Client) deleteAssetNamed(ctx context.Context, owner, repo string, releaseID int64, name string) error {
	assets, err := c.ListReleaseAssets(ctx, owner, repo, releaseID)
	if err != nil {
		return err
	}
	for _, a := range assets {
		if a.Name != name {
			continue
		}
		path := fmt.Sprintf("/repos/%s/%s/releases/assets/%d", owner, repo, a.ID)
		// A 404 means another run deleted it first, which is fine.
		if _, err := c.gh.Repositories.DeleteReleaseAsset(ctx, owner, repo, a.ID); err != nil {
			if apiErr := newAPIError("DELETE", path, err); !errors.Is(apiErr, ErrNotFound) {
				return apiErr
			}
		}
		c.logger.InfoContext(ctx, "deleted existing release asset", "asset", name, "id", a.ID)
	}
	return nil
}

// uploadOnce sends one upload request. The request can be rewound, so the
// transport may repeat it after a rate limit.
func (c *Client) uploadOnce(ctx context.Context, owner, repo string, releaseID int64, name, path string) (*Asset, error) {
	file, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading release asset: %w", err)
	}
	defer closeQuietly(file)
	info, err := file.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading release asset: %w", err)
	}

	endpoint := fmt.Sprintf("repos/%s/%s/releases/%d/assets?name=%s", owner, repo, releaseID, url.QueryEscape(name))
	apiPath := fmt.Sprintf("/repos/%s/%s/releases/%d/assets", owner, repo, releaseID)
	req, err := c.gh.NewUploadRequest(endpoint, file, info.Size(), ContentType(name))
	if err != nil {
		return nil, fmt.Errorf("building upload request for %q: %w", name, err)
	}
	req.GetBody = func() (io.ReadCloser, error) { return os.Open(path) }

	asset := new(gh.ReleaseAsset)
	if _, err := c.gh.Do(ctx, req, asset); err != nil {
		return nil, newAPIError("POST", apiPath, err)
	}
	converted := convertAsset(asset)
	return &converted, nil
}

// DownloadReleaseAsset writes the content of a release asset to w and
// returns the number of bytes written. It follows GitHub's redirect to the
// storage host without sending the token there. Content over maxBytes
// fails with ErrTooLarge after at most maxBytes bytes have reached w, so the
// caller should write to a temporary file and discard it on error.
func (c *Client) DownloadReleaseAsset(ctx context.Context, owner, repo string, assetID int64, w io.Writer, maxBytes int64) (int64, error) {
	if err := checkRepo(owner, repo); err != nil {
		return 0, err
	}
	if maxBytes <= 0 {
		return 0, fmt.Errorf("invalid download size limit %d: it must be positive", maxBytes)
	}
	path := fmt.Sprintf("/repos/%s/%s/releases/assets/%d", owner, repo, assetID)
	body, _, err := c.gh.Repositories.DownloadReleaseAsset(ctx, owner, repo, assetID, c.storage)
	if err != nil {
		return 0, newAPIError("GET", path, err)
	}
	defer closeQuietly(body)

	n, err := io.Copy(w, io.LimitReader(body, maxBytes))
	if err != nil {
		return n, fmt.Errorf("downloading release asset %d: %w", assetID, err)
	}
	// One more byte means the asset is over the limit.
	var probe [1]byte
	if extra, _ := io.ReadFull(body, probe[:]); extra > 0 {
		return n, fmt.Errorf("downloading release asset %d: content exceeds %d bytes: %w", assetID, maxBytes, ErrTooLarge)
	}
	return n, nil
}

// ContentType returns the media type for an asset name by its extension,
// from a fixed table so that the result does not depend on the host's MIME
// database. Unknown extensions get "application/octet-stream".
func ContentType(name string) string {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".tgz"), strings.HasSuffix(lower, ".gz"):
		return "application/gzip"
	case strings.HasSuffix(lower, ".jsonl"):
		return "application/jsonl"
	}
	switch filepath.Ext(lower) {
	case ".json":
		return "application/json"
	case ".tar":
		return "application/x-tar"
	case ".zip":
		return "application/zip"
	case ".md":
		return "text/markdown; charset=utf-8"
	case ".txt":
		return "text/plain; charset=utf-8"
	case ".xml":
		return "application/xml"
	case ".pem", ".crt":
		return "application/x-pem-file"
	}
	return "application/octet-stream"
}

// checkAssetName rejects a name that GitHub would rename on upload.
func checkAssetName(name string) error {
	if name == "" {
		return errors.New("release asset name is empty")
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-+", r)
		if !ok {
			return fmt.Errorf("release asset name %q contains %q: use only ASCII letters, digits and \"._-+\"", name, r)
		}
	}
	if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") {
		return fmt.Errorf("release asset name %q starts or ends with a dot, which GitHub removes", name)
	}
	return nil
}

func convertRelease(r *gh.RepositoryRelease) *Release {
	out := &Release{
		ID:         r.GetID(),
		TagName:    r.GetTagName(),
		Name:       r.GetName(),
		Draft:      r.GetDraft(),
		Prerelease: r.GetPrerelease(),
		UploadURL:  r.GetUploadURL(),
		HTMLURL:    r.GetHTMLURL(),
	}
	if r.CreatedAt != nil {
		out.CreatedAt = r.CreatedAt.Time
	}
	if r.PublishedAt != nil {
		out.PublishedAt = r.PublishedAt.Time
	}
	for _, a := range r.Assets {
		out.Assets = append(out.Assets, convertAsset(a))
	}
	return out
}

func convertAsset(a *gh.ReleaseAsset) Asset {
	return Asset{
		ID:                 a.GetID(),
		Name:               a.GetName(),
		Label:              a.GetLabel(),
		ContentType:        a.GetContentType(),
		Size:               int64(a.GetSize()),
		State:              a.GetState(),
		BrowserDownloadURL: a.GetBrowserDownloadURL(),
	}
}
