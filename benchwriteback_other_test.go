//go:build !unix

package creek

// writeBack does nothing where sync(2) is not to be had.
func writeBack() {}
