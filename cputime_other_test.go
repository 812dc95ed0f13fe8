//go:build !unix

package creek

// processCPU returns zero where getrusage is not to be had: the
// benchmarks then report no CPU times.
func processCPU() cpuTime { return cpuTime{} }
