package boot

// maxSectorSize bounds the sectors ForImage picks: NOR flash erases in
// blocks of 4 KiB to 256 KiB; 1 MiB leaves room for images of GiBs.
const maxSectorSize = 1 << 20
