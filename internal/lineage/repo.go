package lineage

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// Repository reads the state of the Git repository that contains dir: the
// commit HEAD points to, its committer time, the origin remote and whether
// tracked files have changes. It returns nil and no error when dir is not
// inside a Git repository or when the repository has no commit yet, since
// there is then no commit to record.
//
// The repository is read with go-git, so no git binary is needed. Linked
// worktrees, whose ".git" is a file, are supported.
func Repository(ctx context.Context, dir string) (*Repo, error) {
	return RepositoryWithPaths(ctx, dir, nil)
}

// RepositoryWithPaths is [Repository] that also records in Repo.Files the
// Git state of each of paths (absolute, or relative to dir).
func RepositoryWithPaths(ctx context.Context, dir string, paths []string) (*Repo, error) {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{
		DetectDotGit:          true,
		EnableDotGitCommonDir: true,
	})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("opening the Git repository at %s: %w", dir, err)
	}

	// HEAD and its commit.
	head, err := repo.Head()
	if errors.Is(err, plumbing.ErrReferenceNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading HEAD of the Git repository at %s: %w", dir, err)
	}
	commit, err := repo.CommitObject(head.Hash())
	if err != nil {
		return nil, fmt.Errorf("reading commit %s: %w", head.Hash(), err)
	}
	state := &Repo{
		Commit:     head.Hash().String(),
		CommitTime: commit.Committer.When.UTC(),
	}

	// The origin remote, without credentials.
	remote, err := repo.Remote("origin")
	switch {
	case errors.Is(err, git.ErrRemoteNotFound):
	case err != nil:
		return nil, fmt.Errorf("reading the origin remote: %w", err)
	case len(remote.Config().URLs) > 0:
		state.Remote = StripCredentials(remote.Config().URLs[0])
	}

	// NOTE: go-git's status cannot be cancelled, so ctx is only checked
	// before it starts. On a large working tree it reads every file whose
	// stat data differs from the index.
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	status, err := worktreeStatus(repo)
	if err != nil {
		return nil, err
	}
	state.Dirty = trackedChanges(status)
	if len(paths) > 0 && status != nil {
		files, err := pathStates(repo, status, dir, paths)
		if err != nil {
			return nil, err
		}
		state.Files = files
	}
	return state, nil
}

// worktreeStatus returns the status of the working tree, or nil for a
// bare repository.
func worktreeStatus(repo *git.Repository) (git.Status, error) {
	worktree, err := repo.Worktree()
	if errors.Is(err, git.ErrIsBareRepository) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("opening the Git worktree: %w", err)
	}
	status, err := worktree.Status()
	if err != nil {
		return nil, fmt.Errorf("reading the Git worktree status: %w", err)
	}
	return status, nil
}

// trackedChanges reports whether any tracked file is staged or modified.
func trackedChanges(status git.Status) bool {
	for _, s := range status {
		if isUntracked(s) {
			continue
		}
		if s.Staging != git.Unmodified || s.Worktree != git.Unmodified {
			return true
		}
	}
	return false
}

func isUntracked(s *git.FileStatus) bool {
	return s.Staging == git.Untracked && s.Worktree == git.Untracked
}

// StripCredentials removes the user information from a remote URL with a
// scheme, such as "https://user:token@host/repo.git", and the password from
// any other URL form it can parse. An scp-like address such as
// "git@host:org/repo.git" carries only a user name and is returned as it is.
// A URL that cannot be parsed is replaced by a fixed placeholder, so that a
// secret in it never reaches the pack.
func StripCredentials(remote string) string {
	if !strings.Contains(remote, "://") {
		// An scp-like address or a local path.
		return remote
	}
	u, err := url.Parse(remote)
	if err != nil {
		return "(unparsable remote URL)"
	}
	switch u.Scheme {
	case "http", "https":
		u.User = nil
	default:
		if u.User != nil {
			u.User = url.User(u.User.Username())
		}
	}
	return u.String()
}
