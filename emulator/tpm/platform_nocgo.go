//go:build !cgo

package tpm

const haveSimulator = false

func nvImage() []byte { return make([]byte, nvSize) }

func nvLoad([]byte) error { return ErrNoSimulator }

func platPowerOn() {}

func nvCheck() error { return ErrNoSimulator }
