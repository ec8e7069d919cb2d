//! litecore-ws: a WebSocket transport (ws and wss) for Couchbase Lite Core's replicator, with a
//! C ABI. See README.md for the C API; this crate's Rust modules are its implementation.
//!
//! Layout: [`ffi`] is the C boundary (the only `unsafe` code); [`connection`] runs one actor per
//! socket on the [`runtime`] over a stream from [`proxy`] (direct or tunnelled, [`tcp`] below it);
//! [`options`] parses LiteCore's options from [`fleece`]; [`error`] maps failures to C4Errors;
//! [`log`] routes log lines; [`check`] is the `litecore-ws check` diagnostics command (the
//! `litecore-ws` binary), built from the same pieces.

// `unsafe` is refused everywhere but the C boundary (`ffi` allows it, each block with a SAFETY
// line).
#![deny(unsafe_code)]

pub mod check;
pub mod connection;
pub mod error;
pub mod ffi;
pub mod fleece;
pub mod handle_set;
pub mod handshake;
pub mod log;
pub mod options;
pub mod proxy;
pub mod runtime;
pub mod session;
pub mod tcp;
pub mod tls;
