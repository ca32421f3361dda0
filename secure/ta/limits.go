package ta

// MaxPayload bounds one payload of a TA update: TAs and their
// personalization data are held in the secure world's memory whole, until
// the store takes them.
const MaxPayload = 1 << 20

// MaxSetBytes bounds what a whole TA install set may bring: the secure
// world holds all of it until Install.
const MaxSetBytes = 4 << 20
