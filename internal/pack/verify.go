package pack

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// ProblemKind classifies a difference between a pack's index and its files.
type ProblemKind string

// The kinds of [Problem].
const (
	// ProblemChanged is a listed file whose digest or size differs from
	// the index.
	ProblemChanged ProblemKind = "changed"

	// ProblemMissing is a listed file that is not in the pack.
	ProblemMissing ProblemKind = "missing"

	// ProblemUnlisted is a file in the pack that the index does not list.
	ProblemUnlisted ProblemKind = "unlisted"
)

// Problem is one difference between a pack's index and its files.
type Problem struct {
	// Path is the file's path relative to the pack's root.
	Path string `json:"path"`

	Kind ProblemKind `json:"kind"`

	// ExpectedSHA256 and ExpectedSize are the index's record; empty and
	// nil for an unlisted file.
	ExpectedSHA256 string `json:"expectedSha256,omitempty"`
	ExpectedSize   *int64 `json:"expectedSize,omitempty"`

	// ActualSHA256 and ActualSize describe the file found; empty and nil
	// for a missing file. ActualSHA256 is also empty for an unlisted file
	// and for a file whose size differs from the index, which are not
	// hashed.
	ActualSHA256 string `json:"actualSha256,omitempty"`
	ActualSize   *int64 `json:"actualSize,omitempty"`
}

// String describes the problem in one line.
func (p Problem) String() string {
	switch {
	case p.Kind == ProblemMissing:
		return fmt.Sprintf("%s: missing, the index lists sha256 %s", p.Path, p.ExpectedSHA256)
	case p.Kind == ProblemUnlisted:
		return fmt.Sprintf("%s: not listed in the index (%d bytes)", p.Path, deref(p.ActualSize))
	case p.ActualSHA256 == "":
		return fmt.Sprintf("%s: changed, size %d where the index lists size %d and SHA-256 %s",
			p.Path, deref(p.ActualSize), deref(p.ExpectedSize), p.ExpectedSHA256)
	default:
		return fmt.Sprintf("%s: changed, sha256 %s and size %d where the index lists sha256 %s and size %d",
			p.Path, p.ActualSHA256, deref(p.ActualSize), p.ExpectedSHA256, deref(p.ExpectedSize))
	}
}

func deref(n *int64) int64 {
	if n == nil {
		return 0
	}
	return *n
}

// Report is the result of verifying a pack's files against its index.
type Report struct {
	// Index is the pack's index.
	Index *Index `json:"index"`

	// Verified is the number of listed files whose digest and size match.
	Verified int `json:"verified"`

	// Problems lists every difference found, sorted by path.
	Problems []Problem `json:"problems"`
}

// OK reports whether the pack has no problem.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Verify opens the pack directory or archive at path and compares its
// files with its index. A malformed or unsafe pack is an error wrapping
// [ErrInvalidPack]; files that differ from the index are problems of the
// returned report.
func Verify(ctx context.Context, path string) (*Report, error) {
	p, err := Open(ctx, path)
	if err != nil {
		return nil, err
	}
	return p.Verify(ctx)
}

// Verify compares every file of the pack with the index: each listed file
// must be present with the listed SHA-256 and size, and no other file but
// index.json may be present. It reports every difference rather than
// stopping at the first. A file whose size differs from the index is
// reported without being hashed. In a directory an unlisted file is never
// read, so that a large planted file costs no more than a stat; an
// archive's files were all hashed, but only small ones kept, when the
// archive was read.
func (p *Pack) Verify(ctx context.Context) (*Report, error) {
	present, err := p.present(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.Name, err)
	}
	report := &Report{Index: p.Index, Problems: []Problem{}}

	listed := make(map[string]bool, len(p.Index.Files))
	for _, f := range p.Index.Files {
		listed[f.Path] = true
		i, found := slices.BinarySearchFunc(present, f.Path, func(pf presentFile, name string) int { return strings.Compare(pf.name, name) })
		if !found {
			report.Problems = append(report.Problems, Problem{
				Path: f.Path, Kind: ProblemMissing,
				ExpectedSHA256: f.SHA256, ExpectedSize: &f.Size,
			})
			continue
		}
		if size := present[i].size; size != f.Size {
			report.Problems = append(report.Problems, Problem{
				Path: f.Path, Kind: ProblemChanged,
				ExpectedSHA256: f.SHA256, ExpectedSize: &f.Size,
				ActualSize: &size,
			})
			continue
		}
		sum, size, err := p.Digest(ctx, f.Path)
		if err != nil {
			return nil, fmt.Errorf("verifying pack %s: %w", p.Name, err)
		}
		if sum == f.SHA256 && size == f.Size {
			report.Verified++
			continue
		}
		report.Problems = append(report.Problems, Problem{
			Path: f.Path, Kind: ProblemChanged,
			ExpectedSHA256: f.SHA256, ExpectedSize: &f.Size,
			ActualSHA256: sum, ActualSize: &size,
		})
	}

	for _, pf := range present {
		if listed[pf.name] {
			continue
		}
		size := pf.size
		report.Problems = append(report.Problems, Problem{Path: pf.name, Kind: ProblemUnlisted, ActualSize: &size})
	}

	slices.SortFunc(report.Problems, func(a, b Problem) int { return strings.Compare(a.Path, b.Path) })
	return report, nil
}
