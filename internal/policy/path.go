package policy

import (
	"errors"
	"fmt"
	"strings"
)

// segment is one element of a metric path: a key, or a wildcard that
// matches every key of a map.
type segment struct {
	key      string
	wildcard bool
}

// splitPath splits a metric path at its dots. A segment written in double
// quotes matches its key literally, so that a key that contains '.' or
// '"', or is "*" or empty, can be addressed: evaluations.x.groups.sex.
// groups."a.b".fpr. Inside the quotes, \" stands for a quote and \\ for a
// backslash. An unquoted "*" is a wildcard.
func splitPath(p string) ([]segment, error) {
	var segments []segment
	rest := p
	for {
		var seg segment
		if strings.HasPrefix(rest, `"`) {
			key, after, err := unquote(rest)
			if err != nil {
				return nil, fmt.Errorf("metric path %q: %w", p, err)
			}
			if after != "" && after[0] != '.' {
				return nil, fmt.Errorf("metric path %q: the quoted segment %s is followed by %q: put a '.' after the closing quote", p, rest[:len(rest)-len(after)], after[:1])
			}
			seg.key, rest = key, after
		} else {
			end := strings.IndexByte(rest, '.')
			if end < 0 {
				end = len(rest)
			}
			seg.key, rest = rest[:end], rest[end:]
			switch {
			case seg.key == "":
				return nil, fmt.Errorf("metric path %q has an empty segment", p)
			case strings.Contains(seg.key, `"`):
				return nil, fmt.Errorf("metric path %q: the segment %s contains a double quote: quote the whole segment and write the quote as \\\"", p, seg.key)
			}
			seg.wildcard = seg.key == "*"
		}
		segments = append(segments, seg)

		if rest == "" {
			return segments, nil
		}
		rest = rest[1:] // the '.'
		if rest == "" {
			return nil, fmt.Errorf("metric path %q has an empty segment", p)
		}
	}
}

// unquote reads the quoted segment at the start of s and returns its key
// and the text after the closing quote.
func unquote(s string) (key, rest string, err error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:], nil
		case '\\':
			if i+1 == len(s) || (s[i+1] != '"' && s[i+1] != '\\') {
				return "", "", errors.New(`inside a quoted segment a backslash must be followed by " or \`)
			}
			i++
			b.WriteByte(s[i])
		default:
			b.WriteByte(c)
		}
	}
	return "", "", errors.New("a quoted segment has no closing quote")
}

// formatPath joins concrete keys into a metric path that splitPath reads
// back to the same keys, quoting the keys that need it.
func formatPath(keys []string) string {
	quoted := make([]string, len(keys))
	for i, key := range keys {
		quoted[i] = formatKey(key)
	}
	return strings.Join(quoted, ".")
}

// formatKey returns key as a path segment: as it is, or in double quotes
// when it is empty, is "*" or contains '.' or '"'.
func formatKey(key string) string {
	if key != "" && key != "*" && !strings.ContainsAny(key, `."`) {
		return key
	}
	escaped := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(key)
	return `"` + escaped + `"`
}
