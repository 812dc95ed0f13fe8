package creek

import (
	"go/ast"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every exported error of the package has a Kafka code in kafkaCodes, as
// errors.go says, but the producer's own three.
func TestEveryErrorHasAKafkaCode(t *testing.T) {
	_, files := parseSources(t, ".")
	var declared, mapped []string
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, name := range n.Names {
					if strings.HasPrefix(name.Name, "Err") && name.IsExported() {
						declared = append(declared, name.Name)
					}
					if name.Name == "kafkaCodes" && i < len(n.Values) {
						for _, elt := range n.Values[i].(*ast.CompositeLit).Elts {
							if id, ok := elt.(*ast.CompositeLit).Elts[0].(*ast.Ident); ok {
								mapped = append(mapped, id.Name)
							}
						}
					}
				}
			}
			return true
		})
	}
	require.NotEmpty(t, declared)
	var unmapped []string
	for _, name := range declared {
		if !slices.Contains(mapped, name) {
			unmapped = append(unmapped, name)
		}
	}
	slices.Sort(unmapped)
	require.Equal(t, []string{"ErrAbortRequired", "ErrNoTransaction", "ErrProducerClosed"}, unmapped)
}
