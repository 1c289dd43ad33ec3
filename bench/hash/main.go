// Command hash benchmarks auditpack's hashing (internal/lineage) against
// sha256sum and `openssl dgst -sha256` on the same files, in one run, and
// prints the throughput of each and auditpack's ratio to theirs.
//
// It writes a tree of many files of mixed sizes and one large file under
// -dir, reads everything once so that every tool starts from the page
// cache, then times each tool -runs times and reports the median. The
// files are removed at the end unless -keep is set.
//
//	go run ./bench/hash -dir /work/tmp-bench -files 2000 -big 4GiB
//
// On the tree, sha256sum and openssl run as one process each and as
// many parallel processes as there are cores (xargs -P). On the large file
// each runs as one process, because SHA-256 of one stream cannot be split.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/auditpack/auditpack/internal/lineage"
)

func main() {
	dir := flag.String("dir", "", "directory to write the test files in (required; needs the tree's size plus -big free)")
	files := flag.Int("files", 2000, "number of files in the tree")
	big := flag.String("big", "4GiB", "size of the single large file, such as 4GiB or 512MiB; 0 to skip")
	runs := flag.Int("runs", 3, "timed runs per tool; the median is reported")
	keep := flag.Bool("keep", false, "keep the generated files")
	flag.Parse()
	if *dir == "" {
		log.Fatal("set -dir to a directory on the disk to measure")
	}
	bigSize, err := parseSize(*big)
	if err != nil {
		log.Fatalf("-big: %v", err)
	}
	if err := run(context.Background(), *dir, *files, bigSize, *runs, *keep); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, dir string, nfiles int, bigSize int64, runs int, keep bool) error {
	root := filepath.Join(dir, "auditpack-hash-bench")
	if !keep {
		defer os.RemoveAll(root)
	}
	tree := filepath.Join(root, "tree")
	treeBytes, names, err := writeTree(tree, nfiles)
	if err != nil {
		return err
	}
	fmt.Printf("machine: %d cores (GOMAXPROCS %d), %s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Printf("tree: %d files, %.1f MB\n", nfiles, float64(treeBytes)/1e6)

	cores := strconv.Itoa(runtime.NumCPU())
	list := strings.Join(names, "\n") + "\n"
	treeTools := []tool{
		{"auditpack (lineage.Hash)", func() error { _, err := lineage.Hash(ctx, root, "tree", lineage.Options{}); return err }},
		{"sha256sum, 1 process", shell(tree, list, "xargs -d '\\n' sha256sum >/dev/null")},
		{"sha256sum, " + cores + " in parallel", shell(tree, list, "xargs -d '\\n' -P "+cores+" -n 50 sha256sum >/dev/null")},
		{"openssl dgst, 1 process", shell(tree, list, "xargs -d '\\n' openssl dgst -sha256 >/dev/null")},
		{"openssl dgst, " + cores + " in parallel", shell(tree, list, "xargs -d '\\n' -P "+cores+" -n 50 openssl dgst -sha256 >/dev/null")},
	}
	if err := compare("tree", treeBytes, tree, treeTools, runs); err != nil {
		return err
	}

	if bigSize > 0 {
		bigPath := filepath.Join(root, "big.bin")
		if err := writeBig(bigPath, bigSize); err != nil {
			return err
		}
		fmt.Printf("\nlarge file: %.2f GiB\n", float64(bigSize)/(1<<30))
		bigTools := []tool{
			{"auditpack (lineage.Hash)", func() error { _, err := lineage.Hash(ctx, root, "big.bin", lineage.Options{}); return err }},
			{"sha256sum", shell(root, "", "sha256sum big.bin >/dev/null")},
			{"openssl dgst", shell(root, "", "openssl dgst -sha256 big.bin >/dev/null")},
		}
		if err := compare("large file", bigSize, root, bigTools, runs); err != nil {
			return err
		}
		os.Remove(bigPath)
	}
	return nil
}

type tool struct {
	name string
	run  func() error
}

func shell(dir, stdin, script string) func() error {
	return func() error {
		cmd := exec.Command("sh", "-c", script)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(stdin)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w: %s", script, err, stderr.String())
		}
		return nil
	}
}

// compare warms the page cache, times each tool and prints MB/s and
// auditpack's throughput as a ratio of each tool's.
func compare(what string, bytes int64, path string, tools []tool, runs int) error {
	if err := shell(path, "", "cat $(find . -type f) >/dev/null 2>&1 || find . -type f -exec cat {} + >/dev/null")(); err != nil {
		return err
	}
	rates := make([]float64, len(tools))
	for i, t := range tools {
		var secs []float64
		for range runs {
			start := time.Now()
			if err := t.run(); err != nil {
				return fmt.Errorf("%s: %s: %w", what, t.name, err)
			}
			secs = append(secs, time.Since(start).Seconds())
		}
		slices.Sort(secs)
		median := secs[len(secs)/2]
		rates[i] = float64(bytes) / median / 1e6
		fmt.Printf("  %-32s %8.0f MB/s  (median of %d: %.2f s)\n", t.name, rates[i], runs, median)
	}
	for i := 1; i < len(tools); i++ {
		fmt.Printf("  auditpack / %-24s %.2f\n", tools[i].name, rates[0]/rates[i])
	}
	return nil
}

// writeTree writes n files of mixed sizes, from 1 KiB to 4 MiB (log-
// uniform, fixed seed), across 20 subdirectories, and returns their total
// size and relative paths.
func writeTree(dir string, n int) (int64, []string, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	block := make([]byte, 4<<20)
	for i := range block {
		block[i] = byte(rng.Uint32())
	}
	var total int64
	var names []string
	for i := range n {
		size := int(1024 * pow2(rng.Float64()*12)) // 1 KiB to 4 MiB
		name := filepath.Join(fmt.Sprintf("d%02d", i%20), fmt.Sprintf("part-%05d.bin", i))
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return 0, nil, err
		}
		content := slices.Clone(block[:size])
		content[0] = byte(i)
		if err := os.WriteFile(path, content, 0o644); err != nil {
			return 0, nil, err
		}
		total += int64(size)
		names = append(names, name)
	}
	return total, names, nil
}

func pow2(x float64) float64 {
	r := 1.0
	for x >= 1 {
		r *= 2
		x--
	}
	return r * (1 + x*0.6931)
}

// writeBig writes size bytes of pseudo-random data to path.
func writeBig(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	block := make([]byte, 8<<20)
	for i := range block {
		block[i] = byte(rng.Uint32())
	}
	if _, err := io.CopyN(f, repeatReader{block: block}, size); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Close()
}

type repeatReader struct{ block []byte }

func (r repeatReader) Read(p []byte) (int, error) { return copy(p, r.block), nil }

func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseInt(num, 10, 64)
			if err != nil || n < 0 {
				return 0, fmt.Errorf("%q is not a size such as 4GiB", s)
			}
			return n * u.mult, nil
		}
	}
	return 0, fmt.Errorf("%q is not a size", s)
}
