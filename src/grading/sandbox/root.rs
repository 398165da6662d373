//! The roots a job's steps see: the compilers' root, staged once per job
//! from read-only binds of the host, and the minimal root each run step
//! builds for itself. Both are entered with `pivot_root`, so the host's
//! mount tree is detached rather than hidden behind a `chroot`.

use std::fs;
use std::os::fd::AsRawFd;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use nix::fcntl::{OFlag, open};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, unshare};
use nix::sys::stat::Mode;
use nix::sys::statvfs::{FsFlags, statvfs};
use nix::unistd::{chdir, pivot_root};

use super::{SandboxSpec, paths};

/// A host directory or file shown inside the sandbox.
struct Bind {
    host: PathBuf,
    target: String,
    writable: bool,
}

/// Everything the sandbox shows of the host.
fn binds(spec: &SandboxSpec) -> Vec<Bind> {
    let bind = |host: &Path, target: &str, writable: bool| Bind {
        host: host.to_path_buf(),
        target: target.to_string(),
        writable,
    };
    let mut binds = vec![
        bind(Path::new("/usr"), "/usr", false),
        bind(&spec.toolchain, paths::TOOLCHAIN, false),
        bind(&spec.deps, paths::DEPS, false),
    ];
    for host in ["/etc/alternatives", "/etc/ld.so.cache"] {
        if Path::new(host).exists() {
            binds.push(bind(Path::new(host), host, false));
        }
    }
    for top in ["/bin", "/lib", "/lib32", "/lib64", "/sbin"] {
        let host = Path::new(top);
        if host.is_dir() && !host.is_symlink() {
            binds.push(bind(host, top, false));
        }
    }
    for device in [
        "/dev/null",
        "/dev/zero",
        "/dev/full",
        "/dev/random",
        "/dev/urandom",
    ] {
        binds.push(bind(Path::new(device), device, true));
    }
    binds
}

/// Where the job's root is assembled (our mount namespace's view only).
const STAGING: &str = "/tmp";

/// Assembles the job's root filesystem at [`STAGING`]: a small tmpfs with
/// read-only binds of the toolchain, the dependency cache and `/usr`, a few
/// device nodes and our own `/etc` files; then makes the tmpfs read-only.
pub(super) fn stage_root(spec: &SandboxSpec) -> Result<()> {
    let none: Option<&str> = None;
    mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none)
        .context("make mounts private")?;
    // Open every source before the staging tmpfs goes up: a source may live
    // under the staging path itself (a checkout in /tmp), which it hides.
    let sources = binds(spec)
        .into_iter()
        .map(|bind| {
            let is_dir = bind.host.is_dir();
            open(&bind.host, OFlag::O_PATH | OFlag::O_CLOEXEC, Mode::empty())
                .with_context(|| format!("open {}", bind.host.display()))
                .map(|fd| (bind, is_dir, fd))
        })
        .collect::<Result<Vec<_>>>()?;
    let root = Path::new(STAGING);
    mount(
        Some("tmpfs"),
        root,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some("size=1m,mode=0755"),
    )
    .context("mount the root tmpfs")?;
    for dir in [
        "etc",
        "dev",
        "proc",
        "job",
        RUN_ROOT.trim_start_matches('/'),
    ] {
        fs::create_dir_all(root.join(dir))?;
    }
    write_etc(&root.join("etc"))?;
    for top in ["bin", "lib", "lib32", "lib64", "sbin"] {
        if let Ok(target) = fs::read_link(Path::new("/").join(top)) {
            symlink(target, root.join(top))?;
        }
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        symlink(target, root.join("dev").join(name))?;
    }
    symlink("/job/tmp", root.join("tmp"))?;
    for (bind, is_dir, fd) in &sources {
        let target = root.join(bind.target.trim_start_matches('/'));
        if *is_dir {
            fs::create_dir_all(&target)?;
        } else {
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::File::create(&target)?;
        }
        // Same mount namespace as the descriptor, so binding through it works.
        let source = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
        bind_onto(&source, &target, MsFlags::MS_REC, bind.writable)
            .with_context(|| format!("bind {}", bind.host.display()))?;
    }
    make_read_only(root).context("make the root read-only")
}

/// In the job's PID namespace: mounts `/proc` and the size-capped `/job`,
/// then makes the staged root the job's root.
pub(super) fn enter_root(spec: &SandboxSpec) -> Result<()> {
    let none: Option<&str> = None;
    let root = Path::new(STAGING);
    // /proc is mounted while the host's is still visible (the kernel requires it).
    mount(
        Some("proc"),
        &root.join("proc"),
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        none,
    )
    .context("mount /proc")?;
    let job_options = format!("size={}m,mode=0755", spec.scratch_mb);
    mount(
        Some("tmpfs"),
        &root.join("job"),
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(job_options.as_str()),
    )
    .context("mount /job")?;
    fs::create_dir_all(root.join("job/tmp"))?;
    fs::create_dir_all(root.join("job/out"))?;
    // As root the staged mounts came from a more privileged namespace and
    // are locked, and pivot_root refuses a locked new root; a recursive
    // bind of it onto itself, made here, is a mount of this namespace.
    mount(
        Some(root),
        root,
        none,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        none,
    )
    .context("bind the root onto itself")?;
    pivot_into(root)
}

/// Makes `new_root` (a mount point) the root and detaches the old one, so
/// the host's mount tree is gone from this namespace rather than hidden
/// behind a `chroot`. `pivot_root(".", ".")` stacks the old root on the new
/// one; unmounting "." then drops it (the order bubblewrap uses).
fn pivot_into(new_root: &Path) -> Result<()> {
    chdir(new_root)?;
    pivot_root(".", ".").context("pivot_root")?;
    umount2(".", MntFlags::MNT_DETACH).context("detach the old root")?;
    chdir("/")?;
    Ok(())
}

/// The few files of `/etc` a program may look at.
fn write_etc(etc: &Path) -> Result<()> {
    fs::write(
        etc.join("hosts"),
        "127.0.0.1 localhost\n::1 localhost ip6-localhost\n",
    )?;
    fs::write(etc.join("passwd"), "root:x:0:0:learner:/job:/bin/sh\n")?;
    fs::write(etc.join("group"), "root:x:0:\n")?;
    fs::write(etc.join("nsswitch.conf"), "hosts: files\n")?;
    Ok(())
}

/// Where a run step's own root is assembled (inside the job's root; each
/// step mounts over it in a mount namespace of its own).
const RUN_ROOT: &str = "/run-root";
/// Size of a run step's fresh `/job`, in MiB.
const RUN_SCRATCH_MB: u64 = 64;
/// The shared objects a compiled Rust program loads: the dynamic loader
/// and the C runtime (glibc, libgcc's unwinder). Whichever exist are shown.
const LOADERS: &[&str] = &["/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1"];
const C_RUNTIME: &[&str] = &[
    "libc.so.6",
    "libm.so.6",
    "libgcc_s.so.1",
    "libpthread.so.0",
    "libdl.so.2",
    "librt.so.1",
    "libutil.so.1",
];
const DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
];

/// Once per job, in PID 1 of the job: the part of every run root that is
/// the same for all run steps — the C runtime, a few devices, `/etc`
/// basics and empty mount points for `/job` and the program — read-only at
/// [`RUN_ROOT`]. Each run step then adds only its own pieces
/// ([`enter_run_root`]).
pub(super) fn stage_run_template() -> Result<()> {
    let root = Path::new(RUN_ROOT);
    mount(
        Some("tmpfs"),
        root,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some("size=1m,mode=0755"),
    )
    .context("mount the run root")?;
    for dir in ["etc", "dev", "job", "run"] {
        fs::create_dir_all(root.join(dir))?;
    }
    write_etc(&root.join("etc"))?;
    fs::File::create(root.join(paths::PROGRAM.trim_start_matches('/')))?;

    let mut files: Vec<(PathBuf, String, bool)> = Vec::new();
    let lib_dir = format!("/lib/{}-linux-gnu", std::env::consts::ARCH);
    for name in C_RUNTIME {
        let path = Path::new(&lib_dir).join(name);
        if path.exists() {
            files.push((path.clone(), path.to_string_lossy().into_owned(), false));
        }
    }
    for loader in LOADERS.iter().filter(|l| Path::new(l).exists()) {
        files.push((PathBuf::from(loader), loader.to_string(), false));
    }
    for device in DEVICES {
        files.push((PathBuf::from(device), device.to_string(), true));
    }
    for (source, target, writable) in files {
        // Links (the loader's) resolve here, in the job's root.
        let source = source.canonicalize().unwrap_or(source);
        let target = root.join(target.trim_start_matches('/'));
        if let Some(parent) = target.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::File::create(&target)?;
        bind_onto(&source, &target, MsFlags::empty(), writable)
            .with_context(|| format!("bind {}", source.display()))?;
    }
    make_read_only(root).context("make the run root read-only")
}

/// In a run step's process, before privileges go: a mount namespace of its
/// own whose root is the job's run template ([`stage_run_template`]) plus
/// `binary` (execute-only, at [`paths::PROGRAM`]) and an empty `/job`. No
/// `/proc`, no `/usr`, nothing to exec but the program itself, and nothing
/// a previous step wrote.
pub(super) fn enter_run_root(binary: &str) -> Result<()> {
    let program = job_path(binary)?;
    // Execute-only: the step runs it but cannot read it (it has no
    // CAP_DAC_OVERRIDE, and the bind below is read-only).
    fs::set_permissions(
        &program,
        std::os::unix::fs::PermissionsExt::from_mode(0o111),
    )
    .context("make the program execute-only")?;
    unshare(CloneFlags::CLONE_NEWNS).context("new mount namespace for the run")?;
    let root = Path::new(RUN_ROOT);
    let scratch = format!("size={RUN_SCRATCH_MB}m,mode=0755");
    mount(
        Some("tmpfs"),
        &root.join("job"),
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(scratch.as_str()),
    )
    .context("mount the run's /job")?;
    fs::create_dir_all(root.join("job/tmp"))?;
    let target = root.join(paths::PROGRAM.trim_start_matches('/'));
    bind_onto(&program, &target, MsFlags::empty(), false).context("bind the program")?;
    pivot_into(root)
}

/// Binds `source` onto `target` (`extra`: `MS_REC` for a tree): read-only,
/// or (devices) writable but not executable; never set-uid. Re-mounting
/// keeps the flags the source mount has locked.
fn bind_onto(source: &Path, target: &Path, extra: MsFlags, writable: bool) -> Result<()> {
    let none: Option<&str> = None;
    mount(Some(source), target, none, MsFlags::MS_BIND | extra, none)?;
    let mut flags =
        MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_NOSUID | mount_flags_of(target);
    flags |= if writable {
        MsFlags::MS_NOEXEC
    } else {
        MsFlags::MS_RDONLY
    };
    mount(none, target, none, flags, none).with_context(|| format!("remount {}", target.display()))
}

/// Makes the tmpfs at `root` read-only once it holds what a root needs.
fn make_read_only(root: &Path) -> Result<()> {
    let none: Option<&str> = None;
    let flags = MsFlags::MS_REMOUNT
        | MsFlags::MS_BIND
        | MsFlags::MS_RDONLY
        | MsFlags::MS_NOSUID
        | MsFlags::MS_NODEV;
    Ok(mount(none, root, none, flags, none)?)
}

/// The flags a bind of this mount must keep (the kernel refuses to clear them
/// inside a user namespace).
fn mount_flags_of(path: &Path) -> MsFlags {
    let Ok(stat) = statvfs(path) else {
        return MsFlags::empty();
    };
    let flags = stat.flags();
    let mut out = MsFlags::empty();
    for (fs_flag, ms_flag) in [
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
        (FsFlags::ST_RDONLY, MsFlags::MS_RDONLY),
    ] {
        if flags.contains(fs_flag) {
            out |= ms_flag;
        }
    }
    out
}

/// `/job/<relative>`, refusing anything that could point elsewhere.
pub(super) fn job_path(relative: &str) -> Result<PathBuf> {
    let path = Path::new(relative);
    if path.is_absolute()
        || path
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        bail!("bad job path {relative:?}");
    }
    Ok(Path::new(paths::JOB).join(path))
}
