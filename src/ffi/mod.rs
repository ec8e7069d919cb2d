//! The C ABI. All `unsafe` code of the crate lives in this folder; everything it calls is safe
//! Rust with typed errors.
//!
//! Ownership rules, in one place:
//! - `open`: `address` and `options` are borrowed for the call and copied.
//! - `write`: litecore-ws takes the one reference in `data` and releases it exactly once.
//! - `requestClose`: `message` is borrowed for the call and copied.
//! - Slices litecore-ws passes to the host are valid only during that call.
//! - The socket is retained in `open` and released after the one `closed` has returned.

#![allow(unsafe_code)]

pub mod exports;
mod handles;
pub mod host;
pub mod listener;
pub mod types;
