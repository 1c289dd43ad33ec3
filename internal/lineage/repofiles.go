package lineage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5"
)

// pathStates classifies each of paths against the index and the status of
// the working tree. A directory is modified when a tracked file below it
// is, untracked when none below it is tracked, and clean otherwise.
func pathStates(repo *git.Repository, status git.Status, dir string, paths []string) ([]PathState, error) {
	worktree, err := repo.Worktree()
	if err != nil {
		return nil, fmt.Errorf("opening the Git worktree: %w", err)
	}
	root := worktree.Filesystem.Root()
	index, err := repo.Storer.Index()
	if err != nil {
		return nil, fmt.Errorf("reading the Git index: %w", err)
	}

	var out []PathState
	for _, p := range paths {
		abs := p
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(dir, p)
		}
		rel, err := relativeTo(root, abs)
		if err != nil {
			out = append(out, PathState{Path: filepath.ToSlash(p), State: StateOutside})
			continue
		}

		under := func(name string) bool {
			return rel == "." || name == rel || strings.HasPrefix(name, rel+"/")
		}
		tracked := 0
		for _, e := range index.Entries {
			if under(e.Name) {
				tracked++
			}
		}
		state := PathState{Path: rel, State: StateClean}
		for name, s := range status {
			if !under(name) {
				continue
			}
			switch {
			case isUntracked(s):
				state.Untracked++
			case s.Staging != git.Unmodified || s.Worktree != git.Unmodified:
				state.State = StateModified
			}
		}
		if tracked == 0 && state.State != StateModified {
			state.State = StateUntracked
		}
		out = append(out, state)
	}
	return out, nil
}

// relativeTo returns abs relative to root with slashes, or an error when
// it lies outside root. Both are resolved through symbolic links first
// where they exist, as go-git reports the worktree root resolved.
func relativeTo(root, abs string) (string, error) {
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	if a, err := filepath.EvalSymlinks(abs); err == nil {
		abs = a
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s is outside %s", abs, root)
	}
	return filepath.ToSlash(rel), nil
}

// RepositoryPath returns path (absolute, or relative to the working
// directory) relative to the root of the Git working tree that contains it,
// slash-separated. It returns "" when path is not inside a working tree.
func RepositoryPath(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	repo, err := git.PlainOpenWithOptions(filepath.Dir(abs), &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return ""
	}
	worktree, err := repo.Worktree()
	if err != nil {
		return ""
	}
	rel, err := relativeTo(worktree.Filesystem.Root(), abs)
	if err != nil {
		return ""
	}
	return rel
}

// LastCommit returns the hex name of the newest commit reachable from
// HEAD that changed path (absolute, or relative to dir), or "" when dir is
// not in a repository or no commit touched path.
//
// NOTE: go-git walks the history and diffs each commit's tree, which takes
// time proportional to the history's length; it is not cancellable once
// started.
func LastCommit(ctx context.Context, dir, path string) (string, error) {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("opening the Git repository at %s: %w", dir, err)
	}
	worktree, err := repo.Worktree()
	if err != nil {
		return "", nil
	}
	abs := path
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(dir, path)
	}
	rel, err := relativeTo(worktree.Filesystem.Root(), abs)
	if err != nil {
		return "", nil
	}
	head, err := repo.Head()
	if err != nil {
		return "", nil
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}

	match := func(name string) bool { return name == rel || strings.HasPrefix(name, rel+"/") }
	iter, err := repo.Log(&git.LogOptions{From: head.Hash(), PathFilter: match})
	if err != nil {
		return "", fmt.Errorf("reading the history of %s: %w", rel, err)
	}
	defer iter.Close()
	commit, err := iter.Next()
	if errors.Is(err, io.EOF) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the history of %s: %w", rel, err)
	}
	return commit.Hash.String(), nil
}
