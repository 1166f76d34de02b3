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
//! - Each thread keeps a few freed mappings of up to 4 MiB for its next block of the same size
//!   ([`Kept`]). A fresh stack's pages are first read (mapped to the shared zero page) and then
//!   written: every such write is a copy-on-write fault that interrupts the other threads to
//!   flush their TLBs, and unmapping the stack interrupts them again. A kept mapping's pages stay
//!   mapped and writable; reused for a zeroed block, its resident pages are cleared by writing
//!   and the rest dropped.

use std::{
    alloc::{GlobalAlloc, Layout, System},
    cell::Cell,
};

/// Blocks at least this large are mapped on their own.
const MAPPED: usize = 1 << 20;
/// Mappings are aligned to pages; larger alignments go to [`System`].
const PAGE: usize = 4096;
/// The largest freed mapping a thread keeps, and how many it keeps.
const KEPT_SIZE: usize = 4 << 20;
const KEPT_MAPPINGS: usize = 8;

/// The global allocator of the command line and the fuzz targets: [`System`], except that
/// blocks of 1 MiB and more are mappings of their own (on Unix), kept by their thread once freed
/// if small enough.
pub struct Allocator;

fn is_mapped(size: usize, align: usize) -> bool {
    cfg!(unix) && size >= MAPPED && align <= PAGE
}

// SAFETY: every block is either System's or a mapping of exactly its size; which one is decided
// by its layout alone, which the caller passes back unchanged to `dealloc` and `realloc`.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if is_mapped(layout.size(), layout.align()) {
            Kept::take(layout.size()).unwrap_or_else(|| map(layout.size()))
        } else {
            System.alloc(layout)
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if is_mapped(layout.size(), layout.align()) {
            match Kept::take(layout.size()) {
                Some(ptr) => zero(ptr, layout.size()),
                None => map(layout.size()),
            }
        } else {
            System.alloc_zeroed(layout)
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if is_mapped(layout.size(), layout.align()) {
            if !Kept::keep(ptr, layout.size()) {
                unmap(ptr, layout.size());
            }
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

/// A thread's freed mappings (pointer and size in pages; a null pointer is a free slot), unmapped
/// when the thread exits.
struct Kept(Cell<[(*mut u8, usize); KEPT_MAPPINGS]>);

thread_local! {
    static KEPT: Kept = const { Kept(Cell::new([(std::ptr::null_mut(), 0); KEPT_MAPPINGS])) };
}

impl Kept {
    /// A kept mapping of `size` bytes, if the thread has one (its contents are what they were).
    fn take(size: usize) -> Option<*mut u8> {
        let pages = size.div_ceil(PAGE);
        (KEPT.try_with(|kept| {
            let mut mappings = kept.0.get();
            let slot =
                (mappings.iter_mut()).find(|(ptr, kept)| !ptr.is_null() && *kept == pages)?;
            let ptr = std::mem::replace(&mut slot.0, std::ptr::null_mut());
            kept.0.set(mappings);
            Some(ptr)
        }))
        .ok()
        .flatten()
    }

    /// Keeps the mapping `ptr` of `size` bytes if it is small enough, in place of the one kept
    /// longest if every slot is taken (a size freed once and never asked for again must not
    /// take a slot for good).
    fn keep(ptr: *mut u8, size: usize) -> bool {
        size <= KEPT_SIZE
            && (KEPT.try_with(|kept| {
                let mut mappings = kept.0.get();
                let free = mappings.iter().position(|(ptr, _)| ptr.is_null());
                let slot = free.unwrap_or_else(|| {
                    let (oldest, pages) = mappings[0];
                    // SAFETY: a kept mapping is no block of anyone's.
                    unsafe { unmap(oldest, pages * PAGE) };
                    mappings.rotate_left(1);
                    KEPT_MAPPINGS - 1
                });
                mappings[slot] = (ptr, size.div_ceil(PAGE));
                kept.0.set(mappings);
                true
            }))
            .unwrap_or(false)
    }
}

impl Drop for Kept {
    fn drop(&mut self) {
        for (ptr, pages) in self.0.get() {
            if !ptr.is_null() {
                // SAFETY: a kept mapping is no block of anyone's.
                unsafe { unmap(ptr, pages * PAGE) };
            }
        }
    }
}

/// Zeroes the kept mapping `ptr` of `size` bytes: its resident pages by writing zeros (they stay
/// mapped and writable), the others by dropping them (a page swapped out is no resident page).
unsafe fn zero(ptr: *mut u8, size: usize) -> *mut u8 {
    let mut resident = [0u8; KEPT_SIZE / PAGE];
    if !residency(ptr, size, &mut resident) {
        ptr.write_bytes(0, size);
        return ptr;
    }
    let mut start = 0;
    for run in resident[..size.div_ceil(PAGE)].chunk_by(|a, b| a & 1 == b & 1) {
        let end = start + run.len();
        let (block, length) = (ptr.add(start * PAGE), (end * PAGE).min(size) - start * PAGE);
        if run[0] & 1 == 1 || !drop_pages(block, length) {
            block.write_bytes(0, length);
        }
        start = end;
    }
    ptr
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

/// Drops the pages of the range (from a page start): they read as zeros after; false if they
/// could not be dropped.
#[cfg(unix)]
unsafe fn drop_pages(ptr: *mut u8, size: usize) -> bool {
    libc::madvise(ptr.cast(), size, libc::MADV_DONTNEED) == 0
}

/// Marks in `resident` (one byte per page, bit 0) which pages of the range (from a page start)
/// are in memory; false if that is unknown.
#[cfg(unix)]
unsafe fn residency(ptr: *mut u8, size: usize, resident: &mut [u8]) -> bool {
    size.div_ceil(PAGE) <= resident.len()
        && libc::mincore(ptr.cast(), size, resident.as_mut_ptr().cast()) == 0
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

#[cfg(not(unix))]
unsafe fn drop_pages(_: *mut u8, _: usize) -> bool {
    unreachable!("nothing is mapped off Unix")
}

#[cfg(not(unix))]
unsafe fn residency(_: *mut u8, _: usize, _: &mut [u8]) -> bool {
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

    #[test]
    fn a_freed_mapping_is_reused_by_its_thread_and_zeroed() {
        let allocator = Allocator;
        // vm2's stack: 2 MiB of slots and its pointer flags.
        let size = (2 << 20) + 8200;
        let layout = Layout::from_size_align(size, 32).unwrap();
        // SAFETY: each block is used within its size and freed with its layout.
        unsafe {
            let first = allocator.alloc_zeroed(layout);
            first.write_bytes(0xa5, size);
            allocator.dealloc(first, layout);
            let again = allocator.alloc_zeroed(layout);
            assert_eq!(again, first, "kept and reused");
            let bytes = std::slice::from_raw_parts(again, size);
            assert!(bytes.iter().all(|&b| b == 0), "zeroed");
            // Only some pages resident: the first, the last, one in between.
            assert!(drop_pages(again, size));
            for offset in [0, size / 2, size - 1] {
                again.add(offset).write(1);
            }
            allocator.dealloc(again, layout);
            let again = allocator.alloc_zeroed(layout);
            let bytes = std::slice::from_raw_parts(again, size);
            assert!(bytes.iter().all(|&b| b == 0), "zeroed");
            allocator.dealloc(again, layout);
            // Another size is mapped afresh; too large a block is not kept.
            let other = Layout::from_size_align(MAPPED, 8).unwrap();
            let fresh = allocator.alloc(other);
            assert_ne!(fresh, again);
            allocator.dealloc(fresh, other);
            let large = Layout::from_size_align(KEPT_SIZE + PAGE, 8).unwrap();
            let block = allocator.alloc(large);
            allocator.dealloc(block, large);
            assert_eq!(Kept::take(large.size()), None);
            assert_eq!(Kept::take(layout.size()), Some(again));
            unmap(again, size);
        }
    }
}
