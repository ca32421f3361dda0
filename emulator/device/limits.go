package device

// maxConfineReport bounds the confinement report a supervisor reads.
const maxConfineReport = 16 << 10

// maxReason bounds the halt reason a supervisor reads from a world.
const maxReason = 4 << 10
