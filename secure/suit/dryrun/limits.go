package dryrun

// maxFileName bounds the name of a file WriteImages writes: the longest
// name most file systems take (NAME_MAX). A component whose name would be
// longer is refused with ErrFileName rather than cut, which could merge
// two names.
const maxFileName = 255
