//! A small, self-contained implementation of the [Fleece] binary format, the
//! encoding Couchbase Lite Core uses for replicator options and for the HTTP
//! response headers a WebSocket transport hands back to it.
//!
//! Only what the transport needs is implemented:
//!
//! * [`decode`]: a **strict** reader for untrusted input. It checks every
//!   pointer, count and length against the buffer (the same checks as
//!   `FLValue_FromData(data, kFLUntrusted)`), and additionally rejects what a
//!   plain encoder never produces and what this crate cannot interpret:
//!   extern pointers, shared (integer) keys, the "magic parent" key, non-string
//!   keys, unsorted or duplicate keys, malformed varints and nesting deeper than
//!   [`reader::MAX_DEPTH`]. It never panics, never recurses deeper than `MAX_DEPTH`,
//!   and never allocates more than a small multiple of the input size.
//! * [`Encoder`]: a writer whose output is byte-for-byte what the real
//!   `FLEncoder_New()` + `FLEncoder_Write*` + `FLEncoder_Finish()` produce
//!   (string de-duplication on, no shared keys, trailer on).
//! * [`encode_headers`]: the header dict shape LiteCore expects from
//!   `c4socket_gotHTTPResponse`.
//!
//! The byte layout is Fleece's own (Couchbase's `fleece` repository documents it); the
//! comments state the rules each piece relies on. The test vectors in `tests/data/fleece/` were
//! produced by the real library.
//!
//! [Fleece]: https://github.com/couchbase/fleece

mod reader;
mod writer;

pub use reader::{decode, FleeceError, Value};
pub use writer::{encode_headers, Encoder};
