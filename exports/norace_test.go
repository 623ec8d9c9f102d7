//go:build !race

package exports

// raceEnabled reports that the race detector is on; the slowest tests do
// less then.
const raceEnabled = false
