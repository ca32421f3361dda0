package confine

import (
	seccomp "github.com/elastic/go-seccomp-bpf"
)

// Denied are the system calls the filter refuses with EPERM. It is a
// deny-list: the normal world runs the operator's health command (a
// shell, and whatever it runs) under the same filter, and an allow-list
// for arbitrary commands would refuse what they legitimately need. Every
// call here is one a forwarder never makes: reaching into another
// process, loading code or filters into the kernel, changing the
// system, leaving its namespaces or its root, or submitting work the
// filter would not see (io_uring).
var Denied = []string{
	// Another process's memory, descriptors and state.
	"ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
	"process_madvise",
	// The kernel: modules, kexec, BPF, perf, keys, userfaultfd.
	"init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load",
	"bpf", "perf_event_open", "keyctl", "add_key", "request_key", "userfaultfd",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
	// Filesystems, roots and namespaces.
	"mount", "umount2", "pivot_root", "chroot", "unshare", "setns",
	"open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
	"open_by_handle_at", "name_to_handle_at", "fanotify_init",
	// The machine: time, power, swap, accounting, ports, the kernel log.
	"reboot", "swapon", "swapoff", "acct", "quotactl", "settimeofday", "clock_settime",
	"clock_adjtime", "adjtimex", "iopl", "ioperm", "syslog", "vhangup", "personality",
}

// installFilter loads the filter on every thread of the process; the
// caller has set no_new_privs.
func installFilter() error {
	return seccomp.LoadFilter(seccomp.Filter{
		Flag: seccomp.FilterFlagTSync,
		Policy: seccomp.Policy{
			DefaultAction: seccomp.ActionAllow,
			Syscalls:      []seccomp.SyscallGroup{{Names: Denied, Action: seccomp.ActionErrno}},
		},
	})
}
