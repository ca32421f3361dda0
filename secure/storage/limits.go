package storage

// Bounds of the state's decoder (codec.go). The state is the store's own
// writing, authenticated before it is decoded; the decoder is bounded all
// the same.
const (
	maxNestedLevels  = 8
	maxArrayElements = 1 << 16
	maxMapPairs      = 16
)
