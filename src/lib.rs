//! litecore-ws: a WebSocket transport (ws and wss) for Couchbase Lite Core's replicator, both
//! ways, with a C ABI. See README.md for the C API; this crate's Rust modules are its
//! implementation, private to it.
//!
//! Layout, one folder per role:
//! - [`ffi`]: the C boundary (the only `unsafe` code, apart from [`interfaces`]'s OS call):
//!   the exported `lcws_*` functions, the host table through which LiteCore is called, C types;
//! - [`socket`]: one task per socket and the registry of live ones; [`socket::session`], the
//!   open WebSocket shared by both roles (messages, flow control, heartbeat, close);
//! - [`client`]: the connect path of outgoing sockets (tcp, proxy, TLS, upgrade request,
//!   authentication, cookies, redirects, the answer);
//! - [`tls`]: rustls configurations and certificate policies;
//! - beside them: [`address`] and [`litecore`] (what a socket is and what it says to LiteCore),
//!   [`stream`] (the byte stream under a WebSocket), [`http`] (HTTP heads), [`options`] parsed
//!   from [`fleece`], [`error`] mapping to C4Errors, the [`runtime`], [`log`].

// `unsafe` is refused everywhere but the C boundary (`ffi`) and two OS calls std does not wrap
// (`interfaces`, `signals`), each block with a SAFETY line.
#![deny(unsafe_code)]
// The crate's documentation is for its maintainers (the C header documents the API): it is built
// with --document-private-items, and the overview above links to private modules.
#![allow(rustdoc::private_intra_doc_links)]

pub(crate) mod address;
pub(crate) mod client;
pub(crate) mod error;
pub mod ffi;
pub(crate) mod fleece;
pub(crate) mod handle_set;
pub(crate) mod http;
pub(crate) mod interfaces;
pub mod limits;
pub(crate) mod litecore;
pub(crate) mod log;
pub(crate) mod options;
pub(crate) mod runtime;
pub(crate) mod server;
pub(crate) mod signals;
pub(crate) mod socket;
pub(crate) mod stream;
pub(crate) mod tls;

/// Not an API: the pieces the fuzz targets, the benchmarks, the integration tests and the
/// `litecore-ws` command (the `cli/` crate) use from inside the crate. Anything here may change in
/// any release.
#[doc(hidden)]
pub mod internals {
    pub use crate::address::Address;
    pub use crate::client::{cookies, proxy, redirect, request, response};
    pub use crate::client::{run as run_client, CONNECT_TIMEOUT};
    pub use crate::error::{Domain, NetworkCode, TransportError};
    pub use crate::fleece::{decode, encode_headers, Encoder, FleeceError, Value};
    pub use crate::http::{is_token, protocol_error, read_head, MAX_HEADERS, MAX_HEAD_BYTES};
    pub use crate::litecore::{Command, LiteCoreSocket, Progress};
    pub use crate::log::set_threshold as set_log_threshold;
    pub use crate::options::{Auth, AuthType, Options, Proxy, ProxyType, Secret};
    /// The listener's side of the upgrade (the `upgrade_request` fuzz target).
    pub use crate::server::{request as server_request, response as server_response};
    pub use crate::stream::Stream;
    pub use crate::tls::certinfo::{is_public_key, CertInfo};
    pub use crate::tls::client::{config as tls_client_config, handshake as tls_handshake};
    pub use crate::tls::parse_certificates;
    pub use crate::tls::roots::DefaultRoots;
}
