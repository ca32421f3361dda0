package client

// MaxResponse bounds an answer of the operator API.
const MaxResponse = 16 << 20
