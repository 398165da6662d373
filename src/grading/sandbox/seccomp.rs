//! The seccomp filters on every step: the kernel boundary behind the
//! namespaces.
//!
//! Namespaces and dropped capabilities decide what a job may *see*; the
//! filter decides which parts of the kernel it may *reach*. A kernel bug in
//! an interface nobody's tests need (io_uring, BPF, keyrings, userfaultfd,
//! perf events, module loading, mounts, namespaces, exotic socket families
//! such as `AF_ALG`) should not be reachable from a learner's job, so those
//! calls are refused on every step: Docker's default profile blocks the
//! same set for an unprivileged container, plus io_uring.
//!
//! Two strengths, by [`Isolation`]:
//! * compile steps (rustc, cc, ld): the listed calls fail with `EPERM`;
//! * run steps (learner code): the listed calls, and starting a process
//!   (`fork`, `vfork`, `clone` without `CLONE_THREAD`), stop the program
//!   with `SIGSYS`, which the judge sees and reports as an integrity signal.
//!
//! `clone3` fails with `ENOSYS` everywhere, so the C library falls back to
//! `clone`, whose flags a filter can inspect (`clone3` passes them in
//! memory, out of a filter's reach). System call numbers of the x32 ABI
//! (bit 30 set) fail with `ENOSYS`, and any other architecture's calls kill
//! the process: the lists below are written for the native one.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch, sock_filter,
};

use super::Isolation;

/// Calls no compile or test step needs, refused on every step.
const KERNEL_INTERFACES: &[libc::c_long] = &[
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_userfaultfd,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_process_madvise,
    libc::SYS_pidfd_getfd,
    libc::SYS_kcmp,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_mount_setattr,
    libc::SYS_fsopen,
    libc::SYS_fsconfig,
    libc::SYS_fsmount,
    libc::SYS_fspick,
    libc::SYS_move_mount,
    libc::SYS_open_tree,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_reboot,
    libc::SYS_acct,
    libc::SYS_quotactl,
    libc::SYS_quotactl_fd,
    libc::SYS_syslog,
    libc::SYS_lookup_dcookie,
    libc::SYS_open_by_handle_at,
    libc::SYS_name_to_handle_at,
    libc::SYS_fanotify_init,
    libc::SYS_clock_settime,
    libc::SYS_clock_adjtime,
    libc::SYS_settimeofday,
    libc::SYS_adjtimex,
    libc::SYS_sethostname,
    libc::SYS_setdomainname,
    libc::SYS_vhangup,
    libc::SYS_move_pages,
    libc::SYS_mbind,
    libc::SYS_set_mempolicy,
    libc::SYS_migrate_pages,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_iopl,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_ioperm,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_modify_ldt,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_uselib,
    #[cfg(target_arch = "x86_64")]
    libc::SYS__sysctl,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_nfsservctl,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_ustat,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_sysfs,
];

/// Process-creating calls refused to learner code (run steps).
const NEW_PROCESS: &[libc::c_long] = &[
    #[cfg(target_arch = "x86_64")]
    libc::SYS_fork,
    #[cfg(target_arch = "x86_64")]
    libc::SYS_vfork,
];

/// Socket families a test may use: local sockets, TCP/UDP over loopback,
/// and netlink (the C library's `getaddrinfo` asks it about interfaces).
const SOCKET_FAMILIES: &[libc::c_int] = &[
    libc::AF_UNIX,
    libc::AF_INET,
    libc::AF_INET6,
    libc::AF_NETLINK,
];

/// `clone` flags that create namespaces.
const NAMESPACE_FLAGS: &[libc::c_int] = &[
    libc::CLONE_NEWNS,
    libc::CLONE_NEWUSER,
    libc::CLONE_NEWPID,
    libc::CLONE_NEWNET,
    libc::CLONE_NEWIPC,
    libc::CLONE_NEWUTS,
    libc::CLONE_NEWCGROUP,
];

/// `personality` values the C library and Rust may ask for (Docker's list).
const PERSONALITIES: &[u64] = &[0, 0x8, 0x20000, 0x20008, 0xffff_ffff];

/// The filters of a step in `isolation`, compiled to BPF (in the order they
/// are to be installed).
pub fn filters(isolation: &Isolation) -> Result<Vec<BpfProgram>> {
    let arch = TargetArch::try_from(std::env::consts::ARCH)
        .map_err(|error| anyhow::anyhow!("no seccomp support for this architecture: {error}"))?;
    let learner = matches!(isolation, Isolation::Run { .. });
    let refuse = if learner {
        SeccompAction::Trap
    } else {
        SeccompAction::Errno(libc::EPERM as u32)
    };

    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = KERNEL_INTERFACES
        .iter()
        .map(|&call| (call, Vec::new()))
        .collect();
    if learner {
        rules.extend(NEW_PROCESS.iter().map(|&call| (call, Vec::new())));
    }
    let mut clone_rules = NAMESPACE_FLAGS
        .iter()
        .map(|&flag| {
            rule(vec![condition(
                0,
                SeccompCmpOp::MaskedEq(flag as u64),
                flag as u64,
            )?])
        })
        .collect::<Result<Vec<_>>>()?;
    if learner {
        // A thread shares the address space and the thread group; anything
        // else is a new process.
        let thread = libc::CLONE_THREAD as u64;
        clone_rules.push(rule(vec![condition(
            0,
            SeccompCmpOp::MaskedEq(thread),
            0,
        )?])?);
    }
    rules.insert(libc::SYS_clone, clone_rules);
    rules.insert(
        libc::SYS_socket,
        vec![rule(
            SOCKET_FAMILIES
                .iter()
                .map(|&family| int_condition(0, SeccompCmpOp::Ne, family as u64))
                .collect::<Result<_>>()?,
        )?],
    );
    rules.insert(
        libc::SYS_personality,
        vec![rule(
            PERSONALITIES
                .iter()
                .map(|&value| int_condition(0, SeccompCmpOp::Ne, value))
                .collect::<Result<_>>()?,
        )?],
    );
    let refused: BpfProgram = SeccompFilter::new(rules, SeccompAction::Allow, refuse, arch)
        .and_then(BpfProgram::try_from)
        .context("build the seccomp filter")?;

    let mut no_clone3: BpfProgram = x32_is_not_implemented();
    no_clone3.extend(
        SeccompFilter::new(
            BTreeMap::from([(libc::SYS_clone3, Vec::new())]),
            SeccompAction::Allow,
            SeccompAction::Errno(libc::ENOSYS as u32),
            arch,
        )
        .and_then(BpfProgram::try_from)
        .context("build the clone3 filter")?,
    );
    Ok(vec![refused, no_clone3])
}

/// Installs `filters` on the calling thread (it must have `no_new_privs`).
///
/// With `SECCOMP_FILTER_FLAG_SPEC_ALLOW`: on kernels that mitigate
/// speculative store bypass only for seccomp'd tasks, a filter would
/// otherwise slow every compile down, to protect secrets the job's own
/// process does not hold (other processes are protected either way).
pub fn install(filters: &[BpfProgram]) -> Result<()> {
    for filter in filters {
        let program = libc::sock_fprog {
            len: u16::try_from(filter.len()).context("seccomp filter too long")?,
            // seccompiler's `sock_filter` is `repr(C)` and laid out as the kernel's.
            filter: filter.as_ptr() as *mut libc::sock_filter,
        };
        let install = |flags: libc::c_ulong| {
            // SAFETY: the kernel copies the program; `program` and `filter`
            // outlive the call.
            unsafe {
                libc::syscall(
                    libc::SYS_seccomp,
                    libc::SECCOMP_SET_MODE_FILTER,
                    flags,
                    &program as *const libc::sock_fprog,
                )
            }
        };
        // Kernels before 4.17 do not know the flag.
        if install(libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW) != 0 && install(0) != 0 {
            anyhow::bail!(
                "install the seccomp filter: {}",
                std::io::Error::last_os_error()
            );
        }
    }
    Ok(())
}

fn rule(conditions: Vec<SeccompCondition>) -> Result<SeccompRule> {
    Ok(SeccompRule::new(conditions)?)
}

/// A condition on a `long` argument.
fn condition(arg: u8, op: SeccompCmpOp, value: u64) -> Result<SeccompCondition> {
    Ok(SeccompCondition::new(
        arg,
        SeccompCmpArgLen::Qword,
        op,
        value,
    )?)
}

/// A condition on an `int` argument: the kernel reads only its low 32 bits,
/// so only those are compared.
fn int_condition(arg: u8, op: SeccompCmpOp, value: u64) -> Result<SeccompCondition> {
    Ok(SeccompCondition::new(
        arg,
        SeccompCmpArgLen::Dword,
        op,
        value,
    )?)
}

/// BPF that answers `ENOSYS` to any x32 system call (number with bit 30
/// set) and lets everything else through to the instructions after it.
fn x32_is_not_implemented() -> BpfProgram {
    const X32_SYSCALL_BIT: u32 = 0x4000_0000;
    let load_number = sock_filter {
        code: (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16,
        jt: 0,
        jf: 0,
        k: 0, // offsetof(struct seccomp_data, nr)
    };
    let is_x32 = sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16,
        jt: 0,
        jf: 1,
        k: X32_SYSCALL_BIT,
    };
    let enosys = sock_filter {
        code: (libc::BPF_RET | libc::BPF_K) as u16,
        jt: 0,
        jf: 0,
        k: libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32,
    };
    vec![load_number, is_x32, enosys]
}
