/**
 * @file litecore_ws_c4.h
 * litecore-ws glue for C and C++ apps that include LiteCore's own headers.
 *
 * `litecore_ws.h` has no dependency on LiteCore's headers: it speaks in layout-identical mirrors
 * of LiteCore's types (`LcwsSlice`, `LcwsAddress`, `LcwsError`, `LcwsSliceResult`) and takes the
 * LiteCore functions it calls through a table (`LcwsHostTable`). This header closes the gap for
 * an app compiled against LiteCore's headers: it builds the `C4SocketFactory` and the host table
 * from LiteCore's functions, converting between the two sets of types field by field, and
 * registers everything in one call. It is header-only (everything is `static inline`); there is
 * no extra source file to build.
 *
 * ## Usage
 *
 * @code
 *   #include "litecore_ws_c4.h"   // includes <stdint.h>, <stdbool.h>, "c4.h", "litecore_ws.h"
 *
 *   int main(void) {
 *       // Once, early, from the main thread, before the first replicator is created:
 *       if (!lcws_register_with_litecore()) { ... the log says why ... }
 *       ...
 *       C4Replicator* repl = c4repl_new(db, address, remoteDbName, params, &err);
 *   }
 * @endcode
 *
 * Or, to let litecore-ws read and store the database's HTTP cookies (LiteCore does not do that for
 * a custom transport), use a per-replicator factory whose `context` is the database:
 *
 * @code
 *   C4SocketFactory factory = lcws_c4_factory(db);
 *   C4ReplicatorParameters params;  memset(&params, 0, sizeof params);
 *   ...
 *   params.socketFactory = &factory;
 *   C4Replicator* repl = c4repl_new(db, address, remoteDbName, params, &err);
 * @endcode
 *
 * Both can be combined: the global factory then serves replicators without their own.
 *
 * ## Finding LiteCore's headers
 *
 * By default this header does `#include "c4.h"` (put LiteCore's `C/include` and `vendor/fleece/API`
 * directories, or an installed LiteCore's include directory, on the include path). Override:
 * - `-DLCWS_LITECORE_INCLUDE='<c4.h>'` (or any header that declares the socket, database, error
 *   and log API) to include something else, or
 * - include LiteCore's headers yourself first and define `LCWS_LITECORE_INCLUDED`.
 * `<stdint.h>`, `<stdbool.h>` and `<stddef.h>` are included first: LiteCore's `c4.h` does not
 * compile as C without them.
 *
 * ## Configuration macros (define before including this header)
 *
 * | macro | default | effect |
 * |---|---|---|
 * | `LCWS_C4_HAS_PEER_CERTIFICATE` | undefined: look up at run time | `1`: use `c4socket_gotPeerCertificate` directly (LiteCore 3.3+ and a library that exports it); `0`: never call it. Undefined: resolved with `dlsym` when the host table is built (POSIX; link with `-ldl` on glibc before 2.34); on Windows undefined means `0`. |
 * | `LCWS_C4_SET_COOKIE_ARITY` | undefined: detect at compile time | `6`/`5`: the form of `c4db_setCookie` with/without `acceptParentDomain`; `0`: do not store cookies. Undefined: detected from the type of `&c4db_setCookie` (`_Generic` in C11, overloads in C++). |
 * | `LCWS_C4_COOKIES` | `1` | `0`: neither read nor store cookies (`get_cookies` and `set_cookie` stay NULL). |
 * | `LCWS_C4_ROUTE_LOG` | `1` | `1`: litecore-ws's log lines go to LiteCore's log (`c4log`) in `LCWS_C4_LOG_DOMAIN`; `0`: they go to stderr. |
 * | `LCWS_C4_LOG_DOMAIN` | `kC4WebSocketLog` | any `C4LogDomain` expression, e.g. `c4log_getDomain("lcws", true)`. |
 * | `LCWS_LITECORE_28` | undefined | `1`: LiteCore 2.8 headers (public `C4Socket.nativeHandle` instead of `c4Socket_set/getNativeHandle`; needs 2.8.9+ for `c4socket_retain`; if its `c4db_setCookie` has neither 5 nor 6 parameters, also define `LCWS_C4_SET_COOKIE_ARITY=0`). Only checked against mock headers. |
 *
 * ## Threading
 *
 * - `lcws_register_with_litecore()`: call once, early, from the app's main thread, before any
 *   replicator exists. It is idempotent within the process (see its docs), but not meant to race
 *   with itself.
 * - `lcws_c4_factory()`: any thread, any number of times (it installs the host table on first use).
 * - The thunks below are called by LiteCore and litecore-ws on their own threads; they only
 *   convert types and forward.
 *
 * ## One copy per translation unit
 *
 * Every function here is `static inline`, so each translation unit that includes this header gets
 * its own copies, at different addresses. `lcws_set_host` compares tables by address and refuses a
 * *different* second table with `LCWS_STATUS_ALREADY_SET`; the install functions below treat that
 * status as success, because any table built by this header is equivalent (same LiteCore
 * functions). The "registered already" flag of `lcws_register_with_litecore()` is shared by all
 * translation units of one linked image on GCC, Clang and MSVC (a weak / selectany variable), so
 * calling it from two files does not register twice. Two *shared libraries* that each include this
 * header and are built with hidden visibility have one flag each: call it from one of them only.
 */

#ifndef LITECORE_WS_C4_H
#define LITECORE_WS_C4_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#ifndef LCWS_LITECORE_INCLUDED
#ifdef LCWS_LITECORE_INCLUDE
#include LCWS_LITECORE_INCLUDE
#else
#include "c4.h"
#endif
#endif

#include "litecore_ws.h"

/* ------------------------------------------------------------------------------------------ */
/* Configuration defaults                                                                      */
/* ------------------------------------------------------------------------------------------ */

#ifndef LCWS_C4_ROUTE_LOG
#define LCWS_C4_ROUTE_LOG 1
#endif

#ifndef LCWS_C4_LOG_DOMAIN
#define LCWS_C4_LOG_DOMAIN kC4WebSocketLog
#endif

#ifndef LCWS_C4_COOKIES
#define LCWS_C4_COOKIES 1
#endif

#if !defined(LCWS_C4_HAS_PEER_CERTIFICATE) && defined(_WIN32)
/* No run-time lookup on Windows: define LCWS_C4_HAS_PEER_CERTIFICATE to 1 when LiteCore.dll
   exports c4socket_gotPeerCertificate (LiteCore 3.3+). */
#define LCWS_C4_HAS_PEER_CERTIFICATE 0
#endif

#if !defined(LCWS_C4_HAS_PEER_CERTIFICATE)
#define LCWS_C4_IMPL_PEER_CERT_DLSYM 1
#include <dlfcn.h>
#else
#define LCWS_C4_IMPL_PEER_CERT_DLSYM 0
#endif

#if LCWS_C4_COOKIES && !defined(LCWS_C4_SET_COOKIE_ARITY) && !defined(__cplusplus) && \
        (!defined(__STDC_VERSION__) || __STDC_VERSION__ < 201112L)
#error "litecore_ws_c4.h: detecting c4db_setCookie's form needs C11 _Generic; define LCWS_C4_SET_COOKIE_ARITY to 6 (with acceptParentDomain), 5 (without) or 0"
#endif

/* Thunks are noexcept in C++ (like LiteCore's C4API), which C++17 makes part of the type; a
   noexcept function converts implicitly to the plain function pointers of the structs. */
#ifdef __cplusplus
#define LCWS_C4_NOEXCEPT noexcept
#else
#define LCWS_C4_NOEXCEPT
#endif

/* Casts and the null pointer, spelled so that C++ users' -Wold-style-cast and
   -Wzero-as-null-pointer-constant stay quiet. */
#ifdef __cplusplus
#define LCWS_C4_CAST(T, e) static_cast<T>(e)
#define LCWS_C4_NULL nullptr
#else
#define LCWS_C4_CAST(T, e) ((T)(e))
#define LCWS_C4_NULL NULL
#endif

/* ------------------------------------------------------------------------------------------ */
/* Type conversions (field-wise: the mirrors have the same layout, but different C types)      */
/* ------------------------------------------------------------------------------------------ */

/** `LcwsSlice` → `C4Slice` (also `C4String`). */
static inline C4Slice lcws_c4_slice_to_c4(LcwsSlice s) LCWS_C4_NOEXCEPT {
    C4Slice r;
    r.buf = s.buf;
    r.size = s.size;
    return r;
}

/** `C4Slice` (or `C4String`) → `LcwsSlice`. */
static inline LcwsSlice lcws_c4_slice_from_c4(C4Slice s) LCWS_C4_NOEXCEPT {
    LcwsSlice r;
    r.buf = s.buf;
    r.size = s.size;
    return r;
}

/** `LcwsSliceResult` → `C4SliceResult`; the buffer reference moves with it. */
static inline C4SliceResult lcws_c4_slice_result_to_c4(LcwsSliceResult s) LCWS_C4_NOEXCEPT {
    C4SliceResult r;
    r.buf = s.buf;
    r.size = s.size;
    return r;
}

/** `C4SliceResult` (or `C4StringResult`) → `LcwsSliceResult`; the buffer reference moves with it. */
static inline LcwsSliceResult lcws_c4_slice_result_from_c4(C4SliceResult s) LCWS_C4_NOEXCEPT {
    LcwsSliceResult r;
    r.buf = s.buf;
    r.size = s.size;
    return r;
}

/** `LcwsAddress` → `C4Address` (the slices still point into `a`'s buffers). */
static inline C4Address lcws_c4_address_to_c4(const LcwsAddress* a) LCWS_C4_NOEXCEPT {
    C4Address r;
    memset(&r, 0, sizeof r);
    r.scheme = lcws_c4_slice_to_c4(a->scheme);
    r.hostname = lcws_c4_slice_to_c4(a->hostname);
    r.port = a->port;
    r.path = lcws_c4_slice_to_c4(a->path);
    return r;
}

/** `C4Address` → `LcwsAddress` (the slices still point into `a`'s buffers). */
static inline LcwsAddress lcws_c4_address_from_c4(const C4Address* a) LCWS_C4_NOEXCEPT {
    LcwsAddress r;
    memset(&r, 0, sizeof r);
    r.scheme = lcws_c4_slice_from_c4(a->scheme);
    r.hostname = lcws_c4_slice_from_c4(a->hostname);
    r.port = a->port;
    r.path = lcws_c4_slice_from_c4(a->path);
    return r;
}

/** `LcwsError` → `C4Error`; padding bytes are zeroed. */
static inline C4Error lcws_c4_error_to_c4(LcwsError e) LCWS_C4_NOEXCEPT {
    C4Error r;
#ifdef LCWS_LITECORE_28
    memset(&r, 0, sizeof r);
    r.domain = LCWS_C4_CAST(C4ErrorDomain, e.domain);
    r.code = e.code;
    r.internal_info = e.internal_info;
#else
    /* Same layout (3.0+). Copy the bytes, explicit zero padding included: assigning the fields
       of a memset struct does not survive optimization (padding is unspecified after that). */
    e.padding[0] = e.padding[1] = e.padding[2] = 0;
    memcpy(&r, &e, sizeof r);
#endif
    return r;
}

/** `C4Error` → `LcwsError`; padding bytes are zeroed. */
static inline LcwsError lcws_c4_error_from_c4(C4Error e) LCWS_C4_NOEXCEPT {
    LcwsError r;
    memset(&r, 0, sizeof r);
    r.domain = LCWS_C4_CAST(uint8_t, e.domain);
    r.code = e.code;
    r.internal_info = e.internal_info;
    return r;
}

/* ------------------------------------------------------------------------------------------ */
/* C4SocketFactory callbacks → litecore-ws                                                     */
/* ------------------------------------------------------------------------------------------ */

/** `C4SocketFactory.open` → `lcws_socket_open`. */
static inline void lcws_c4_open(C4Socket* socket, const C4Address* addr, C4Slice options,
                                void* context) LCWS_C4_NOEXCEPT {
    LcwsAddress a = lcws_c4_address_from_c4(addr);
    lcws_socket_open(socket, &a, lcws_c4_slice_from_c4(options), context);
}

/** `C4SocketFactory.write` → `lcws_socket_write` (litecore-ws releases `data`). */
static inline void lcws_c4_write(C4Socket* socket, C4SliceResult data) LCWS_C4_NOEXCEPT {
    lcws_socket_write(socket, lcws_c4_slice_result_from_c4(data));
}

/** `C4SocketFactory.completedReceive` → `lcws_socket_completed_receive`. (The types match, so
    the factory stores `lcws_socket_completed_receive` itself; this thunk exists for symmetry.) */
static inline void lcws_c4_completed_receive(C4Socket* socket, size_t byte_count) LCWS_C4_NOEXCEPT {
    lcws_socket_completed_receive(socket, byte_count);
}

/** `C4SocketFactory.requestClose` → `lcws_socket_request_close`. */
static inline void lcws_c4_request_close(C4Socket* socket, int status, C4String message) LCWS_C4_NOEXCEPT {
    lcws_socket_request_close(socket, status, lcws_c4_slice_from_c4(message));
}

/* ------------------------------------------------------------------------------------------ */
/* Host table entries: litecore-ws → LiteCore                                                  */
/* ------------------------------------------------------------------------------------------ */

/** Host entry `got_http_response` → `c4socket_gotHTTPResponse`. */
static inline void lcws_c4_host_got_http_response(C4Socket* socket, int status,
                                                  LcwsSlice headers) LCWS_C4_NOEXCEPT {
    c4socket_gotHTTPResponse(socket, status, lcws_c4_slice_to_c4(headers));
}

/** Host entry `closed` → `c4socket_closed`. */
static inline void lcws_c4_host_closed(C4Socket* socket, LcwsError error) LCWS_C4_NOEXCEPT {
    c4socket_closed(socket, lcws_c4_error_to_c4(error));
}

/** Host entry `close_requested` → `c4socket_closeRequested`. */
static inline void lcws_c4_host_close_requested(C4Socket* socket, int status,
                                                LcwsSlice message) LCWS_C4_NOEXCEPT {
    c4socket_closeRequested(socket, status, lcws_c4_slice_to_c4(message));
}

/** Host entry `received` → `c4socket_received`. */
static inline void lcws_c4_host_received(C4Socket* socket, LcwsSlice data) LCWS_C4_NOEXCEPT {
    c4socket_received(socket, lcws_c4_slice_to_c4(data));
}

/** Host entry `error_make` → `c4error_make` (records the message in LiteCore). */
static inline LcwsError lcws_c4_host_error_make(uint8_t domain, int code, LcwsSlice message) LCWS_C4_NOEXCEPT {
    C4Error e = c4error_make(LCWS_C4_CAST(C4ErrorDomain, domain), code, lcws_c4_slice_to_c4(message));
    return lcws_c4_error_from_c4(e);
}

#ifdef LCWS_LITECORE_28
/** Host entry `set_native_handle` for LiteCore 2.8 (public `C4Socket.nativeHandle`). */
static inline void lcws_c4_host_set_native_handle(C4Socket* socket, void* handle) LCWS_C4_NOEXCEPT {
    socket->nativeHandle = handle;
}

/** Host entry `get_native_handle` for LiteCore 2.8 (public `C4Socket.nativeHandle`). */
static inline void* lcws_c4_host_get_native_handle(C4Socket* socket) LCWS_C4_NOEXCEPT {
    return socket->nativeHandle;
}
#endif

#if defined(LCWS_C4_HAS_PEER_CERTIFICATE) && LCWS_C4_HAS_PEER_CERTIFICATE == 1
/** Host entry `got_peer_certificate` → `c4socket_gotPeerCertificate` (LiteCore 3.3+), used
    when `LCWS_C4_HAS_PEER_CERTIFICATE` is 1. */
static inline bool lcws_c4_host_got_peer_certificate(C4Socket* socket, LcwsSlice cert_der,
                                                     LcwsSlice hostname) LCWS_C4_NOEXCEPT {
    return c4socket_gotPeerCertificate(socket, lcws_c4_slice_to_c4(cert_der), lcws_c4_slice_to_c4(hostname));
}
#endif

#if LCWS_C4_ROUTE_LOG
/** Host entry `log` → `c4log(LCWS_C4_LOG_DOMAIN, level, "%s", line)`. Levels use the same
    numbering as `C4LogLevel` (0 debug … 4 error). `context` is unused. */
static inline void lcws_c4_host_log(void* context, int level, const char* line) LCWS_C4_NOEXCEPT {
    (void)context;
    if (level < 0) level = 0; /* kC4LogDebug */
    if (level > 4) level = 4; /* kC4LogError */
    c4log(LCWS_C4_LOG_DOMAIN, LCWS_C4_CAST(C4LogLevel, level), "%s", line);
}
#endif

#if LCWS_C4_COOKIES
/** Host entry `get_cookies` → `c4db_getCookies((C4Database*)db, address, outError)`.
    `db` is the factory's context (see `lcws_c4_factory`); NULL gives no cookies. */
static inline LcwsSliceResult lcws_c4_host_get_cookies(void* db, LcwsAddress address,
                                                       LcwsError* out_error) LCWS_C4_NOEXCEPT {
    C4Error err;
    C4Address a;
    C4StringResult cookies;
    memset(&err, 0, sizeof err);
    if (!db) {
        LcwsSliceResult none;
        none.buf = LCWS_C4_NULL;
        none.size = 0;
        if (out_error) *out_error = lcws_c4_error_from_c4(err);
        return none;
    }
    a = lcws_c4_address_to_c4(&address);
    cookies = c4db_getCookies(LCWS_C4_CAST(C4Database*, db), a, &err);
    if (out_error) *out_error = lcws_c4_error_from_c4(err);
    return lcws_c4_slice_result_from_c4(cookies);
}

#if !defined(LCWS_C4_SET_COOKIE_ARITY) || LCWS_C4_SET_COOKIE_ARITY == 5 || LCWS_C4_SET_COOKIE_ARITY == 6
/** `c4db_setCookie` without `acceptParentDomain` (LiteCore before 3.1-ish). */
typedef bool (*lcws_c4_set_cookie5_fn)(C4Database*, C4String, C4String, C4String, C4Error*);
/** `c4db_setCookie` with `acceptParentDomain` (later LiteCore). */
typedef bool (*lcws_c4_set_cookie6_fn)(C4Database*, C4String, C4String, C4String, bool, C4Error*);

/* Call helpers, one per form. Only the one matching the declared `c4db_setCookie` is ever used:
   it receives `&c4db_setCookie` with exactly its own type (in C, the cast in the selected
   `_Generic` branch is an identity; the other branch is type-checked but never evaluated). */

/** Calls the 5-parameter form; `accept_parent_domain` cannot be passed on and is ignored
    (that LiteCore's cookie store has no such option). */
static inline bool lcws_c4_call_set_cookie(lcws_c4_set_cookie5_fn fn, C4Database* db, C4String header,
                                           C4String host, C4String path, bool accept_parent_domain,
                                           C4Error* err) LCWS_C4_NOEXCEPT {
    (void)accept_parent_domain;
    return fn(db, header, host, path, err);
}

#ifdef __cplusplus
/** Calls the 6-parameter form (C++ overload). */
static inline bool lcws_c4_call_set_cookie(lcws_c4_set_cookie6_fn fn, C4Database* db, C4String header,
                                           C4String host, C4String path, bool accept_parent_domain,
                                           C4Error* err) LCWS_C4_NOEXCEPT {
    return fn(db, header, host, path, accept_parent_domain, err);
}
#else
/** Calls the 6-parameter form (C has no overloads: a second name). */
static inline bool lcws_c4_call_set_cookie6(lcws_c4_set_cookie6_fn fn, C4Database* db, C4String header,
                                            C4String host, C4String path, bool accept_parent_domain,
                                            C4Error* err) {
    return fn(db, header, host, path, accept_parent_domain, err);
}
#endif

/** Host entry `set_cookie` → `c4db_setCookie((C4Database*)db, ...)`, in whichever form the
    LiteCore headers declare (chosen at compile time, or by `LCWS_C4_SET_COOKIE_ARITY`). With the
    5-parameter form `accept_parent_domain` cannot be honoured and is ignored (that LiteCore
    applies its own fixed domain rule; the `acceptParentDomainCookies` option has no effect). `db` is the factory's context; NULL stores nothing and returns false. */
static inline bool lcws_c4_host_set_cookie(void* db, LcwsSlice set_cookie_header, LcwsSlice from_host,
                                           LcwsSlice from_path, bool accept_parent_domain,
                                           LcwsError* out_error) LCWS_C4_NOEXCEPT {
    C4Error err;
    C4Database* d = LCWS_C4_CAST(C4Database*, db);
    C4String h = lcws_c4_slice_to_c4(set_cookie_header);
    C4String host = lcws_c4_slice_to_c4(from_host);
    C4String path = lcws_c4_slice_to_c4(from_path);
    bool ok;
    memset(&err, 0, sizeof err);
    if (!d) {
        if (out_error) *out_error = lcws_c4_error_from_c4(err);
        return false;
    }
#if defined(LCWS_C4_SET_COOKIE_ARITY) && LCWS_C4_SET_COOKIE_ARITY == 5
    ok = c4db_setCookie(d, h, host, path, &err);
    (void)accept_parent_domain;
#elif defined(LCWS_C4_SET_COOKIE_ARITY) && LCWS_C4_SET_COOKIE_ARITY == 6
    ok = c4db_setCookie(d, h, host, path, accept_parent_domain, &err);
#elif defined(__cplusplus)
    ok = lcws_c4_call_set_cookie(&c4db_setCookie, d, h, host, path, accept_parent_domain, &err);
#else
    /* Each association casts &c4db_setCookie to its own type (through the generic function
       pointer type void(*)(void), which keeps -Wcast-function-type quiet), so both branches
       type-check; only the branch matching the declared type is evaluated, where the cast is
       an identity. */
    ok = _Generic(&c4db_setCookie,
            lcws_c4_set_cookie5_fn: lcws_c4_call_set_cookie(
                    (lcws_c4_set_cookie5_fn)(void (*)(void))&c4db_setCookie, d, h, host, path,
                    accept_parent_domain, &err),
            lcws_c4_set_cookie6_fn: lcws_c4_call_set_cookie6(
                    (lcws_c4_set_cookie6_fn)(void (*)(void))&c4db_setCookie, d, h, host, path,
                    accept_parent_domain, &err));
#endif
    if (out_error) *out_error = lcws_c4_error_from_c4(err);
    return ok;
}
#endif /* set_cookie available */
#endif /* LCWS_C4_COOKIES */

/* ------------------------------------------------------------------------------------------ */
/* The host table                                                                              */
/* ------------------------------------------------------------------------------------------ */

/**
 * Builds litecore-ws's host table from LiteCore's functions (`struct_size = sizeof`). Entries
 * whose C types already equal LiteCore's point at LiteCore's functions; the others at the thunks
 * above. Optional entries: `got_peer_certificate` per `LCWS_C4_HAS_PEER_CERTIFICATE` (at run time
 * via `dlsym` by default), `error_make` always, `get_cookies`/`set_cookie` per `LCWS_C4_COOKIES`
 * and `LCWS_C4_SET_COOKIE_ARITY`, `log` per `LCWS_C4_ROUTE_LOG`. The result is the same on every
 * call (within one translation unit).
 */
static inline LcwsHostTable lcws_c4_host_table(void) LCWS_C4_NOEXCEPT {
    LcwsHostTable t;
    memset(&t, 0, sizeof t);
    t.struct_size = sizeof t;
    t.got_http_response = &lcws_c4_host_got_http_response;
    t.opened = &c4socket_opened;
    t.closed = &lcws_c4_host_closed;
    t.close_requested = &lcws_c4_host_close_requested;
    t.completed_write = &c4socket_completedWrite;
    t.received = &lcws_c4_host_received;
#ifdef LCWS_LITECORE_28
    t.set_native_handle = &lcws_c4_host_set_native_handle;
    t.get_native_handle = &lcws_c4_host_get_native_handle;
#else
    t.set_native_handle = &c4Socket_setNativeHandle;
    t.get_native_handle = &c4Socket_getNativeHandle;
#endif
    t.retain = &c4socket_retain;
    t.release = &c4socket_release;
    t.release_buffer = &_FLBuf_Release;
#if LCWS_C4_IMPL_PEER_CERT_DLSYM
    {
        /* Optional in LiteCore (3.3+, and missing from Apple's export list): look it up in the
           global symbol scope rather than reference it, so the app links and loads against any
           LiteCore. Its ABI equals the table entry's (LcwsSlice mirrors C4Slice), so the address
           is stored as is; memcpy converts the object pointer without -pedantic complaints. */
#ifdef RTLD_DEFAULT
        void* sym = dlsym(RTLD_DEFAULT, "c4socket_gotPeerCertificate");
#else
        /* glibc hides RTLD_DEFAULT without _GNU_SOURCE; dlopen(NULL) is POSIX's global scope. */
        void* self = dlopen(LCWS_C4_NULL, RTLD_LAZY);
        void* sym = self ? dlsym(self, "c4socket_gotPeerCertificate") : LCWS_C4_NULL;
        if (self) dlclose(self);
#endif
        if (sym && sizeof sym == sizeof t.got_peer_certificate)
            memcpy(&t.got_peer_certificate, &sym, sizeof sym);
    }
#elif defined(LCWS_C4_HAS_PEER_CERTIFICATE) && LCWS_C4_HAS_PEER_CERTIFICATE == 1
    t.got_peer_certificate = &lcws_c4_host_got_peer_certificate;
#endif
    t.error_make = &lcws_c4_host_error_make;
#if LCWS_C4_COOKIES
    t.get_cookies = &lcws_c4_host_get_cookies;
#if !defined(LCWS_C4_SET_COOKIE_ARITY) || LCWS_C4_SET_COOKIE_ARITY == 5 || LCWS_C4_SET_COOKIE_ARITY == 6
    t.set_cookie = &lcws_c4_host_set_cookie;
#endif
#endif
#if LCWS_C4_ROUTE_LOG
    t.log = &lcws_c4_host_log;
    t.log_context = LCWS_C4_NULL;
#endif
    return t;
}

/**
 * Installs the host table of `lcws_c4_host_table()` with `lcws_set_host`.
 *
 * @return true when it was installed (`LCWS_STATUS_OK`, also for a repeat call with the same
 *         table) or when a host table was already installed (`LCWS_STATUS_ALREADY_SET`: typically
 *         this header's table from another translation unit, which is equivalent; a table
 *         installed by other code stays in force). false on any other status (the log says why).
 * Thread-safe (it is `lcws_set_host`'s job).
 */
static inline bool lcws_c4_install_host(void) LCWS_C4_NOEXCEPT {
    LcwsHostTable t = lcws_c4_host_table();
    LcwsStatus s = lcws_set_host(&t);
    return s == LCWS_STATUS_OK || s == LCWS_STATUS_ALREADY_SET;
}

/* ------------------------------------------------------------------------------------------ */
/* The socket factory                                                                          */
/* ------------------------------------------------------------------------------------------ */

/**
 * Returns a `C4SocketFactory` for litecore-ws with the given `context` (passed to `open`: NULL,
 * or the `C4Database*` for cookies). Built here, against the app's own LiteCore headers, by
 * zero-filling the struct and assigning named fields, so it is right for every LiteCore layout:
 * - `framing = kC4NoFraming`: litecore-ws does all WebSocket work;
 * - `open`, `write`, `requestClose`: the thunks above; `completedReceive`, `dispose`: litecore-ws's
 *   functions (same types);
 * - `close` stays NULL: LiteCore never calls it with `kC4NoFraming` and its registration check
 *   requires it to be NULL;
 * - `attached` (LiteCore 3.4/4.1+) is never named, so this compiles with headers that lack it, and
 *   stays NULL: LiteCore calls it only for sockets made with `c4socket_fromNative` around an
 *   existing native connection, which litecore-ws never does (it only makes outgoing connections).
 *
 * Does not install the host table; `lcws_register_with_litecore` and `lcws_c4_factory` do.
 */
static inline C4SocketFactory lcws_c4_socket_factory(void* context) LCWS_C4_NOEXCEPT {
    C4SocketFactory f;
    memset(&f, 0, sizeof f);
    f.framing = kC4NoFraming;
    f.context = context;
    f.open = &lcws_c4_open;
    f.write = &lcws_c4_write;
    f.completedReceive = &lcws_socket_completed_receive;
    f.requestClose = &lcws_c4_request_close;
    f.dispose = &lcws_socket_dispose;
    return f;
}

/**
 * Makes litecore-ws LiteCore's WebSocket transport for the whole process: installs the host table
 * (`lcws_c4_install_host`), then calls `c4socket_registerFactory(lcws_c4_socket_factory(NULL))`.
 *
 * LiteCore allows exactly one `c4socket_registerFactory` per process and terminates the process
 * on a second one, so this registers at most once: later calls (from any translation unit or
 * library of the process; the claim is an atomic flag inside litecore-ws) return true without
 * registering again. Registering a
 * different factory yourself as well is not possible.
 *
 * Call it once, early, from the app's main thread, before creating any replicator. Replicators
 * whose `C4ReplicatorParameters.socketFactory` is set use that factory instead (see
 * `lcws_c4_factory`); the global factory has no database, so it neither sends stored cookies nor
 * stores `Set-Cookie` answers (the `cookies` replicator option is still sent).
 *
 * @return true when litecore-ws is registered (now or by an earlier call); false when the host
 *         table was refused (nothing was registered; the log says why).
 */
static inline bool lcws_register_with_litecore(void) LCWS_C4_NOEXCEPT {
    if (!lcws_c4_install_host()) return false;
    /* LiteCore terminates the process on a second registration: claim the one call first
       (an atomic flag inside litecore-ws, shared by every caller in the process). */
    if (!lcws_claim_global_registration()) return true;
    c4socket_registerFactory(lcws_c4_socket_factory(LCWS_C4_NULL));
    return true;
}

/**
 * Returns a per-replicator factory for `C4ReplicatorParameters.socketFactory` whose `context` is
 * `db`, so litecore-ws sends the database's stored cookies (`c4db_getCookies`) and stores the
 * server's `Set-Cookie` answers (`c4db_setCookie`), as LiteCore's built-in transport does. Also
 * installs the host table (`lcws_c4_install_host`); if that fails (the log says why) litecore-ws
 * cannot reach LiteCore, so `open` only logs an error and LiteCore's own 15 s connect timeout
 * ends the replication.
 *
 * `db` must stay open while the replicator runs (LiteCore's replicator holds it anyway).
 * LiteCore 3.0 and later copy the factory struct in `c4repl_new`, so `params.socketFactory` may
 * point to a local variable that goes out of scope after `c4repl_new` returns; keep it alive
 * while the replicator exists if you target LiteCore 2.8.
 *
 * It does not register anything globally and may be called any number of times, from any thread.
 */
static inline C4SocketFactory lcws_c4_factory(C4Database* db) LCWS_C4_NOEXCEPT {
    (void)lcws_c4_install_host();
    return lcws_c4_socket_factory(LCWS_C4_CAST(void*, db));
}

#endif /* LITECORE_WS_C4_H */
