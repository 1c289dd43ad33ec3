package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/auditpack/auditpack/internal/attest"
	"github.com/auditpack/auditpack/internal/audit"
	"github.com/auditpack/auditpack/internal/policy"
	"github.com/auditpack/auditpack/policies"
)

// signerFlags holds the flags that name who must have signed a pack: a
// public key, or a keyless signer and the trust in it. verify and lineage
// verify share them.
type signerFlags struct {
	key string

	identity       string
	identityRegexp string
	issuer         string
	issuerRegexp   string
	repository     string
	ref            string
	sha            string
	trustedRoot    string
	tlogThreshold  int
	tsaThreshold   int
}

// verifyFlags holds the values of `auditpack verify` flags.
type verifyFlags struct {
	signerFlags
	artifacts []string

	types       []string
	policies    []string
	output      string
	requirePass bool
}

// predicateAliases are the short names --type accepts for the predicate
// types auditpack writes.
var predicateAliases = map[string]string{
	"evaluation":     attest.PredicateEvaluation,
	"test-result":    attest.PredicateTestResult,
	"slsaprovenance": attest.PredicateSLSAProvenance,
	"cyclonedx":      audit.PredicateCycloneDX,
}

func (c *Command) verifyCommand() *cobra.Command {
	var f verifyFlags
	cmd := &cobra.Command{
		Use:   "verify PACK|BUNDLE",
		Short: "Verify a pack directory, its .tar.gz archive, or one Sigstore bundle",
		Long: `verify checks a pack: every file against index.json (and no unlisted
file); the evaluation statement, which anchors the pack, present and
verified; every other file named by it, the documents with their signed
digests and the attestation files with their predicate types and the
SHA-256 of their statements; every other bundle verified and about the
same subjects (a model signature: the files of the model artifact the
signed lineage records); and each --artifact matching a subject. Given a
single bundle instead (for example one cosign made), it checks that
bundle's signature, identity, type and subjects. A file is read as a pack
archive when it starts with the gzip magic bytes and as a bundle when it
holds JSON, whatever its name.

It prints the policy verdict the evaluation statement signed. A pack
whose verdict is fail still verifies, because its signature and files are
sound; --require-pass also requires the verdict to be pass, as a
deployment gate needs.

Key-signed packs verify with --key. Keyless packs verify with the expected
signer: --certificate-identity (or --certificate-identity-regexp, matched
against the whole identity) and --certificate-oidc-issuer, optionally the
GitHub claims, against the public-good trusted root or --trusted-root.

--policy evaluates a policy file against the signed evaluation statement
as run does: its rules against the signed metrics, its licences section
against the signed licences of the model and of each dataset.

It prints every check, a failed one with its cause in brackets; the exit
code is 0 when all pass, 1 when one fails (a malformed or unsafe pack
included), and 2 for bad usage: bad flags, a path that does not exist, an
unreadable key or file, a --policy file with a metric path the pack does
not have or with no rule that applies to the pack.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.verify(cmd, args[0], f)
		},
	}
	fl := cmd.Flags()
	f.signerFlags.register(cmd)
	fl.StringArrayVar(&f.artifacts, "artifact", nil, "model file or directory that must match a subject of the attestations; repeatable")
	fl.StringArrayVar(&f.types, "type", nil, "predicate type URI (or evaluation, test-result, slsaprovenance, cyclonedx) of which a verified statement must exist; repeatable")
	fl.StringArrayVar(&f.policies, "policy", nil, "policy file (relative to the current directory, or builtin:NAME) to evaluate against the signed metrics and licences; a failed blocking rule or a denied licence fails verification; repeatable")
	fl.BoolVar(&f.requirePass, "require-pass", false, "fail unless the policy verdict the evaluation statement signed is pass")
	fl.StringVar(&f.output, "output", "text", "report format: text or json")
	return cmd
}

// register adds the signer flags to cmd.
func (f *signerFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.key, "key", "", "PEM public key a key-signed pack must be signed with")
	fl.StringVar(&f.identity, "certificate-identity", "", "keyless: the signer's exact identity (certificate SAN), such as https://github.com/OWNER/REPO/.github/workflows/FILE@REF")
	fl.StringVar(&f.identityRegexp, "certificate-identity-regexp", "", "keyless: regular expression (Go syntax) the whole identity must match")
	fl.StringVar(&f.issuer, "certificate-oidc-issuer", "", "keyless: the exact OIDC issuer, such as https://token.actions.githubusercontent.com")
	fl.StringVar(&f.issuerRegexp, "certificate-oidc-issuer-regexp", "", "keyless: regular expression the whole OIDC issuer must match")
	fl.StringVar(&f.repository, "certificate-github-workflow-repository", "", "keyless: the GitHub repository (owner/name) the workflow ran in")
	fl.StringVar(&f.ref, "certificate-github-workflow-ref", "", "keyless: the git ref the workflow ran on, such as refs/tags/v1.0.0")
	fl.StringVar(&f.sha, "certificate-github-workflow-sha", "", "keyless: the commit SHA the workflow ran on")
	fl.StringVar(&f.trustedRoot, "trusted-root", "", "keyless: trusted_root.json for a private or offline deployment (default: the public-good root through TUF)")
	fl.IntVar(&f.tlogThreshold, "tlog-threshold", 1, "keyless: minimum number of verified transparency log entries per bundle")
	fl.IntVar(&f.tsaThreshold, "timestamp-threshold", 0, "keyless: minimum number of verified RFC 3161 timestamps per bundle")
}

// checkThresholds rejects negative thresholds, and thresholds given with
// --key, which they cannot apply to.
func (f signerFlags) checkThresholds(cmd *cobra.Command) error {
	var errs []error
	for _, t := range []struct {
		name  string
		value int
	}{{"tlog-threshold", f.tlogThreshold}, {"timestamp-threshold", f.tsaThreshold}} {
		if !cmd.Flags().Changed(t.name) {
			continue
		}
		switch {
		case t.value < 0:
			errs = append(errs, fmt.Errorf("--%s %d is invalid: give a count of 0 or more", t.name, t.value))
		case f.key != "":
			errs = append(errs, fmt.Errorf("--%s applies to keyless bundles only: key-signed bundles have no transparency log entries or timestamps to count; drop it, or verify a keyless pack with --certificate-identity", t.name))
		}
	}
	return errors.Join(errs...)
}

// keylessFlagsSet reports whether any keyless flag was given.
func (f signerFlags) keylessFlagsSet() bool {
	return f.identity != "" || f.identityRegexp != "" || f.issuer != "" || f.issuerRegexp != "" ||
		f.repository != "" || f.ref != "" || f.sha != "" || f.trustedRoot != ""
}

// verifyOptions turns the flags into verification options. Its errors are
// usage errors.
func (c *Command) verifyOptions(cmd *cobra.Command, f verifyFlags) (audit.VerifyOptions, error) {
	opts := audit.VerifyOptions{Artifacts: f.artifacts, RequirePass: f.requirePass}
	if f.output != "text" && f.output != "json" {
		return opts, fmt.Errorf("--output must be text or json, got %q", f.output)
	}
	for _, t := range f.types {
		full, err := predicateType(t)
		if err != nil {
			return opts, err
		}
		opts.PredicateTypes = append(opts.PredicateTypes, full)
	}
	if len(f.policies) > 0 {
		files, err := loadVerifyPolicies(f.policies)
		if err != nil {
			return opts, err
		}
		opts.Policies = files
	}

	if err := f.signerFlags.apply(cmd, &opts, "verify"); err != nil {
		return opts, err
	}
	return opts, nil
}

// predicateType returns the predicate type a --type value names: an alias
// from predicateAliases, or the URI itself.
func predicateType(t string) (string, error) {
	if full, ok := predicateAliases[t]; ok {
		return full, nil
	}
	aliases := strings.Join(slices.Sorted(maps.Keys(predicateAliases)), ", ")
	switch {
	case t == "":
		return "", fmt.Errorf("--type is empty: give a predicate type URI or one of the aliases %s", aliases)
	case !strings.Contains(t, ":"):
		return "", fmt.Errorf("--type %q is neither a predicate type URI nor an alias; the aliases are %s", t, aliases)
	}
	return t, nil
}

// loadVerifyPolicies loads the --policy files, relative to the current
// directory, and rejects rules that compare with a baseline, which verify
// does not have, naming the line of each.
func loadVerifyPolicies(refs []string) ([]policy.File, error) {
	for _, ref := range refs {
		if strings.HasPrefix(ref, policy.BuiltinPrefix) {
			continue
		}
		if _, err := os.Stat(ref); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("--policy %s: no such file; a path given to --policy is relative to the current directory", ref)
		}
	}
	sources := map[string][]byte{}
	read := func(ref string) ([]byte, error) {
		data, err := os.ReadFile(ref)
		sources[ref] = data
		return data, err
	}
	files, err := policy.LoadFrom(refs, read, policies.FS)
	if err != nil {
		return nil, err
	}

	var errs []error
	for _, f := range files {
		data, ok := sources[f.Path]
		if !ok {
			data, _ = fs.ReadFile(policies.FS, strings.TrimPrefix(f.Path, policy.BuiltinPrefix)+".yaml")
		}
		for i, r := range f.Rules {
			for _, bound := range []struct {
				key string
				set bool
			}{{"max_drop", r.MaxDrop != nil}, {"max_increase", r.MaxIncrease != nil}} {
				if bound.set {
					errs = append(errs, fmt.Errorf("%s:%d: %s", f.Path, ruleKeyLine(data, i, bound.key), audit.BaselineRuleMessage(r.ID, bound.key)))
				}
			}
		}
	}
	return files, errors.Join(errs...)
}

// ruleKeyLine returns the line of key in rule i of the policy file data,
// else of the rule, else 0.
//
// NOTE: package policy keeps each rule's line unexported, so the file is
// parsed again here; an exported accessor there would make this go.
func ruleKeyLine(data []byte, i int, key string) int {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return 0
	}
	rules := mappingValue(doc.Content[0], "rules")
	if rules == nil || rules.Kind != yaml.SequenceNode || i >= len(rules.Content) {
		return 0
	}
	rule := rules.Content[i]
	for j := 0; j+1 < len(rule.Content); j += 2 {
		if rule.Content[j].Value == key {
			return rule.Content[j].Line
		}
	}
	return rule.Line
}

// mappingValue returns the value of key in the YAML mapping node, or nil.
func mappingValue(node *yaml.Node, key string) *yaml.Node {
	if node.Kind != yaml.MappingNode {
		return nil
	}
	for j := 0; j+1 < len(node.Content); j += 2 {
		if node.Content[j].Value == key {
			return node.Content[j+1]
		}
	}
	return nil
}

// apply sets the key, or the keyless identity and trusted root, of opts
// from the flags. Its errors are usage errors; command names the command
// in them.
func (f signerFlags) apply(cmd *cobra.Command, opts *audit.VerifyOptions, command string) error {
	if err := f.checkThresholds(cmd); err != nil {
		return err
	}
	switch {
	case f.key != "" && f.keylessFlagsSet():
		return errors.New("--key verifies key-signed packs and the --certificate-* and --trusted-root flags keyless ones; give one kind")
	case f.key != "":
		key, err := attest.LoadPublicKey(f.key)
		if err != nil {
			return err
		}
		opts.PublicKey = key
		return nil
	case !f.keylessFlagsSet():
		return fmt.Errorf("%s needs --key with the PEM public key that signed the pack, or, for a keyless pack, --certificate-identity (or --certificate-identity-regexp) and --certificate-oidc-issuer", command)
	}

	opts.Identity = attest.Identity{
		SubjectAlternativeName:       f.identity,
		SubjectAlternativeNameRegexp: f.identityRegexp,
		Issuer:                       f.issuer,
		IssuerRegexp:                 f.issuerRegexp,
		GitHubRepository:             f.repository,
		GitHubRef:                    f.ref,
		GitHubSHA:                    f.sha,
	}
	if err := opts.Identity.Validate(); err != nil {
		return err
	}
	opts.TransparencyLogThreshold, opts.TimestampThreshold = f.tlogThreshold, f.tsaThreshold
	trusted, err := audit.LoadTrustedRoot(cmd.Context(), f.trustedRoot)
	if err != nil {
		return err
	}
	opts.TrustedMaterial = trusted
	return nil
}

func (c *Command) verify(cmd *cobra.Command, target string, f verifyFlags) error {
	opts, err := c.verifyOptions(cmd, f)
	if err != nil {
		return usageError(err)
	}

	report, err := audit.VerifyPath(cmd.Context(), target, opts)

	out := cmd.OutOrStdout()
	if f.output == "json" {
		if report == nil {
			report = &audit.Report{Pack: target}
		}
		doc := struct {
			Pack    string         `json:"pack"`
			OK      bool           `json:"ok"`
			Error   string         `json:"error,omitempty"`
			Verdict *audit.Verdict `json:"verdict"`
			Checks  []audit.Check  `json:"checks"`
		}{Pack: report.Pack, OK: err == nil && report.OK(), Verdict: report.Verdict, Checks: report.Checks}
		if doc.Checks == nil {
			doc.Checks = []audit.Check{}
		}
		var policyErr *audit.PolicyError
		if err != nil && (!errors.Is(err, audit.ErrVerification) || errors.As(err, &policyErr)) {
			doc.Error = err.Error()
			if policyErr != nil {
				doc.Error = policyErr.Error()
			}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if encErr := enc.Encode(doc); encErr != nil {
			return usageError(encErr)
		}
	} else if report != nil {
		audit.WriteReport(out, report)
	}

	switch {
	case errors.Is(err, audit.ErrVerification):
		var policyErr *audit.PolicyError
		if errors.As(err, &policyErr) {
			return &exitError{code: ExitFail, err: fmt.Errorf("%s did not verify; the --policy file does not fit it either: %w", target, policyErr)}
		}
		return &exitError{code: ExitFail, err: fmt.Errorf("%s did not verify", target)}
	case err != nil:
		return usageError(err)
	}
	if f.output != "json" {
		if v := report.Verdict; v != nil {
			fmt.Fprintf(out, "%s verified; the policy verdict it signs is %s\n", audit.Printable(target), audit.Printable(v.Result))
		} else {
			fmt.Fprintf(out, "%s verified\n", audit.Printable(target))
		}
	}
	return nil
}
