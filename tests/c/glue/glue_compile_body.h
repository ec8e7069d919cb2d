/*
 * Shared body of glue_compile.c and glue_compile.cpp: compiled, never run.
 *
 * Checks at compile time that LiteCore's types and litecore-ws's mirrors have the same layout, and
 * references every function of litecore_ws_c4.h so each one is type-checked against the LiteCore
 * headers in use (the mock ones under tests/c/litecore_mock, for several MOCK_LC_VERSIONs).
 */
#ifndef GLUE_COMPILE_BODY_H
#define GLUE_COMPILE_BODY_H

#ifdef GLUE_TEST_PREINCLUDE
/* The app includes LiteCore itself and tells the glue so. */
#include <stdint.h>
#include <stdbool.h>
#include "c4.h"
#define LCWS_LITECORE_INCLUDED 1
#endif

#include "litecore_ws_c4.h"

#include <stddef.h>

#ifdef __cplusplus
#define GLUE_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define GLUE_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

#define GLUE_SAME_FIELD(A, B, FA, FB) \
    GLUE_STATIC_ASSERT(offsetof(A, FA) == offsetof(B, FB), #A "." #FA " and " #B "." #FB " differ in offset"); \
    GLUE_STATIC_ASSERT(sizeof(((A*)0)->FA) == sizeof(((B*)0)->FB), #A "." #FA " and " #B "." #FB " differ in size")

GLUE_STATIC_ASSERT(sizeof(C4Slice) == sizeof(LcwsSlice), "C4Slice size");
GLUE_STATIC_ASSERT(sizeof(C4String) == sizeof(LcwsSlice), "C4String size");
GLUE_SAME_FIELD(C4Slice, LcwsSlice, buf, buf);
GLUE_SAME_FIELD(C4Slice, LcwsSlice, size, size);

GLUE_STATIC_ASSERT(sizeof(C4SliceResult) == sizeof(LcwsSliceResult), "C4SliceResult size");
GLUE_SAME_FIELD(C4SliceResult, LcwsSliceResult, buf, buf);
GLUE_SAME_FIELD(C4SliceResult, LcwsSliceResult, size, size);

GLUE_STATIC_ASSERT(sizeof(C4Address) == sizeof(LcwsAddress), "C4Address size");
GLUE_SAME_FIELD(C4Address, LcwsAddress, scheme, scheme);
GLUE_SAME_FIELD(C4Address, LcwsAddress, hostname, hostname);
GLUE_SAME_FIELD(C4Address, LcwsAddress, port, port);
GLUE_SAME_FIELD(C4Address, LcwsAddress, path, path);

GLUE_STATIC_ASSERT(sizeof(C4Error) == sizeof(LcwsError), "C4Error size");
GLUE_STATIC_ASSERT(offsetof(C4Error, domain) == offsetof(LcwsError, domain), "C4Error.domain offset");
#ifndef LCWS_LITECORE_28
/* LiteCore 3.0+: uint8_t domain (2.8 has a uint32_t domain; the glue converts field-wise). */
GLUE_STATIC_ASSERT(sizeof(((C4Error*)0)->domain) == sizeof(((LcwsError*)0)->domain), "C4Error.domain size");
#endif
GLUE_SAME_FIELD(C4Error, LcwsError, code, code);
GLUE_SAME_FIELD(C4Error, LcwsError, internal_info, internal_info);

GLUE_STATIC_ASSERT(LCWS_FRAMING == kC4NoFraming, "LCWS_FRAMING is kC4NoFraming");

/* The factory layout of the headers in use (64 bytes; 72 with `attached`). */
#if defined(MOCK_LC_VERSION) && MOCK_LC_VERSION >= 340
GLUE_STATIC_ASSERT(sizeof(C4SocketFactory) == 9 * sizeof(void*), "C4SocketFactory with attached");
#elif defined(MOCK_LC_VERSION)
GLUE_STATIC_ASSERT(sizeof(C4SocketFactory) == 8 * sizeof(void*), "C4SocketFactory without attached");
#endif

/* The listener glue is compiled exactly when the headers have collections (3.1+). */
#if defined(MOCK_LC_VERSION) && !defined(LCWS_C4_NO_LISTENER)
#if MOCK_LC_VERSION >= 310 && !defined(LCWS_C4_HAS_LISTENER)
#error "LiteCore 3.1+ headers: the listener glue should be compiled"
#elif MOCK_LC_VERSION < 310 && defined(LCWS_C4_HAS_LISTENER)
#error "headers without collections: the listener glue should be left out"
#endif
#endif
#if defined(LCWS_C4_NO_LISTENER) && defined(LCWS_C4_HAS_LISTENER)
#error "LCWS_C4_NO_LISTENER: the listener glue should be left out"
#endif

#ifdef __cplusplus
extern "C" {
#endif
void glue_compile_reference_all(C4Socket* s, C4Database* db, const C4Address* addr);
#ifdef LCWS_C4_HAS_LISTENER
void glue_compile_reference_listener(C4Database* db, C4Collection* coll, C4Replicator* repl);
#endif
#ifdef __cplusplus
}
#endif

/* Never called: references every glue function with arguments of the right types. */
void glue_compile_reference_all(C4Socket* s, C4Database* db, const C4Address* addr) {
    LcwsSlice ls;
    LcwsSliceResult lsr;
    LcwsAddress la;
    LcwsError le;
    C4Slice cs;
    C4SliceResult csr;
    C4Address ca;
    C4Error ce;
    LcwsHostTable table;
    C4SocketFactory f1, f2;
    C4ReplicatorParameters params;
    bool ok;

    memset(&ls, 0, sizeof ls);
    memset(&lsr, 0, sizeof lsr);
    memset(&le, 0, sizeof le);

    /* conversions */
    cs = lcws_c4_slice_to_c4(ls);
    ls = lcws_c4_slice_from_c4(cs);
    csr = lcws_c4_slice_result_to_c4(lsr);
    lsr = lcws_c4_slice_result_from_c4(csr);
    la = lcws_c4_address_from_c4(addr);
    ca = lcws_c4_address_to_c4(&la);
    ce = lcws_c4_error_to_c4(le);
    le = lcws_c4_error_from_c4(ce);

    /* factory thunks */
    lcws_c4_open(s, &ca, cs, db);
    lcws_c4_write(s, csr);
    lcws_c4_completed_receive(s, 1);
    lcws_c4_request_close(s, 1000, cs);

    /* host thunks */
    lcws_c4_host_got_http_response(s, 101, ls);
    lcws_c4_host_closed(s, le);
    lcws_c4_host_close_requested(s, 1000, ls);
    lcws_c4_host_received(s, ls);
    le = lcws_c4_host_error_make(1, 9, ls);
#ifdef LCWS_LITECORE_28
    lcws_c4_host_set_native_handle(s, NULL);
    (void)lcws_c4_host_get_native_handle(s);
#endif
#if defined(LCWS_C4_HAS_PEER_CERTIFICATE) && LCWS_C4_HAS_PEER_CERTIFICATE == 1
    ok = lcws_c4_host_got_peer_certificate(s, ls, ls);
#endif
#if LCWS_C4_ROUTE_LOG
    lcws_c4_host_log(NULL, 2, "line");
#endif
#if LCWS_C4_COOKIES
    lsr = lcws_c4_host_get_cookies(db, la, &le);
#if !defined(LCWS_C4_SET_COOKIE_ARITY) || LCWS_C4_SET_COOKIE_ARITY != 0
    ok = lcws_c4_host_set_cookie(db, ls, ls, ls, true, &le);
#endif
#endif

    /* table, factory, registration */
    table = lcws_c4_host_table();
    ok = lcws_c4_install_host();
    f1 = lcws_c4_socket_factory(NULL);
    f2 = lcws_c4_factory(db);
    ok = lcws_register_with_litecore();
    memset(&params, 0, sizeof params);
    params.socketFactory = &f2;

    /* keep everything "used" */
    (void)cs; (void)ls; (void)csr; (void)lsr; (void)la; (void)ca; (void)ce; (void)le;
    (void)table; (void)f1; (void)f2; (void)ok; (void)params;
}

#ifdef LCWS_C4_HAS_LISTENER
static bool glue_compile_http_auth(LcwsC4Listener* l, C4String database, C4String user, C4Slice password,
                                   void* context) LCWS_C4_NOEXCEPT {
    (void)l; (void)database; (void)user; (void)password; (void)context;
    return true;
}

static bool glue_compile_cert_auth(LcwsC4Listener* l, C4Slice cert, void* context) LCWS_C4_NOEXCEPT {
    (void)l; (void)cert; (void)context;
    return true;
}

/* Never called: references every function of the listener glue (public and internal) with
   arguments of the right types, and fills every field of its configuration. */
void glue_compile_reference_listener(C4Database* db, C4Collection* coll, C4Replicator* repl) {
    LcwsC4ListenerConfig config;
    LcwsC4Listener* l;
    C4Error err;
    C4Slice cert;
    FLMutableArray urls;
    unsigned connections = 0, active = 0;
    uint16_t port;
    bool ok;
    LcwsIncoming in;
    LcwsSlice ls;
    C4ReplicatorStatus status;
    void* handle;
    C4ReplicatorParameters params;
    lcws_c4_new_with_socket4_fn f4 = LCWS_C4_NULL;
    lcws_c4_new_with_socket5_fn f5 = LCWS_C4_NULL;

    memset(&config, 0, sizeof config);
    memset(&err, 0, sizeof err);
    memset(&in, 0, sizeof in);
    memset(&ls, 0, sizeof ls);
    memset(&status, 0, sizeof status);
    config.port = 0;
    config.networkInterface = lcws_c4_str("127.0.0.1");
    config.disableTLS = false;
    config.tlsConfig.certificate = lcws_c4_str("");
    config.tlsConfig.key = lcws_c4_str("");
    config.tlsConfig.requireClientCerts = true;
    config.tlsConfig.rootClientCerts = lcws_c4_str("");
    config.tlsConfig.certAuthCallback = &glue_compile_cert_auth;
    config.tlsConfig.tlsCallbackContext = LCWS_C4_NULL;
    config.httpAuthCallback = &glue_compile_http_auth;
    config.callbackContext = LCWS_C4_NULL;
    config.allowPush = true;
    config.allowPull = true;
    config.enableDeltaSync = true;
    config.serverName = lcws_c4_str("test");
    config.maxConnections = 1;
    config.handshakeTimeoutMs = 1000;
    config.heartbeatSeconds = 30;

    /* public API (Enterprise names with the lcws_ prefix) */
    l = lcws_c4listener_start(&config, &err);
    ok = lcws_c4listener_shareDB(l, lcws_c4_str("db"), db, &err);
    ok = lcws_c4listener_shareCollection(l, lcws_c4_str("db"), coll, &err);
    port = lcws_c4listener_getPort(l);
    urls = lcws_c4listener_getURLs(l, db, &err);
    FLValue_Release(LCWS_C4_PTR_CAST(FLValue, urls));
    lcws_c4listener_getConnectionStatus(l, &connections, &active);
    cert = lcws_c4listener_getCertificate(l);
    ok = lcws_c4listener_unshareDB(l, db, &err);
    lcws_c4listener_free(l);

    /* internals: the callbacks given to lcws_listener_start, the helpers */
    handle = lcws_c4_listener_accept(l, &in);
    lcws_c4_listener_status(repl, status, in.connection);
    lcws_c4_listener_release(l, handle);
    ok = lcws_c4_listener_check_password(l, ls, ls, ls);
    ok = lcws_c4_listener_check_certificate(l, ls);
    lcws_c4_listener_release_database(l, db);
    lcws_c4_append_url(urls, ls);
    lcws_c4_set_error(&err, lcws_c4_error_from_c4(err));
    lcws_c4_fail(&err, kC4ErrorInvalidParameter, "message");
    memset(&params, 0, sizeof params);
    (void)lcws_c4_call_new_with_socket(f4, db, LCWS_C4_NULL, params, cert, &err);
#ifdef __cplusplus
    (void)lcws_c4_call_new_with_socket(f5, db, LCWS_C4_NULL, params, cert, &err);
#else
    (void)lcws_c4_call_new_with_socket5(f5, db, LCWS_C4_NULL, params, cert, &err);
#endif
    (void)LCWS_C4_NEW_WITH_SOCKET(db, LCWS_C4_NULL, params, cert, &err);

    (void)port; (void)ok; (void)cert;
}
#endif

#endif /* GLUE_COMPILE_BODY_H */
