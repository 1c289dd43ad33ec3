package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/github/go-spdx/v2/spdxexp"

	"github.com/auditpack/auditpack/internal/strictyaml"
)

// LicensePolicy is the `licenses` section of a policy file:
//
//	licenses:
//	  allow: [CC-BY-4.0, CC0-1.0, MIT]
//	  deny: [CC-BY-NC-4.0]
//
// Every licence expression of the model and the datasets is checked. With
// an allow-list, an expression passes when it can be satisfied with allowed
// licences that are not denied (so "MIT OR GPL-3.0-only" passes when MIT is
// allowed). With only a deny-list, it passes when it can be satisfied
// without a denied licence. A missing licence fails either way. A failure
// blocks the release.
type LicensePolicy struct {
	// Allow lists SPDX license identifiers that may be used.
	Allow []string `yaml:"allow" json:"allow,omitempty"`
	// Deny lists SPDX license identifiers that may not be used.
	Deny []string `yaml:"deny" json:"deny,omitempty"`
}

// RuleLicenses is the rule id of licence results.
const RuleLicenses = "licenses"

// Licensed is something whose licence a LicensePolicy checks.
type Licensed struct {
	// Path names it in results, for example "datasets.train.license".
	Path string
	// License is its SPDX expression; empty when not declared.
	License string
}

// validateLicensePolicy reports an empty section and identifiers that are
// not on the SPDX license list.
func validateLicensePolicy(doc *strictyaml.Document, lp *LicensePolicy) []error {
	if lp == nil {
		return nil
	}
	var errs []error
	if len(lp.Allow) == 0 && len(lp.Deny) == 0 {
		errs = append(errs, doc.Errorf("licenses", "set allow, deny or both, each a list of SPDX license identifiers"))
	}
	for _, list := range []struct {
		key string
		ids []string
	}{{"licenses.allow", lp.Allow}, {"licenses.deny", lp.Deny}} {
		for i, id := range list.ids {
			key := fmt.Sprintf("%s[%d]", list.key, i)
			if ok, _ := spdxexp.ValidateLicenses([]string{id}); !ok || strings.ContainsAny(id, " ()") {
				errs = append(errs, doc.Errorf(key, "%q is not an SPDX license identifier; use one from https://spdx.org/licenses/ such as CC-BY-4.0, or LicenseRef-NAME", id))
			}
		}
	}
	for _, id := range lp.Allow {
		if slices.Contains(lp.Deny, id) {
			errs = append(errs, doc.Errorf("licenses", "%q is both allowed and denied; keep it in one list", id))
		}
	}
	return errs
}

// EvaluateLicenses applies the licence section of every file to items,
// appends one result per file and item to v, and updates v's counts and
// outcome. Files without a licence section add nothing.
func EvaluateLicenses(v *Verdict, files []File, items []Licensed) error {
	for _, f := range files {
		if f.Licenses == nil {
			continue
		}
		for _, item := range items {
			r, err := checkLicense(f, item)
			if err != nil {
				return err
			}
			v.Results = append(v.Results, r)
		}
	}
	v.tally()
	return nil
}

func checkLicense(f File, item Licensed) (Result, error) {
	lp := f.Licenses
	r := Result{RuleID: RuleLicenses, Policy: f.Path, Metric: item.Path, Severity: SeverityBlock,
		Description: "Licences must be allowed and not denied by policy.", License: item.License}
	if item.License == "" {
		r.Outcome, r.Message = OutcomeFail, "no licence is declared; set it as an SPDX expression"
		return r, nil
	}
	ids, err := spdxexp.ExtractLicenses(item.License)
	if err != nil {
		return r, fmt.Errorf("%s: licence %q: %w", item.Path, item.License, err)
	}

	usable := lp.Allow
	if len(usable) == 0 {
		usable = ids
	}
	usable = slices.DeleteFunc(slices.Clone(usable), func(id string) bool { return denied(lp.Deny, id) })
	ok := false
	if len(usable) > 0 {
		ok, err = spdxexp.Satisfies(item.License, usable)
		if err != nil {
			return r, fmt.Errorf("%s: licence %q: %w", item.Path, item.License, err)
		}
	}
	if ok {
		r.Outcome = OutcomePass
		if len(lp.Allow) > 0 {
			var allowed []string
			for _, id := range ids {
				if slices.ContainsFunc(usable, func(u string) bool { return strings.EqualFold(u, id) }) {
					allowed = append(allowed, id)
				}
			}
			r.Message = fmt.Sprintf("licence %s: permitted by the allow-list", item.License)
			if len(allowed) > 0 {
				r.Message += fmt.Sprintf(" (%s)", strings.Join(allowed, ", "))
			}
		} else {
			r.Message = fmt.Sprintf("licence %s: permitted, as it can be met without the denied licences (%s)", item.License, strings.Join(lp.Deny, ", "))
		}
		return r, nil
	}

	r.Outcome = OutcomeFail
	var bad []string
	for _, id := range ids {
		if denied(lp.Deny, id) {
			bad = append(bad, id)
		}
	}
	if len(bad) > 0 {
		r.Message = fmt.Sprintf("licence %s: needs denied licence(s) %s", item.License, strings.Join(bad, ", "))
	} else {
		r.Message = fmt.Sprintf("licence %s: not satisfied by the allowed licences %s", item.License, strings.Join(lp.Allow, ", "))
	}
	return r, nil
}

// LicenseReason returns why a licence result passed or failed, without the
// licence expression that its message starts with, for a table that shows
// the expression in a column of its own.
func LicenseReason(r Result) string {
	if r.License == "" {
		return r.Message
	}
	return strings.TrimPrefix(r.Message, "licence "+r.License+": ")
}

// denied reports whether id, or its base licence when id carries a WITH
// exception, is in deny.
func denied(deny []string, id string) bool {
	base, _, _ := strings.Cut(id, " WITH ")
	for _, d := range deny {
		if strings.EqualFold(d, id) || strings.EqualFold(d, base) {
			return true
		}
	}
	return false
}
