package store

import (
	"encoding/binary"
	"math"
)

// Bucket and key names; see the package comment for the layout.
var (
	bucketProjects = []byte("projects")

	bucketMeta        = []byte("meta")
	bucketTasks       = []byte("tasks")
	bucketCompletions = []byte("completions")
	bucketPendingBits = []byte("pending_bits")
	bucketBlocksTasks = []byte("blocks_tasks")
	bucketOrders      = []byte("orders")
	bucketScores      = []byte("scores")
	bucketByScore     = []byte("by_score")
	bucketDataKeys    = []byte("data_keys")
	bucketLabelUsage  = []byte("label_usage")
	bucketHashBlocks  = []byte("hash_blocks")

	projectBuckets = [][]byte{
		bucketMeta, bucketTasks, bucketCompletions, bucketPendingBits,
		bucketBlocksTasks, bucketOrders, bucketScores, bucketByScore,
		bucketDataKeys, bucketLabelUsage, bucketHashBlocks,
	}

	keySettings    = []byte("settings")
	keyLabelConfig = []byte("label_config")
	keyCounters    = []byte("counters")
	keyUUID        = []byte("uuid")
	keySchema      = []byte("schema")
	// keyConfigRevision counts the saves of the labeling config.
	keyConfigRevision = []byte("config_revision")
	// keyScoreHorizon is the smallest task id whose score imports left
	// out of by_score (absent when by_score is complete).
	keyScoreHorizon = []byte("score_horizon")
	// keyHashHorizon is the smallest task id whose content hash imports
	// left out of hash_blocks (absent when hash_blocks is complete).
	keyHashHorizon = []byte("hash_horizon")
)

// The completed-task orders share bucket orders, told apart by their keys'
// first byte: one tree touches fewer pages per write than two. Each serves
// both directions.
const (
	orderCompleted byte = 'a' // t ‖ seq
	orderCancelled byte = 'c' // n ‖ ^t ‖ seq
)

// schemaVersion is the layout version written in meta/schema.
const schemaVersion = "3"

// blockShift sets the size of an order-statistics block: 1<<blockShift ids.
const blockShift = 10

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func idKey(id int64) []byte { return u64(uint64(id)) }

func keyID(k []byte) int64 { return int64(binary.BigEndian.Uint64(k[:8])) }

// sortable maps a signed integer to an unsigned one with the same order.
func sortable(v int64) uint64 { return uint64(v) ^ (1 << 63) }

// sortableFloat maps a float64 to an unsigned integer with the same order.
func sortableFloat(f float64) uint64 {
	b := math.Float64bits(f)
	if b&(1<<63) != 0 {
		return ^b
	}
	return b | (1 << 63)
}

func cat(parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func completionKey(taskID, compID int64) []byte { return cat(idKey(taskID), idKey(compID)) }

func getU64(v []byte) uint64 {
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}
