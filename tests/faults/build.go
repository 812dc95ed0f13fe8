package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
)

// creekPackage is the command the harness builds; the module's replace
// directive makes it this checkout's.
const creekPackage = "github.com/creekmq/creek/cmd/creek"

// BuildCreek builds the creek command into dir and returns its path. It
// runs `go build` in the current directory, which must be in this module.
func BuildCreek(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "creek")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, creekPackage).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build %s (run from tests/faults): %v\n%s", creekPackage, err, out)
	}
	return bin, nil
}
