package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/auditpack/auditpack/internal/strictyaml"
)

// namedPath is a path that the configuration names, with its key.
type namedPath struct {
	key  string
	path string
	// file is set when the path must be a file, not a directory.
	file bool
}

// namedPaths lists the paths of the evidence that a run reads: artifacts,
// datasets with their preprocessing code and DVC files, and the
// predictions or results of every evaluation. Empty paths are left out,
// because validate reports them already.
func (c *Config) namedPaths() []namedPath {
	var paths []namedPath
	add := func(key, path string, file bool) {
		if strings.TrimSpace(path) != "" {
			paths = append(paths, namedPath{key: key, path: path, file: file})
		}
	}
	for i, a := range c.Model.Artifacts {
		add(fmt.Sprintf("model.artifacts[%d]", i), a, false)
	}
	for i, d := range c.Datasets {
		key := fmt.Sprintf("datasets[%d]", i)
		add(key+".path", d.Path, false)
		for j, p := range d.Preprocessing {
			add(fmt.Sprintf("%s.preprocessing[%d]", key, j), p, false)
		}
		for j, p := range d.DVC {
			add(fmt.Sprintf("%s.dvc[%d]", key, j), p, true)
		}
	}
	for i, e := range c.Evaluations {
		key := fmt.Sprintf("evaluations[%d]", i)
		add(key+".predictions", e.Predictions, true)
		add(key+".results", e.Results, true)
	}
	return paths
}

// checkPaths reports every named path that does not exist, relative to
// c.Dir, so that a run stops before hashing with one error per missing
// path instead of at the first.
func (c *Config) checkPaths(doc *strictyaml.Document) []error {
	var errs []error
	for _, p := range c.namedPaths() {
		full := c.Resolve(p.path)
		info, err := os.Stat(full)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			errs = append(errs, doc.Errorf(p.key, "%q not found at %s: paths are relative to the directory of the configuration file, so correct the path or create the file", p.path, full))
		case err != nil:
			errs = append(errs, doc.Errorf(p.key, "reading %q failed: %v", p.path, err))
		case p.file && info.IsDir():
			errs = append(errs, doc.Errorf(p.key, "%q is a directory: give the path of a file", p.path))
		}
	}
	return errs
}
