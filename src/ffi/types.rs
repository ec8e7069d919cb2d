//! C types that cross the boundary.
//!
//! Each `Lcws*` struct is a layout-identical mirror of the LiteCore type named in its docs, so a
//! host (or a language binding) can pass LiteCore's own functions and values straight through.
//! The layouts are pinned by the `const` assertions at the bottom of this file.

use std::ffi::{c_int, c_void};

/// LiteCore's opaque socket object (`C4Socket`). litecore-ws never looks inside it; it only hands
/// the pointer back to the host table.
pub struct C4Socket {
    _opaque: (),
}

/// A borrowed byte range; mirrors `C4Slice` / `FLSlice` (`{ const void* buf; size_t size; }`).
/// `buf` may be NULL only when `size` is 0.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct LcwsSlice {
    pub buf: *const c_void,
    pub size: usize,
}

/// A byte range carrying one reference to a LiteCore-allocated buffer; mirrors `C4SliceResult` /
/// `FLSliceResult`. The holder releases it with the host table's `release_buffer`
/// (LiteCore's `_FLBuf_Release`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct LcwsSliceResult {
    pub buf: *const c_void,
    pub size: usize,
}

/// A peer address; mirrors `C4Address`. Scheme is `ws` or `wss`; IPv6 hosts come without
/// brackets; `path` is the whole request path (e.g. `/db/_blipsync`, plus any query).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct LcwsAddress {
    pub scheme: LcwsSlice,
    pub hostname: LcwsSlice,
    pub port: u16,
    pub path: LcwsSlice,
}

/// An error; mirrors `C4Error` of LiteCore 3.0 and later (`C4ErrorDomain` is a `uint8_t` there,
/// followed by three padding bytes that must be zero). `internal_info` is 0 unless the error was
/// made by LiteCore's `c4error_make`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LcwsError {
    pub domain: u8,
    pub padding: [u8; 3],
    pub code: c_int,
    pub internal_info: u32,
}

impl LcwsError {
    /// The "no error" value passed to `closed` after a clean close.
    pub const NONE: LcwsError = LcwsError {
        domain: 0,
        padding: [0; 3],
        code: 0,
        internal_info: 0,
    };
}

impl LcwsSlice {
    /// Borrows a Rust byte slice for the duration of a host call.
    pub fn from_bytes(bytes: &[u8]) -> LcwsSlice {
        LcwsSlice {
            buf: bytes.as_ptr().cast(),
            size: bytes.len(),
        }
    }
}

// Layout pins: the C header's types must match LiteCore's on every 64-bit and 32-bit target.
const PTR: usize = std::mem::size_of::<*const c_void>();
const _: () = {
    use std::mem::{align_of, offset_of, size_of};
    assert!(size_of::<LcwsSlice>() == 2 * PTR);
    assert!(offset_of!(LcwsSlice, buf) == 0);
    assert!(offset_of!(LcwsSlice, size) == PTR);
    assert!(size_of::<LcwsSliceResult>() == 2 * PTR);
    assert!(offset_of!(LcwsSliceResult, size) == PTR);
    // C4Address: scheme @0, hostname @16, port @32, path @40, size 56 on 64-bit targets.
    assert!(offset_of!(LcwsAddress, scheme) == 0);
    assert!(offset_of!(LcwsAddress, hostname) == 2 * PTR);
    assert!(offset_of!(LcwsAddress, port) == 4 * PTR);
    assert!(offset_of!(LcwsAddress, path) == 5 * PTR);
    assert!(size_of::<LcwsAddress>() == 7 * PTR);
    // C4Error: 12 bytes, align 4; domain @0, code @4, internal_info @8.
    assert!(size_of::<LcwsError>() == 12);
    assert!(align_of::<LcwsError>() == 4);
    assert!(offset_of!(LcwsError, domain) == 0);
    assert!(offset_of!(LcwsError, code) == 4);
    assert!(offset_of!(LcwsError, internal_info) == 8);
};
