/*
 * A tiny stand-in for libLiteCore, for glue_register only: the LiteCore functions that
 * litecore_ws_c4.h uses, recording their arguments in a MockLcState instead of doing anything.
 * c4socket_registerFactory checks LiteCore's registration rules and abort()s on a violation or on
 * a second call, as real LiteCore terminates the process.
 *
 * Built as a shared library from mock_litecore_impl.c against tests/c/litecore_mock with the same
 * MOCK_LC_VERSION as the test, so c4socket_gotPeerCertificate (3.3+) is found by dlsym like in a
 * real libLiteCore.so.
 *
 * From 3.1 it also plays LiteCore's side of an incoming connection for glue_listener:
 * c4socket_fromNative makes a socket (refcounted: the last c4socket_release calls the factory's
 * dispose, as LiteCore does), c4repl_newWithSocket records its parameters and either refuses
 * (MOCK_REPL_REFUSE: NULL, the glue releases the socket and the client gets 503) or makes a
 * replicator (MOCK_REPL_ACCEPT) whose c4repl_start calls the factory's `open` on a thread of its
 * own; LiteCore's calls on that socket are answered as LiteCore does (closeRequested ->
 * requestClose, received -> completedReceive), and its status callback is called from the mock's
 * threads: busy after `opened`, stopped after `closed` (then the replicator drops its socket).
 * Shared state of that part is read under mock_lc_lock().
 */
#ifndef MOCK_LITECORE_IMPL_H
#define MOCK_LITECORE_IMPL_H

#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include "c4.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct MockLcState {
    int registrations;
    C4SocketFactory factory; /* the registered one */

    int http_calls;
    int http_status;
    C4Slice http_headers;
    int opened_calls;
    int closed_calls;
    unsigned char closed_error_bytes[sizeof(C4Error)];
    int close_requested_calls;
    int close_requested_status;
    C4Slice close_requested_message;
    int completed_write_calls;
    size_t completed_write_bytes;
    int received_calls;
    C4Slice received;

    int error_make_calls;
    int made_domain;
    int made_code;
    C4Slice made_message;

    void* native_handle; /* LiteCore 3.0+: c4Socket_setNativeHandle */
    int retains;
    int releases;
    int buf_releases;
    const void* last_released_buf;

    int peer_cert_calls;
    C4Slice peer_cert;
    C4Slice peer_host;

    int get_cookies_calls;
    C4Database* cookie_db;
    C4Address cookie_addr;
    int set_cookie_calls;
    int set_cookie_arity;
    bool set_cookie_accept_parent_domain;
    C4Slice set_cookie_header;
    C4Slice set_cookie_host;
    C4Slice set_cookie_path;

    int log_calls;
    C4LogDomain log_domain;
    int log_level;
    char log_line[512];

    /* ---- the listener side (LiteCore 3.1+), under mock_lc_lock() ---- */
    int base_retains;           /* c4base_retain / c4base_release calls */
    int base_releases;
    int live_arrays;            /* FLMutableArray_New minus FLValue_Release of an array */

    int from_native_calls;
    C4SocketFactory from_native_factory;
    void* from_native_handle;
    char from_native_scheme[8];
    char from_native_host[64];
    uint16_t from_native_port;
    char from_native_path[128];
    C4Socket* last_socket;

    int repl_mode;              /* MOCK_REPL_REFUSE or MOCK_REPL_ACCEPT */
    int new_with_socket_calls;
    C4Database* nws_db;
    C4Socket* nws_socket;
    size_t nws_collection_count;
    struct {
        char scope[64];
        char name[64];
        int push;
        int pull;
    } nws_collections[4];
    bool nws_has_log_prefix;
    char nws_log_prefix[64];
    size_t nws_options_size;
    bool nws_has_status_callback;
    void* nws_context;

    int repl_starts;
    int repl_frees;
    int status_reports;         /* calls of the replicator's status callback */
    int last_status_level;

    int incoming_opens;         /* the factory's open, called by c4repl_start's thread */
    int incoming_opened;        /* c4socket_opened */
    int incoming_closed;        /* c4socket_closed */
    int incoming_close_requested;
    int incoming_http_responses;/* must stay 0 for an incoming socket */
    int incoming_disposed;      /* the factory's dispose, at the last c4socket_release */
    int incoming_refcount;
} MockLcState;

/** c4repl_newWithSocket's behaviour (MockLcState.repl_mode). */
enum { MOCK_REPL_REFUSE = 0, MOCK_REPL_ACCEPT = 1 };

/** The mock's recorded state (one per process). */
CBL_CORE_API MockLcState* mock_lc_state(void) C4API;

/** The buffer c4db_getCookies returns ("name=value"). */
CBL_CORE_API const char* mock_lc_cookie_buffer(void) C4API;

/** Locks / unlocks the state that the mock's threads write (the listener side). */
CBL_CORE_API void mock_lc_lock(void) C4API;
CBL_CORE_API void mock_lc_unlock(void) C4API;

#if MOCK_LC_VERSION >= 300
/** A database whose c4db_getConfig2 reports `flags` (kC4DB_VersionVectors = 0x08); lives until
    exit. */
CBL_CORE_API C4Database* mock_lc_database(uint32_t flags) C4API;
#endif

#if MOCK_LC_VERSION >= 310
/** A collection `scope`.`name` of `db` (C4Collection is opaque; the mock's lives until exit). */
CBL_CORE_API C4Collection* mock_lc_collection(C4Database* db, const char* scope, const char* name) C4API;
#endif

/** internal_info that the mock's c4error_make puts into every error. */
#define MOCK_LC_INTERNAL_INFO 4242u

#ifdef __cplusplus
}
#endif

#endif /* MOCK_LITECORE_IMPL_H */
