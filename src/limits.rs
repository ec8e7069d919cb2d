//! The limits an open socket keeps, in both roles. The C header publishes them as they are
//! written here (cbindgen reads this file next to `src/ffi`); the session uses the same values.

/// Largest message accepted from the peer; a bigger one closes the socket with 1009.
pub const LCWS_MAX_MESSAGE_SIZE: u64 = 16 * 1024 * 1024;
/// Reading pauses while this many received bytes are not yet acknowledged by
/// `completedReceive` (LiteCore's built-in transport uses the same 64 KiB).
pub const LCWS_READ_PAUSE_THRESHOLD: u64 = 64 * 1024;
