//go:build race

package labelconfig

// raceEnabled reports whether the tests run under the race detector.
const raceEnabled = true
