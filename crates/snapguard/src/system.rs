//! Reads what the decision needs from the machine: `MemAvailable`, the cgroup memory
//! headroom, and a snapshot file's header.
//!
//! Every function takes the filesystem root (`/` in production) so tests can build a
//! fake `proc`/`sys` tree in a temporary directory. Missing or unreadable files give
//! `None` (unknown), never an error: a machine without cgroups simply has no cgroup
//! limit.
//!
//! Cgroup lookup follows `/proc/self/cgroup`:
//! - v2 (`0::/path`): every level from `sys/fs/cgroup/path` up to `sys/fs/cgroup` that
//!   has a `memory.max` other than `max` contributes `memory.max − memory.current`;
//! - v1 (`N:...memory...:/path`): the same walk over `sys/fs/cgroup/memory/path` with
//!   `memory.limit_in_bytes` and `memory.usage_in_bytes` (limits of 2^60 or more mean
//!   unlimited).
//!
//! When the listed path does not exist (a container without its own cgroup namespace
//! shows the host's path), the walk starts at the mount point itself. The headroom is
//! the smallest over all levels found.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::header::parse_header_counts;

/// Limits of 2^60 bytes or more are "no limit" (cgroup v1 writes `PAGE_COUNTER_MAX`).
const UNLIMITED: u64 = 1 << 60;

/// Memory available to this process, as far as the machine tells.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryInfo {
    /// `MemAvailable` from `/proc/meminfo`, in bytes.
    pub mem_available: Option<u64>,
    /// Smallest `limit − usage` over this process's memory cgroups.
    pub cgroup_headroom: Option<u64>,
}

/// Reads `MemAvailable` and the cgroup headroom under `root`.
#[must_use]
pub fn read_memory_info(root: &Path) -> MemoryInfo {
    MemoryInfo {
        mem_available: read_mem_available(root),
        cgroup_headroom: read_cgroup_headroom(root),
    }
}

/// `MemAvailable` from `root/proc/meminfo`, in bytes.
#[must_use]
pub fn read_mem_available(root: &Path) -> Option<u64> {
    let text = fs::read_to_string(root.join("proc/meminfo")).ok()?;
    text.lines().find_map(|line| {
        let rest = line.strip_prefix("MemAvailable:")?;
        let kb: u64 = rest.trim().trim_end_matches("kB").trim().parse().ok()?;
        Some(kb * 1024)
    })
}

/// Smallest memory headroom over the cgroups listed in `root/proc/self/cgroup`.
#[must_use]
pub fn read_cgroup_headroom(root: &Path) -> Option<u64> {
    smallest_over_cgroups(root, u64::saturating_sub)
}

/// Smallest memory limit over the cgroups listed in `root/proc/self/cgroup` (the container
/// limit a process runs into); `None` when every level is unlimited or there are no cgroups.
#[must_use]
pub fn read_cgroup_limit(root: &Path) -> Option<u64> {
    smallest_over_cgroups(root, |limit, _| limit)
}

/// The smallest `value(limit, usage)` over every limited level of this process's memory
/// cgroups (v2, and v1's memory controller).
fn smallest_over_cgroups(root: &Path, value: impl Fn(u64, u64) -> u64 + Copy) -> Option<u64> {
    let text = fs::read_to_string(root.join("proc/self/cgroup")).ok()?;
    let mut best: Option<u64> = None;
    for line in text.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_id), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let found = if controllers.is_empty() {
            walk(
                &root.join("sys/fs/cgroup"),
                path,
                "memory.max",
                "memory.current",
                value,
            )
        } else if controllers.split(',').any(|c| c == "memory") {
            walk(
                &root.join("sys/fs/cgroup/memory"),
                path,
                "memory.limit_in_bytes",
                "memory.usage_in_bytes",
                value,
            )
        } else {
            None
        };
        if let Some(h) = found {
            best = Some(best.map_or(h, |b| b.min(h)));
        }
    }
    best
}

/// Walks from `mount/path` up to `mount`, returning the smallest `value(limit, usage)`.
fn walk(
    mount: &Path,
    path: &str,
    limit_file: &str,
    usage_file: &str,
    value: impl Fn(u64, u64) -> u64,
) -> Option<u64> {
    let relative = path.trim_start_matches('/');
    let mut dir: PathBuf = mount.join(relative);
    if relative.is_empty() || !dir.is_dir() {
        dir = mount.to_path_buf();
    }
    let mut best: Option<u64> = None;
    loop {
        if let Some(limit) = read_number(&dir.join(limit_file)).filter(|&l| l < UNLIMITED) {
            let usage = read_number(&dir.join(usage_file)).unwrap_or(0);
            let v = value(limit, usage);
            best = Some(best.map_or(v, |b| b.min(v)));
        }
        if dir == mount || !dir.pop() || !dir.starts_with(mount) {
            break;
        }
    }
    best
}

/// A file holding one number; `max` (cgroup v2 "no limit") and garbage give `None`.
fn read_number(path: &Path) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// `(node_count, edge_count)` from the first 64 KiB of a `.heapsnapshot` file.
#[must_use]
pub fn read_snapshot_counts(path: &Path) -> Option<(u64, u64)> {
    let mut head = Vec::with_capacity(64 << 10);
    fs::File::open(path)
        .ok()?
        .take(64 << 10)
        .read_to_end(&mut head)
        .ok()?;
    parse_header_counts(&head)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    #[test]
    fn meminfo() {
        let t = tempfile::tempdir().unwrap();
        write(
            t.path(),
            "proc/meminfo",
            "MemTotal:       24000000 kB\nMemAvailable:   18411164 kB\n",
        );
        assert_eq!(read_mem_available(t.path()), Some(18_411_164 * 1024));
        assert_eq!(read_cgroup_headroom(t.path()), None);
    }

    #[test]
    fn cgroup_v2_nested_takes_smallest_level() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        write(r, "proc/self/cgroup", "0::/kubepods/pod1/app\n");
        write(r, "sys/fs/cgroup/kubepods/pod1/app/memory.max", "max\n");
        write(r, "sys/fs/cgroup/kubepods/pod1/app/memory.current", "100\n");
        write(r, "sys/fs/cgroup/kubepods/pod1/memory.max", "1000\n");
        write(r, "sys/fs/cgroup/kubepods/pod1/memory.current", "300\n");
        write(r, "sys/fs/cgroup/kubepods/memory.max", "5000\n");
        write(r, "sys/fs/cgroup/kubepods/memory.current", "4800\n");
        assert_eq!(read_cgroup_headroom(r), Some(200));
        assert_eq!(read_cgroup_limit(r), Some(1000));
    }

    #[test]
    fn cgroup_v2_namespaced_container() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        // Inside a container with a cgroup namespace the path is "/" and the limit
        // files sit at the mount point.
        write(r, "proc/self/cgroup", "0::/\n");
        write(r, "sys/fs/cgroup/memory.max", "536870912\n");
        write(r, "sys/fs/cgroup/memory.current", "136870912\n");
        assert_eq!(read_cgroup_headroom(r), Some(400_000_000));
    }

    #[test]
    fn cgroup_v2_host_path_missing_falls_back_to_mount() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        write(r, "proc/self/cgroup", "0::/system.slice/docker-abc.scope\n");
        write(r, "sys/fs/cgroup/memory.max", "2000\n");
        write(r, "sys/fs/cgroup/memory.current", "500\n");
        assert_eq!(read_cgroup_headroom(r), Some(1500));
    }

    #[test]
    fn cgroup_v1_hybrid() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        write(
            r,
            "proc/self/cgroup",
            "9:name=systemd:/\n4:memory:/jobs/a\n1:cpu,cpuacct:/\n0::/\n",
        );
        write(
            r,
            "sys/fs/cgroup/memory/memory.limit_in_bytes",
            "9223372036854771712\n",
        );
        write(r, "sys/fs/cgroup/memory/memory.usage_in_bytes", "800\n");
        write(
            r,
            "sys/fs/cgroup/memory/jobs/a/memory.limit_in_bytes",
            "1000\n",
        );
        write(
            r,
            "sys/fs/cgroup/memory/jobs/a/memory.usage_in_bytes",
            "900\n",
        );
        assert_eq!(read_cgroup_headroom(r), Some(100));
    }

    #[test]
    fn unlimited_everywhere_is_unknown() {
        let t = tempfile::tempdir().unwrap();
        let r = t.path();
        write(r, "proc/self/cgroup", "4:memory:/\n");
        write(
            r,
            "sys/fs/cgroup/memory/memory.limit_in_bytes",
            "9223372036854771712\n",
        );
        assert_eq!(read_cgroup_headroom(r), None);
    }

    #[test]
    fn snapshot_counts_from_file() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path().join("a.heapsnapshot");
        fs::write(
            &p,
            r#"{"snapshot":{"meta":{},"node_count":7,"edge_count":9},"nodes":[]}"#,
        )
        .unwrap();
        assert_eq!(read_snapshot_counts(&p), Some((7, 9)));
        assert_eq!(read_snapshot_counts(&t.path().join("missing")), None);
    }
}
