package client

// MaxResponse bounds an answer of the operator API.
const MaxResponse = 16 << 20

// MaxDevices bounds the devices Devices and Status gather, page after
// page (a TAM's rollouts reach at most as many: store.MaxRolloutDevices).
const MaxDevices = 1 << 20
