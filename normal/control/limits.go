package control

// MaxRequest bounds a request line.
const MaxRequest = 1 << 20
