module github.com/teeup/teeup

go 1.26

toolchain go1.26.11

require (
	github.com/fxamacker/cbor/v2 v2.9.1
	github.com/google/go-tpm v0.9.8
	github.com/google/go-tpm-tools v0.4.11
)

require (
	github.com/x448/float16 v0.8.4 // indirect
	golang.org/x/sys v0.45.0 // indirect
)
