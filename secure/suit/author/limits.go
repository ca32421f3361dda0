package author

// MaxSpecSize bounds a SPEC.json (payloads are files it names, not in it):
// a spec read from a pipe is read whole before it is decoded.
const MaxSpecSize = 1 << 20
