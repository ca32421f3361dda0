package flash

// MaxSize bounds Config.Size of a flash held in memory (NewMem, Open): the
// whole array is in memory, so the bound is what a test machine can hold
// many times over; the largest NOR parts a bootloader sits on are well
// under it.
const MaxSize = 1 << 30

// MaxDirectSize bounds Config.Size of a flash that lives in its file alone
// (OpenDirect), whose memory does not grow with its size.
const MaxDirectSize = 64 << 30

// maxMarks bounds the sectors a direct flash remembers as erased (a few
// dozen bytes each), so that erasing a large flash sector by sector does
// not grow the process; a sector past it is checked by reading it back.
const maxMarks = 1 << 14
