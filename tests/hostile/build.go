package hostile

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
)

// CreekPackage is the command the suite builds; the module's replace
// directive makes it this checkout's.
const CreekPackage = "github.com/creekmq/creek/cmd/creek"

// BuildCreek builds the creek command into dir and returns the binary's
// path. It runs `go build` in the current directory, which must be in this
// module (go test runs tests in their package's directory).
func BuildCreek(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "creek")
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, CreekPackage).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build %s (run from tests/hostile): %v\n%s", CreekPackage, err, out)
	}
	return bin, nil
}
