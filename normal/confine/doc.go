// Package confine shuts the normal world's process in, before it reads
// any input, as close to a TEE's split as Linux allows: Landlock leaves
// it its spool directory and what it needs to run (the system's
// programs and libraries, read-only), a seccomp filter refuses the
// system calls that reach into another process (ptrace,
// process_vm_readv, process_vm_writev, pidfd_getfd, ...) and those that
// change the system, no_new_privs keeps what it runs from gaining
// privileges, and a process started as root becomes an unprivileged
// user. Apply reports which of them are in force; a kernel that lacks
// one leaves it out and the report says so.
//
// Probe is the attacker's side: the attempts a hostile normal world
// would make on the secure world's files and memory, each with the
// error the kernel gave.
//
// Trust: it trusts its caller's policy (the supervisor's) and nothing
// the normal world later reads.
package confine
