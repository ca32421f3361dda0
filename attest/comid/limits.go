package comid

const (
	// MaxEncoded bounds an encoded endorsement or reference values file.
	MaxEncoded = 1 << 20
	// MaxReferences bounds the component versions one reference values
	// file lists.
	MaxReferences = 4096
	// MaxSigners bounds the signers of one component version.
	MaxSigners = 8
	// MaxBytesField bounds any one hex field (an ID, a digest, a key's
	// public area).
	MaxBytesField = 1024
	// MaxText bounds a text field (a component's name, a version, a PEM).
	MaxText = 4096
)
