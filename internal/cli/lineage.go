package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/auditpack/auditpack/internal/audit"
	"github.com/auditpack/auditpack/internal/lineage"
)

// lineageVerifyFlags holds the values of `auditpack lineage verify` flags.
type lineageVerifyFlags struct {
	signerFlags
	dir    string
	output string
	json   bool
}

func (c *Command) lineageCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lineage",
		Short: "Work with the data lineage of a pack",
		Args:  cobra.NoArgs,
	}
	var f lineageVerifyFlags
	verify := &cobra.Command{
		Use:   "verify PACK",
		Short: "Re-hash the datasets and artifacts at hand against a pack's lineage",
		Long: `verify re-hashes every model artifact and dataset that lineage.json in PACK
records, relative to --dir (the directory of the configuration file the pack
was built from), and reports each as matched, changed, missing or unverified
(a Git LFS pointer whose content is not fetched); a directory's changed,
missing and added files are listed. The pack is verified first, as verify
does, with --key or the keyless signer flags, and the lineage compared with
is the one its signed evaluation statement carries. A keyless pack is
checked against the public-good trusted root, or against --trusted-root for
a private or offline deployment.

A recorded path that cannot be hashed is reported for that entry and the
others are still compared: missing when it or a parent does not exist (or
a parent is a file), changed for any other reason (an empty directory, a
special file, a symbolic link inside a recorded directory that loops or
leads outside it, an unreadable file), with the error as detail. A recorded
path that is itself a symbolic link is followed, as run followed it.

Exit codes: 0 every entry matched, 1 an entry changed, is missing or could
not be verified, or the pack did not verify, 2 bad usage (bad flags, a path
that does not exist, an unreadable key or file).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.lineageVerify(cmd, args[0], f)
		},
	}
	f.signerFlags.register(verify)
	fl := verify.Flags()
	fl.StringVar(&f.dir, "dir", ".", "directory the lineage's relative paths start from: the configuration file's directory")
	fl.StringVar(&f.output, "output", "text", "report format: text or json")
	fl.BoolVar(&f.json, "json", false, "print the result as JSON (the same as --output json)")
	cmd.AddCommand(verify)
	return cmd
}

// lineageReport is the JSON output of `lineage verify`.
type lineageReport struct {
	Pack      string               `json:"pack"`
	Artifacts []lineage.Comparison `json:"artifacts"`
	Datasets  []lineage.Comparison `json:"datasets"`
	OK        bool                 `json:"ok"`
	// Checks lists the pack verification's checks. When one failed,
	// nothing was compared.
	Checks []audit.Check `json:"checks"`
}

func (c *Command) lineageVerify(cmd *cobra.Command, packPath string, f lineageVerifyFlags) error {
	ctx := cmd.Context()
	out := cmd.OutOrStdout()

	// The pack first, as verify checks it, so that the lineage compared
	// with is the signed one.
	switch {
	case f.output != "text" && f.output != "json":
		return usageError(fmt.Errorf("--output must be text or json, got %q", f.output))
	case f.json && cmd.Flags().Changed("output") && f.output != "json":
		return usageError(fmt.Errorf("--json asks for JSON but --output is %s; give one of them", f.output))
	}
	asJSON := f.json || f.output == "json"

	var opts audit.VerifyOptions
	if err := f.signerFlags.apply(cmd, &opts, "lineage verify"); err != nil {
		return usageError(err)
	}
	if info, err := os.Stat(f.dir); err != nil || !info.IsDir() {
		return usageError(fmt.Errorf("--dir %s is not a directory: pass the directory of the configuration file the pack was built from", f.dir))
	}
	report, err := audit.Verify(ctx, packPath, opts)
	switch {
	case errors.Is(err, audit.ErrVerification):
		if asJSON {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			if err := enc.Encode(lineageReport{Pack: packPath, Checks: report.Checks}); err != nil {
				return err
			}
		} else {
			audit.WriteReport(out, report)
		}
		return &exitError{code: ExitFail, err: fmt.Errorf("%s did not verify, so its lineage is not compared", packPath)}
	case err != nil:
		return usageError(err)
	}
	var lin lineage.Lineage
	if err := json.Unmarshal(report.Lineage, &lin); err != nil {
		return usageError(fmt.Errorf("%s: reading the signed lineage: %w", packPath, err))
	}

	result := lineageReport{Pack: packPath, OK: true, Checks: report.Checks}
	for _, a := range lin.Artifacts {
		cmp, err := compareEntry(ctx, f.dir, a)
		if err != nil {
			return usageError(fmt.Errorf("artifact %s: %w", audit.Printable(a.Path), err))
		}
		result.Artifacts = append(result.Artifacts, cmp)
		result.OK = result.OK && cmp.Status == lineage.StatusMatched
	}
	for _, d := range lin.Datasets {
		cmp, err := compareEntry(ctx, f.dir, d.Entry)
		if err != nil {
			return usageError(fmt.Errorf("dataset %s: %w", audit.Printable(d.Name), err))
		}
		result.Datasets = append(result.Datasets, cmp)
		result.OK = result.OK && cmp.Status == lineage.StatusMatched
	}

	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(result); err != nil {
			return err
		}
	} else {
		writeComparisons(out, "artifact", result.Artifacts)
		writeComparisons(out, "dataset", result.Datasets)
	}
	if !result.OK {
		return &exitError{code: ExitFail, err: errors.New("the files at hand do not match the pack's lineage")}
	}
	if !asJSON {
		fmt.Fprintln(out, "every artifact and dataset matches the pack's lineage")
	}
	return nil
}

// compareEntry compares the file or directory at hand with a recorded
// lineage entry (lineage.Compare), which reports a path it cannot hash as
// missing or changed. Its error means that ctx is done. A named pipe,
// device or socket at the entry's path is reported as changed without
// being opened, since reading a pipe could block the run.
func compareEntry(ctx context.Context, dir string, recorded lineage.Entry) (lineage.Comparison, error) {
	full := filepath.FromSlash(recorded.Path)
	if !filepath.IsAbs(full) {
		full = filepath.Join(dir, full)
	}
	if info, err := os.Stat(full); err == nil && !info.Mode().IsRegular() && !info.IsDir() {
		return lineage.Comparison{
			Path:   recorded.Path,
			Status: lineage.StatusChanged,
			Detail: fmt.Sprintf("not a regular file: the path is a %s (mode %s), recorded as a %s", specialFileName(info.Mode()), info.Mode().Type(), recorded.Type),
		}, nil
	}
	return lineage.Compare(ctx, dir, recorded, lineage.Options{})
}

// specialFileName names the type of a file that is neither regular nor a
// directory.
func specialFileName(mode fs.FileMode) string {
	switch {
	case mode&fs.ModeNamedPipe != 0:
		return "named pipe"
	case mode&fs.ModeSocket != 0:
		return "socket"
	case mode&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// writeComparisons prints one line per entry and per file of a directory
// that did not match. Paths and details are escaped (audit.Printable),
// because they name files at hand and quote errors about them.
func writeComparisons(w io.Writer, kind string, list []lineage.Comparison) {
	for _, c := range list {
		fmt.Fprintf(w, "%-10s %-8s %s: %s\n", c.Status, kind, audit.Printable(c.Path), audit.Printable(c.Detail))
		for _, f := range c.Files {
			fmt.Fprintf(w, "  %-8s %s\n", f.Status, audit.Printable(f.Path))
		}
	}
}
