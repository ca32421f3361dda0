// Package archtest checks the architecture rules of this module that the
// compiler does not: which folder may import which (imports.go, the rules
// of issue 10 and docs/architecture.md) and that every package says in its
// doc comment what it is for and what it trusts (docs.go), and that the
// copies of a published vector set in the packages' testdata/ folders
// agree byte for byte (vectors.go). Its tests run the checks on the real
// tree.
//
// Trust: it trusts the go command's view of the module (go list) and the Go
// parser; it reads source files and never runs or changes them.
package archtest
