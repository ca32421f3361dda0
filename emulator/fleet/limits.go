package fleet

// MaxMessage bounds a TAM's answer.
const MaxMessage = 16 << 20

// MaxThrottled bounds the 429 answers one message waits out.
const MaxThrottled = 60
