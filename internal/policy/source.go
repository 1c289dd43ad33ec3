package policy

import "os"

// ReadFunc returns the bytes of the policy file ref, a path as written in
// the configuration. A missing file returns an error that wraps
// fs.ErrNotExist.
type ReadFunc func(ref string) ([]byte, error)

// DiskReader returns a ReadFunc that reads ref from the file system at
// resolve(ref).
func DiskReader(resolve func(string) string) ReadFunc {
	return func(ref string) ([]byte, error) {
		return os.ReadFile(resolve(ref))
	}
}
