// Package store owns the domain of labelstudio — projects, tasks, completions
// and predictions — and its persistence in a single bbolt file.
//
// The store knows no HTTP. Every public method is one logical operation and
// runs in one bbolt transaction, so an operation is either wholly stored or
// not at all, and the counters and indexes below always agree with the data.
//
// # Bucket layout
//
// The top-level bucket "projects" holds one nested bucket per project, keyed
// by the project name. Inside a project bucket:
//
//	"counters"           (a key, not a bucket) → JSON of Counters; it sits in the
//	                     project bucket's own page, which every write rewrites anyway
//	"order_seq"          (a key)         → uint64 last seq given to a saved completion's
//	                                       order keys (see orders)
//	meta                 "settings"      → JSON of the project settings (config.json keys)
//	                     "label_config"  → the labeling config text, stored verbatim
//	                     "uuid"          → the project's uuid (text)
//	                     "schema"        → layout version (text, currently "3")
//	                     "config_revision" → uint64 count of labeling-config saves
//	                     "score_horizon" → uint64 smallest task id whose score imports
//	                                       left out of by_score; absent when it is complete
//	                     "hash_horizon"  → uint64 smallest task id whose content hash imports
//	                                       left out of hash_blocks; absent when it is complete
//	tasks                id              → task JSON {"id","data","meta"?,"predictions"?,"task_path"?}
//	completions          id ‖ cid        → completion JSON, as the client sent it plus id/created_at
//	                     id              → summary of a completed task with its order keys'
//	                                       seq (stateLen bytes, see summary), just before its
//	                                       completions: saving a completion rewrites one leaf
//	                                       for both
//	pending_bits         id>>10          → 128-byte bitmap of the block's tasks without any
//	                                       completion (bit id&1023); absent when none
//	blocks_tasks         id>>10          → count of tasks in that id block   (order statistics)
//	orders               'a' ‖ t ‖ seq   → id  completed tasks by newest created_at, ascending;
//	                                       read tie group by tie group from the end for the
//	                                       descending order
//	                     'c' ‖ n ‖ ^t ‖ seq → id completed tasks by cancelled count, then newest
//	                                       first; read count group by count group from the
//	                                       end for the count descending
//	                                       (within a tie group the lists go by id: seq is the
//	                                       id for imported keys, and from 1<<62 on, in saving
//	                                       order, for the others, which readers sort; see
//	                                       orderKeys)
//	scores               id              → float64 bits: mean prediction score of a task
//	by_score             s ‖ id          → ∅   pending tasks that have a scored prediction (those
//	                                       from score_horizon on are added by the first
//	                                       prediction-score sampling; see deferScores)
//	data_keys            key             → uint64 number of tasks whose data has that key
//	hash_blocks          id>>10          → records of 18 bytes, one per task of the block:
//	                                       id&1023 (2 bytes) and the first 16 bytes of the
//	                                       SHA-256 of the task's data JSON without white
//	                                       space (duplicate detection); the tasks from
//	                                       hash_horizon on are hashed by the next import
//	                                       that skips duplicates (see deferHashes)
//	label_usage          "t\x00from\x00to\x00type" → uint64 result items with that triple
//	                     "l\x00from\x00label"      → uint64 result items carrying that label
//
// Integers in keys are 8-byte big-endian; signed values have their sign bit
// flipped so that byte order is numeric order; "^x" is the bitwise complement,
// which reverses the order. A task id block is id>>10 (1024 ids): counting the
// tasks per block lets the n-th task in id order be found by summing at most
// N/1024 block counts and stepping at most 1024 keys, instead of scanning;
// the n-th pending task is found the same way from the bitmaps' bit counts.
// Keeping the pending set and the content hashes as one value per block
// means an import of a thousand tasks writes a few values there, not a
// thousand keys. Layout 1 kept a key per task in "pending" and "data_hash"
// (plus counts in "blocks_pending"), the four orders in buckets of their
// own and the counters in meta; layouts 1 and 2 kept the summaries (without
// seq) in a bucket "state" of their own and the orders keyed by id, the
// descending ones as keys of their own ('b' ^t ‖ id, 'd' ^n ‖ ^t ‖ id).
// Open converts such projects.
//
// Task ids follow Label Studio 0.8.1: the next id is the largest existing id
// plus one, and 0 in an empty project. Completion ids are task_id*1000 plus
// one more than the largest suffix in use for that task.
package store
