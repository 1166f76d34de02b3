//! Memory for many short VM executions in one process.
//!
//! Every sample allocates and frees step traces and VM state. Two things make that cheap:
//!
//! - [`keep_freed_memory`]: blocks below 1 MiB come from glibc's heap, which is never trimmed,
//!   so freed memory is reused instead of mapped afresh for every sample (the page faults cost
//!   about a tenth of a run; resident memory stays near its peak).
//! - [`Allocator`]: blocks of 1 MiB and more are mappings of their own. zksync_vm2 allocates a
//!   zeroed 2 MiB stack for every call frame and touches a few pages of it; a fresh mapping is
//!   zero already, where glibc serves the block from its heap's free top and clears it whole
//!   (a fifth of a frame-level run went to that clearing).

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks at least this large are mapped on their own.
const MAPPED: usize = 1 << 20;
/// Mappings are aligned to pages; larger alignments go to [`System`].
const PAGE: usize = 4096;

/// The global allocator of the command line and the fuzz targets: [`System`], except that
/// blocks of 1 MiB and more are mapped and unmapped directly (on Unix).
pub struct Allocator;

fn is_mapped(size: usize, align: usize) -> bool {
    cfg!(unix) && size >= MAPPED && align <= PAGE
}

// SAFETY: every block is either System's or a mapping of exactly its size; which one is decided
// by its layout alone, which the caller passes back unchanged to `dealloc` and `realloc`.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if is_mapped(layout.size(), layout.align()) {
            map(layout.size())
        } else {
            System.alloc(layout)
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if is_mapped(layout.size(), layout.align()) {
            map(layout.size())
        } else {
            System.alloc_zeroed(layout)
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if is_mapped(layout.size(), layout.align()) {
            unmap(ptr, layout.size());
        } else {
            System.dealloc(ptr, layout);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let align = layout.align();
        match (is_mapped(layout.size(), align), is_mapped(new_size, align)) {
            (false, false) => System.realloc(ptr, layout, new_size),
            #[cfg(target_os = "linux")]
            (true, true) => remap(ptr, layout.size(), new_size),
            _ => {
                let new_layout = Layout::from_size_align_unchecked(new_size, align);
                let new = self.alloc(new_layout);
                if !new.is_null() {
                    std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
                new
            }
        }
    }
}

#[cfg(unix)]
unsafe fn map(size: usize) -> *mut u8 {
    let ptr = libc::mmap(
        std::ptr::null_mut(),
        size,
        libc::PROT_READ | libc::PROT_WRITE,
        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
        -1,
        0,
    );
    if ptr == libc::MAP_FAILED {
        std::ptr::null_mut()
    } else {
        ptr.cast()
    }
}

#[cfg(unix)]
unsafe fn unmap(ptr: *mut u8, size: usize) {
    libc::munmap(ptr.cast(), size);
}

#[cfg(target_os = "linux")]
unsafe fn remap(ptr: *mut u8, size: usize, new_size: usize) -> *mut u8 {
    let new = libc::mremap(ptr.cast(), size, new_size, libc::MREMAP_MAYMOVE);
    if new == libc::MAP_FAILED {
        std::ptr::null_mut()
    } else {
        new.cast()
    }
}

#[cfg(not(unix))]
unsafe fn map(_: usize) -> *mut u8 {
    unreachable!("nothing is mapped off Unix")
}

#[cfg(not(unix))]
unsafe fn unmap(_: *mut u8, _: usize) {
    unreachable!("nothing is mapped off Unix")
}

/// Keeps blocks below 1 MiB in glibc's heap once freed (see the module documentation). Call it
/// first thing in `main`, before any other thread exists.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator, and runs before any other thread exists. A
    // value it refuses leaves the default in place, which is correct, only slower.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MAPPED as i32);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_blocks_are_zeroed_grow_and_shrink_keeping_their_bytes() {
        let allocator = Allocator;
        for (size, new_sizes) in [
            (3 * MAPPED, [5 * MAPPED, MAPPED / 2]),
            (MAPPED / 2, [2 * MAPPED, MAPPED]),
            (100, [MAPPED + 1, 50]),
        ] {
            let layout = Layout::from_size_align(size, 8).unwrap();
            // SAFETY: each block is used within its size and freed with its layout.
            unsafe {
                let ptr = allocator.alloc_zeroed(layout);
                assert!(!ptr.is_null());
                let bytes = std::slice::from_raw_parts_mut(ptr, size);
                assert!(bytes.iter().all(|&b| b == 0), "{size}: zeroed");
                bytes.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
                let (mut ptr, mut size, mut written) = (ptr, size, size);
                for new_size in new_sizes {
                    let layout = Layout::from_size_align(size, 8).unwrap();
                    ptr = allocator.realloc(ptr, layout, new_size);
                    assert!(!ptr.is_null());
                    written = written.min(new_size);
                    let kept = std::slice::from_raw_parts(ptr, written);
                    assert!(
                        kept.iter().enumerate().all(|(i, &b)| b == i as u8),
                        "{size} -> {new_size}: bytes kept"
                    );
                    size = new_size;
                }
                allocator.dealloc(ptr, Layout::from_size_align(size, 8).unwrap());
            }
        }
    }
}
