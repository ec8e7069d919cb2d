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
#define LCWS_C4_PTR_CAST(T, e) reinterpret_cast<T>(e)
#define LCWS_C4_NULL nullptr
#else
#define LCWS_C4_CAST(T, e) ((T)(e))
#define LCWS_C4_PTR_CAST(T, e) ((T)(e))
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
 *   stays NULL: LiteCore calls it only for sockets made with `c4socket_fromNative` (the listener
 *   glue's incoming connections), which need nothing there (they start at `open`), and NULL is
 *   allowed.
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

/* ------------------------------------------------------------------------------------------ */
/* The listener: peers replicate into this app (Community Edition has no c4listener_*)          */
/* ------------------------------------------------------------------------------------------ */

/*
 * Compiled when the LiteCore headers have collections (`kC4DefaultCollectionSpec`, LiteCore 3.1
 * and later); define LCWS_C4_NO_LISTENER to leave it out. The names mirror LiteCore Enterprise's
 * `c4listener_*` with an `lcws_` prefix. Differences, because Community Edition has no
 * certificate objects: the TLS identity and roots are data (PEM or DER) rather than `C4Cert*` /
 * `C4KeyPair*`, and `httpAuthCallback` receives the database, user and password of a Basic
 * `Authorization` header rather than the header itself.
 */
#if defined(kC4DefaultCollectionSpec) && !defined(LCWS_C4_NO_LISTENER)
#define LCWS_C4_HAS_LISTENER 1
#include <stdlib.h>

/** A listener started by `lcws_c4listener_start` (opaque to apps). */
typedef struct LcwsC4Listener LcwsC4Listener;

/** May a client with this certificate (DER) connect? Called during the TLS handshake, on a
    litecore-ws thread; keep it quick. */
typedef bool (*LcwsC4CertAuthCallback)(LcwsC4Listener* listener, C4Slice clientCertData,
                                       void* context);

/** May `user` with `password` replicate with the database shared as `database`? Called on a
    litecore-ws thread before any socket reaches LiteCore. */
typedef bool (*LcwsC4HTTPAuthCallback)(LcwsC4Listener* listener, C4String database, C4String user,
                                       C4Slice password, void* context);

/** A listener's TLS settings, named as in LiteCore Enterprise's `C4TLSConfig`, as data. */
typedef struct LcwsC4TLSConfig {
    /** The certificate chain (leaf first), PEM or DER. Empty together with `key`: an anonymous
        self-signed identity is generated at start (see `lcws_c4listener_getCertificate`). */
    C4Slice certificate;
    /** Its private key (RSA, ECDSA or Ed25519), PEM or DER. */
    C4Slice key;
    /** Clients must present a certificate: chaining to `rootClientCerts` when given, accepted
        by `certAuthCallback` when set (one of the two is required). */
    bool requireClientCerts;
    C4Slice rootClientCerts;
    LcwsC4CertAuthCallback certAuthCallback;
    void* tlsCallbackContext;
} LcwsC4TLSConfig;

/** A listener's configuration; zero-fill it and set what you need (zero means the default). */
typedef struct LcwsC4ListenerConfig {
    uint16_t port;              /**< 0: any free port (`lcws_c4listener_getPort`) */
    C4String networkInterface;  /**< interface name or address; empty: every interface */
    bool disableTLS;            /**< plain ws; otherwise wss */
    LcwsC4TLSConfig tlsConfig;  /**< with TLS; all zero: a generated identity, no client certs */
    LcwsC4HTTPAuthCallback httpAuthCallback; /**< with it, clients must send Basic credentials */
    void* callbackContext;      /**< passed to `httpAuthCallback` */
    bool allowPush;             /**< clients may push into the shared databases */
    bool allowPull;             /**< clients may pull from them */
    bool enableDeltaSync;       /**< delta sync with clients */
    C4String serverName;        /**< the `Server` header; default `litecore-ws/<version>` */
    unsigned maxConnections;    /**< default 1024; more are answered 503 */
    unsigned handshakeTimeoutMs;/**< TLS + upgrade request; default 15000 */
    unsigned heartbeatSeconds;  /**< the listener's Ping interval; default 300 */
} LcwsC4ListenerConfig;

struct LcwsC4Listener {
    LcwsListener* listener;
    C4SocketFactory factory;
    LcwsC4HTTPAuthCallback httpAuthCallback;
    void* callbackContext;
    LcwsC4CertAuthCallback certAuthCallback;
    void* tlsCallbackContext;
};

/* c4repl_newWithSocket has a `logPrefix` since LiteCore 3.2: call helpers, one per form, the
   right one chosen at compile time like c4db_setCookie's above. */
typedef C4Replicator* (*lcws_c4_new_with_socket4_fn)(C4Database*, C4Socket*, C4ReplicatorParameters,
                                                     C4Error*);
typedef C4Replicator* (*lcws_c4_new_with_socket5_fn)(C4Database*, C4Socket*, C4ReplicatorParameters,
                                                     C4String, C4Error*);

/** Calls the form without `logPrefix` (LiteCore 3.1). */
static inline C4Replicator* lcws_c4_call_new_with_socket(lcws_c4_new_with_socket4_fn fn, C4Database* db,
                                                         C4Socket* s, C4ReplicatorParameters p,
                                                         C4String prefix, C4Error* err) LCWS_C4_NOEXCEPT {
    (void)prefix;
    return fn(db, s, p, err);
}
#ifdef __cplusplus
/** Calls the form with `logPrefix` (LiteCore 3.2+; C++ overload). */
static inline C4Replicator* lcws_c4_call_new_with_socket(lcws_c4_new_with_socket5_fn fn, C4Database* db,
                                                         C4Socket* s, C4ReplicatorParameters p,
                                                         C4String prefix, C4Error* err) LCWS_C4_NOEXCEPT {
    return fn(db, s, p, prefix, err);
}
#define LCWS_C4_NEW_WITH_SOCKET(db, s, p, prefix, err) \
    lcws_c4_call_new_with_socket(&c4repl_newWithSocket, db, s, p, prefix, err)
#else
/** Calls the form with `logPrefix` (LiteCore 3.2+). */
static inline C4Replicator* lcws_c4_call_new_with_socket5(lcws_c4_new_with_socket5_fn fn, C4Database* db,
                                                          C4Socket* s, C4ReplicatorParameters p,
                                                          C4String prefix, C4Error* err) {
    return fn(db, s, p, prefix, err);
}
#define LCWS_C4_NEW_WITH_SOCKET(db, s, p, prefix, err)                                              \
    _Generic(&c4repl_newWithSocket,                                                                 \
        lcws_c4_new_with_socket4_fn: lcws_c4_call_new_with_socket(                                  \
            (lcws_c4_new_with_socket4_fn)(void (*)(void))&c4repl_newWithSocket, db, s, p, prefix, err), \
        lcws_c4_new_with_socket5_fn: lcws_c4_call_new_with_socket5(                                 \
            (lcws_c4_new_with_socket5_fn)(void (*)(void))&c4repl_newWithSocket, db, s, p, prefix, err))
#endif

/** A `C4Slice` over a NUL-terminated string (LiteCore's own `FLStr` is a plain C99 `inline`
    function without an exported definition, so the glue does not call it). */
static inline C4Slice lcws_c4_str(const char* s) LCWS_C4_NOEXCEPT {
    C4Slice r;
    r.buf = s;
    r.size = s ? strlen(s) : 0;
    return r;
}

/** The passive replicator's status callback: its activity, reported to litecore-ws, which frees
    the replicator (`lcws_c4_listener_release`) from one of its threads once it stopped. */
static inline void lcws_c4_listener_status(C4Replicator* repl, C4ReplicatorStatus status,
                                           void* context) LCWS_C4_NOEXCEPT {
    int activity = LCWS_ACTIVITY_IDLE;
    (void)repl;
    if (status.level == kC4Stopped)
        activity = LCWS_ACTIVITY_STOPPED;
    else if (status.level == kC4Busy)
        activity = LCWS_ACTIVITY_BUSY;
    lcws_connection_report(LCWS_C4_CAST(LcwsConnection*, context), activity);
}

/** `LcwsListenerConfig.accept`: the connection becomes a C4Socket (`c4socket_fromNative`, held
    by a reference of ours while the replicator is made) served by a passive replicator on the
    shared collections (or the default one), which starts at once. */
static inline void* lcws_c4_listener_accept(void* context, const LcwsIncoming* in) LCWS_C4_NOEXCEPT {
    LcwsC4Listener* l = LCWS_C4_CAST(LcwsC4Listener*, context);
    C4Address peer = lcws_c4_address_to_c4(&in->peer);
    C4Socket* socket = c4socket_fromNative(l->factory, in->native_handle, &peer);
    C4ReplicatorParameters params;
    C4ReplicationCollection* collections;
    size_t count = in->collection_count ? in->collection_count : 1;
    size_t i;
    C4Error err;
    C4Replicator* repl;
    if (!socket) return LCWS_C4_NULL;
    c4socket_retain(socket);
    collections = LCWS_C4_CAST(C4ReplicationCollection*, calloc(count, sizeof *collections));
    if (!collections) {
        c4socket_release(socket);
        return LCWS_C4_NULL;
    }
    for (i = 0; i < count; i++) {
        if (in->collection_count) {
            collections[i].collection.scope = lcws_c4_slice_to_c4(in->collections[i].scope);
            collections[i].collection.name = lcws_c4_slice_to_c4(in->collections[i].name);
        } else {
            collections[i].collection = kC4DefaultCollectionSpec;
        }
        /* A client that pushes meets our passive pull, and the other way round. */
        collections[i].push = in->allow_pull ? kC4Passive : kC4Disabled;
        collections[i].pull = in->allow_push ? kC4Passive : kC4Disabled;
    }
    memset(&params, 0, sizeof params);
    params.optionsDictFleece = lcws_c4_slice_to_c4(in->replicator_options);
    params.onStatusChanged = &lcws_c4_listener_status;
    params.callbackContext = in->connection;
    params.collections = collections;
    params.collectionCount = count;
    memset(&err, 0, sizeof err);
    repl = LCWS_C4_NEW_WITH_SOCKET(LCWS_C4_CAST(C4Database*, in->database), socket, params,
                                   lcws_c4_str("lcws-listener"), &err);
    free(collections);
    if (repl) c4repl_start(repl, false);
    /* The replicator holds its own reference; ours goes (a socket nobody took is disposed,
       which frees litecore-ws's handle). */
    c4socket_release(socket);
    return repl;
}

/** `LcwsListenerConfig.release`: frees a stopped replicator (on a litecore-ws thread). */
static inline void lcws_c4_listener_release(void* context, void* repl) LCWS_C4_NOEXCEPT {
    (void)context;
    c4repl_free(LCWS_C4_CAST(C4Replicator*, repl));
}

/** `LcwsListenerConfig.check_password` → the app's `httpAuthCallback`. */
static inline bool lcws_c4_listener_check_password(void* context, LcwsSlice database, LcwsSlice user,
                                                   LcwsSlice password) LCWS_C4_NOEXCEPT {
    LcwsC4Listener* l = LCWS_C4_CAST(LcwsC4Listener*, context);
    return l->httpAuthCallback(l, lcws_c4_slice_to_c4(database), lcws_c4_slice_to_c4(user),
                               lcws_c4_slice_to_c4(password), l->callbackContext);
}

/** `LcwsListenerConfig.check_certificate` → the app's `certAuthCallback`. */
static inline bool lcws_c4_listener_check_certificate(void* context, LcwsSlice der) LCWS_C4_NOEXCEPT {
    LcwsC4Listener* l = LCWS_C4_CAST(LcwsC4Listener*, context);
    return l->certAuthCallback(l, lcws_c4_slice_to_c4(der), l->tlsCallbackContext);
}

/** `LcwsListenerConfig.release_database`: the share's reference to the database goes. */
static inline void lcws_c4_listener_release_database(void* context, void* db) LCWS_C4_NOEXCEPT {
    (void)context;
    c4base_release(db);
}

/** Fills `*out` from `e` when `out` is not NULL. */
static inline void lcws_c4_set_error(C4Error* out, LcwsError e) LCWS_C4_NOEXCEPT {
    if (out) *out = lcws_c4_error_to_c4(e);
}

/** A LiteCore-domain error with a message, for the glue's own checks. */
static inline void lcws_c4_fail(C4Error* out, int code, const char* message) LCWS_C4_NOEXCEPT {
    if (out) *out = c4error_make(LiteCoreDomain, code, lcws_c4_str(message));
}

/**
 * Starts a listener (Enterprise: `c4listener_start`). Installs the host table like
 * `lcws_c4_factory` does. Returns NULL with `*outError` set on failure: `{LiteCore, 9}` for a bad
 * configuration, `{Network, 27}` for an unknown interface, a POSIX/Network error for a port that
 * cannot be bound. Share databases next (`lcws_c4listener_shareDB`); clients reach a database
 * at `ws[s]://<host>:<port>/<name>` (`lcws_c4listener_getURLs`).
 *
 * Each accepted connection becomes a `C4Socket` (`c4socket_fromNative`) served by a passive
 * replicator on the database; replicators are freed on litecore-ws's threads when they stop.
 * Call from an application thread.
 */
static inline LcwsC4Listener* lcws_c4listener_start(const LcwsC4ListenerConfig* config,
                                                    C4Error* outError) LCWS_C4_NOEXCEPT {
    LcwsListenerConfig c;
    LcwsError err;
    LcwsC4Listener* l;
    if (!config) {
        lcws_c4_fail(outError, kC4ErrorInvalidParameter, "lcws_c4listener_start: config is NULL");
        return LCWS_C4_NULL;
    }
    if (!lcws_c4_install_host()) {
        lcws_c4_fail(outError, kC4ErrorUnexpectedError, "lcws_c4listener_start: the host table was refused");
        return LCWS_C4_NULL;
    }
    l = LCWS_C4_CAST(LcwsC4Listener*, calloc(1, sizeof *l));
    if (!l) {
        lcws_c4_fail(outError, kC4ErrorMemoryError, "lcws_c4listener_start: out of memory");
        return LCWS_C4_NULL;
    }
    l->factory = lcws_c4_socket_factory(LCWS_C4_NULL);
    l->httpAuthCallback = config->httpAuthCallback;
    l->callbackContext = config->callbackContext;
    l->certAuthCallback = config->tlsConfig.certAuthCallback;
    l->tlsCallbackContext = config->tlsConfig.tlsCallbackContext;
    memset(&c, 0, sizeof c);
    memset(&err, 0, sizeof err);
    c.struct_size = sizeof c;
    c.port = config->port;
    c.network_interface = lcws_c4_slice_from_c4(config->networkInterface);
    c.disable_tls = config->disableTLS;
    c.certificate = lcws_c4_slice_from_c4(config->tlsConfig.certificate);
    c.private_key = lcws_c4_slice_from_c4(config->tlsConfig.key);
    c.require_client_certs = config->tlsConfig.requireClientCerts;
    c.root_client_certs = lcws_c4_slice_from_c4(config->tlsConfig.rootClientCerts);
    c.allow_push = config->allowPush;
    c.allow_pull = config->allowPull;
    c.enable_delta_sync = config->enableDeltaSync;
    c.max_connections = config->maxConnections;
    c.handshake_timeout_ms = config->handshakeTimeoutMs;
    c.heartbeat_seconds = config->heartbeatSeconds;
    c.server_name = lcws_c4_slice_from_c4(config->serverName);
    c.context = l;
    c.accept = &lcws_c4_listener_accept;
    c.release = &lcws_c4_listener_release;
    if (config->httpAuthCallback) c.check_password = &lcws_c4_listener_check_password;
    if (config->tlsConfig.certAuthCallback) c.check_certificate = &lcws_c4_listener_check_certificate;
    c.release_database = &lcws_c4_listener_release_database;
    if (lcws_listener_start(&c, &l->listener, &err) != LCWS_STATUS_OK) {
        lcws_c4_set_error(outError, err);
        free(l);
        return LCWS_C4_NULL;
    }
    return l;
}

/**
 * Stops the listener (every socket closed with 4001, LiteCore's transient close code, so clients
 * retry as after a network failure, and waited for; every replicator freed,
 * every shared database released) and frees it (Enterprise: `c4listener_free`). NULL is fine.
 * Call from an application thread, before closing the shared databases.
 */
static inline void lcws_c4listener_free(LcwsC4Listener* listener) LCWS_C4_NOEXCEPT {
    if (!listener) return;
    (void)lcws_listener_free(listener->listener);
    free(listener);
}

/**
 * Shares `db` under `name` (Enterprise: `c4listener_shareDB`): clients replicate with it at
 * `/<name>` (LiteCore appends `/_blipsync`), its default collection unless collections are
 * shared with `lcws_c4listener_shareCollection`. The listener holds a reference to `db` until it
 * is unshared. The replication protocol follows the database: `BLIP_3+CBMobile_4` with version
 * vectors, `BLIP_3+CBMobile_3` otherwise.
 */
static inline bool lcws_c4listener_shareDB(LcwsC4Listener* listener, C4String name, C4Database* db,
                                           C4Error* outError) LCWS_C4_NOEXCEPT {
    /* kC4DB_VersionVectors (0x08), spelled as a number: older headers call it experimental. */
    const uint32_t version_vectors = 0x08;
    const char* protocol;
    if (!listener || !db) {
        lcws_c4_fail(outError, kC4ErrorInvalidParameter, "lcws_c4listener_shareDB: NULL listener or database");
        return false;
    }
    protocol = (c4db_getConfig2(db)->flags & version_vectors) ? "BLIP_3+CBMobile_4" : "BLIP_3+CBMobile_3";
    c4base_retain(db);
    if (lcws_listener_share(listener->listener, lcws_c4_slice_from_c4(name), db,
                            lcws_c4_slice_from_c4(lcws_c4_str(protocol))) != LCWS_STATUS_OK) {
        c4base_release(db);
        lcws_c4_fail(outError, kC4ErrorInvalidParameter, "lcws_c4listener_shareDB: refused (the log says why)");
        return false;
    }
    return true;
}

/** Stops sharing `db` (Enterprise: `c4listener_unshareDB`): its clients' sockets close (4001)
    and are waited for. False with `{LiteCore, NotFound}` when it was not shared. */
static inline bool lcws_c4listener_unshareDB(LcwsC4Listener* listener, C4Database* db,
                                             C4Error* outError) LCWS_C4_NOEXCEPT {
    if (listener && db && lcws_listener_unshare(listener->listener, db) > 0) return true;
    lcws_c4_fail(outError, kC4ErrorNotFound, "lcws_c4listener_unshareDB: the database is not shared");
    return false;
}

/** Adds a collection of a shared database to what clients may replicate (Enterprise:
    `c4listener_shareCollection`); share its database under `name` first. */
static inline bool lcws_c4listener_shareCollection(LcwsC4Listener* listener, C4String name,
                                                   C4Collection* collection, C4Error* outError) LCWS_C4_NOEXCEPT {
    C4CollectionSpec spec;
    if (!listener || !collection) {
        lcws_c4_fail(outError, kC4ErrorInvalidParameter, "lcws_c4listener_shareCollection: NULL argument");
        return false;
    }
    spec = c4coll_getSpec(collection);
    if (lcws_listener_share_collection(listener->listener, lcws_c4_slice_from_c4(name),
                                       c4coll_getDatabase(collection), lcws_c4_slice_from_c4(spec.scope),
                                       lcws_c4_slice_from_c4(spec.name)) != LCWS_STATUS_OK) {
        lcws_c4_fail(outError, kC4ErrorInvalidParameter,
                     "lcws_c4listener_shareCollection: share the collection's database under this name first");
        return false;
    }
    return true;
}

/** The port the listener is bound to (Enterprise: `c4listener_getPort`). */
static inline uint16_t lcws_c4listener_getPort(const LcwsC4Listener* listener) LCWS_C4_NOEXCEPT {
    return listener ? lcws_listener_port(listener->listener) : 0;
}

/** The listener's TLS certificate (DER; the generated one unless the config gave one), for
    peers to pin with the replicator option `pinnedCert`. Empty without TLS; valid until
    `lcws_c4listener_free`. */
static inline C4Slice lcws_c4listener_getCertificate(const LcwsC4Listener* listener) LCWS_C4_NOEXCEPT {
    C4Slice none;
    none.buf = LCWS_C4_NULL;
    none.size = 0;
    return listener ? lcws_c4_slice_to_c4(lcws_listener_certificate(listener->listener)) : none;
}

/** Connections served and how many of them are busy replicating (Enterprise:
    `c4listener_getConnectionStatus`). */
static inline void lcws_c4listener_getConnectionStatus(const LcwsC4Listener* listener,
                                                       unsigned* connectionCount,
                                                       unsigned* activeConnectionCount) LCWS_C4_NOEXCEPT {
    size_t connections = 0, active = 0;
    if (listener) (void)lcws_listener_status(listener->listener, &connections, &active);
    if (connectionCount) *connectionCount = LCWS_C4_CAST(unsigned, connections);
    if (activeConnectionCount) *activeConnectionCount = LCWS_C4_CAST(unsigned, active);
}

/** Appends one URL to the Fleece array `context`. */
static inline void lcws_c4_append_url(void* context, LcwsSlice url) LCWS_C4_NOEXCEPT {
    FLSlot_SetString(FLMutableArray_Append(LCWS_C4_CAST(FLMutableArray, context)), lcws_c4_slice_to_c4(url));
}

/** The URLs the listener can be reached at, one per interface address
    (`ws[s]://address:port/<name>` for `db`'s shared name; without a path for NULL), as a new
    Fleece array the caller releases with `FLValue_Release` (Enterprise: `c4listener_getURLs`).
    NULL with `{LiteCore, NotFound}` when `db` is not shared. */
static inline FLMutableArray lcws_c4listener_getURLs(const LcwsC4Listener* listener, C4Database* db,
                                                     C4Error* outError) LCWS_C4_NOEXCEPT {
    FLMutableArray urls;
    if (!listener) {
        lcws_c4_fail(outError, kC4ErrorInvalidParameter, "lcws_c4listener_getURLs: NULL listener");
        return LCWS_C4_NULL;
    }
    urls = FLMutableArray_New();
    if (lcws_listener_urls(listener->listener, db, &lcws_c4_append_url, urls) == 0 && db) {
        FLValue_Release(LCWS_C4_PTR_CAST(FLValue, urls));
        lcws_c4_fail(outError, kC4ErrorNotFound, "lcws_c4listener_getURLs: the database is not shared");
        return LCWS_C4_NULL;
    }
    return urls;
}

#endif /* listener */

#endif /* LITECORE_WS_C4_H */
