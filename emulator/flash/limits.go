package flash

// MaxSize bounds Config.Size. The whole array is held in memory (the file
// only mirrors it), so the bound is what a test machine can hold many times
// over; the largest NOR parts a bootloader sits on are well under it.
const MaxSize = 1 << 30
