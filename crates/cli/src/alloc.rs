//! `mw`'s global allocator: glibc's, with large blocks on transparent huge pages.
//!
//! The graph columns of a large snapshot take hundreds of MB, and the dominator,
//! predecessor and distance passes read and write them at random. On 4 KiB pages nearly
//! every such access misses the TLB, and every page costs a fault when first touched.
//! Transparent huge pages (2 MiB) cut both by up to 512x, but under the kernel's usual
//! `madvise` policy only for memory that asks for them, and glibc's malloc only asks when
//! the process was started with `GLIBC_TUNABLES=glibc.malloc.hugetlb=1`. This allocator
//! asks for every block of at least [`LARGE`] bytes. Where the kernel has no transparent
//! huge pages (or they are off), the request fails and nothing changes.

#![allow(unsafe_code)] // a `GlobalAlloc` and one `madvise` call, each with its SAFETY argument

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks of at least this many bytes are advised onto huge pages (glibc gives them, or
/// most of them, a mapping of their own).
const LARGE: usize = 4 << 20;

/// [`System`], plus `madvise(MADV_HUGEPAGE)` on large blocks.
pub struct HugePages;

// SAFETY: every call goes to `System` unchanged, so its guarantees carry over; `advise`
// only changes how the kernel backs pages of a block that was just allocated, never their
// contents, addresses or bounds.
unsafe impl GlobalAlloc for HugePages {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        let block = unsafe { System.alloc(layout) };
        advise(block, layout.size());
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        let block = unsafe { System.alloc_zeroed(layout) };
        advise(block, layout.size());
        block
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator, with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as in `dealloc`; the caller upholds `realloc`'s contract on `new_size`.
        let block = unsafe { System.realloc(ptr, layout, new_size) };
        advise(block, new_size);
        block
    }
}

/// Asks the kernel to back the pages of the block `[block, block + size)` with huge
/// pages, when the block is large. The range is widened to whole pages, so it covers the
/// block's own mapping (whose first page also holds glibc's chunk header) without
/// splitting it, which would keep glibc from growing the block in place with `mremap`.
fn advise(block: *mut u8, size: usize) {
    if block.is_null() || size < LARGE {
        return;
    }
    // SAFETY: sysconf has no preconditions.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    let start = block.addr() / page * page;
    let end = (block.addr() + size).next_multiple_of(page);
    // SAFETY: the range consists of pages that hold part of the block just allocated, all
    // mapped; MADV_HUGEPAGE changes neither their contents nor the mapping's bounds. A
    // failure (no transparent huge pages here) only means the advice is not taken.
    unsafe {
        libc::madvise(
            block.with_addr(start).cast::<libc::c_void>(),
            end - start,
            libc::MADV_HUGEPAGE,
        );
    }
}

#[cfg(test)]
mod tests {
    /// The `VmFlags` of the mapping that holds `addr`, from `/proc/self/smaps`.
    fn vm_flags(addr: usize) -> Option<String> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let mut inside = false;
        for line in smaps.lines() {
            let range = line.split_whitespace().next().unwrap_or("");
            if let Some((lo, hi)) = range.split_once('-')
                && let (Ok(lo), Ok(hi)) =
                    (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
            {
                inside = (lo..hi).contains(&addr);
            } else if inside && let Some(flags) = line.strip_prefix("VmFlags:") {
                return Some(flags.trim().to_owned());
            }
        }
        None
    }

    /// Whether the kernel can back memory with transparent huge pages on request.
    fn thp_available() -> bool {
        std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
            .is_ok_and(|policy| !policy.contains("[never]"))
    }

    #[test]
    fn large_blocks_ask_for_huge_pages_and_keep_their_bytes() {
        let mut v = vec![7u8; 8 << 20];
        if thp_available() {
            let flags = vm_flags(v.as_ptr().addr()).expect("the block's mapping in smaps");
            assert!(flags.split(' ').any(|f| f == "hg"), "VmFlags: {flags}");
        }
        v.resize(24 << 20, 9);
        assert!(v[..8 << 20].iter().all(|&b| b == 7));
        assert!(v[8 << 20..].iter().all(|&b| b == 9));
        v.truncate(1 << 20);
        v.shrink_to_fit();
        assert!(v.iter().all(|&b| b == 7));
        let small = vec![1u32; 1000];
        assert_eq!(small.iter().sum::<u32>(), 1000);
    }
}
