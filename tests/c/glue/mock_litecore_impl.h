/*
 * A tiny stand-in for libLiteCore, for glue_register only: the LiteCore functions that
 * litecore_ws_c4.h uses, recording their arguments in a MockLcState instead of doing anything.
 * c4socket_registerFactory checks LiteCore's registration rules and abort()s on a violation or on
 * a second call, as real LiteCore terminates the process.
 *
 * Built as a shared library from mock_litecore_impl.c against tests/c/litecore_mock with the same
 * MOCK_LC_VERSION as the test, so c4socket_gotPeerCertificate (3.3+) is found by dlsym like in a
 * real libLiteCore.so.
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
} MockLcState;

/** The mock's recorded state (one per process). */
CBL_CORE_API MockLcState* mock_lc_state(void) C4API;

/** The buffer c4db_getCookies returns ("name=value"). */
CBL_CORE_API const char* mock_lc_cookie_buffer(void) C4API;

/** internal_info that the mock's c4error_make puts into every error. */
#define MOCK_LC_INTERNAL_INFO 4242u

#ifdef __cplusplus
}
#endif

#endif /* MOCK_LITECORE_IMPL_H */
