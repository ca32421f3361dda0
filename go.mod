module github.com/teeup/teeup

go 1.26

toolchain go1.26.11

require (
	github.com/fxamacker/cbor/v2 v2.9.1
	github.com/google/go-tpm v0.9.8
	github.com/google/go-tpm-tools v0.4.11
	github.com/spf13/cobra v1.10.2
	golang.org/x/sys v0.45.0
)

require (
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
	github.com/x448/float16 v0.8.4 // indirect
)
