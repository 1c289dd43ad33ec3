package audit

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/auditpack/auditpack/internal/policy"
)

// Printable returns s with every character that is not graphic, and every
// invalid UTF-8 byte, replaced by its Go escape, such as \n or \xff. Not
// graphic are control characters (newline, carriage return and tab
// included), format characters such as bidirectional overrides, and line
// and paragraph separators. A text report that quotes a file name or a
// file's bytes through it prints one line per check, whatever the pack
// contains. Applying it twice gives the same result as once.
func Printable(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsGraphic(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

// WriteReport prints the report for people, one line a check, a failed
// check with its cause in brackets, and the signed verdict when no check
// stands for it.
func WriteReport(w io.Writer, r *Report) {
	for _, c := range r.Checks {
		if c.OK {
			fmt.Fprintf(w, "ok   %-13s %s\n", c.Name, Printable(c.Detail))
			continue
		}
		cause := ""
		if c.Cause != "" {
			cause = "[" + Printable(c.Cause) + "] "
		}
		fmt.Fprintf(w, "FAIL %-13s %s%s\n", c.Name, cause, Printable(c.Detail))
	}
	if v := r.Verdict; v != nil && !v.Required {
		line := v.describe()
		if v.Result != string(policy.OutcomePass) {
			line += "; add --require-pass to reject a pack whose verdict is not pass"
		}
		fmt.Fprintf(w, "info %-13s %s\n", "verdict", Printable(line))
	}
}
