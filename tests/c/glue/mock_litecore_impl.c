/*
 * A tiny stand-in for libLiteCore (see mock_litecore_impl.h). Compiled as C11 against
 * tests/c/litecore_mock with -DMOCK_LC_VERSION=<the test's version>, into a shared library.
 */
#include "mock_litecore_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static MockLcState g_state;
static const char g_cookies[] = "name=value";

MockLcState* mock_lc_state(void) { return &g_state; }
const char* mock_lc_cookie_buffer(void) { return g_cookies; }

static void fail(const char* what) {
    fprintf(stderr, "mock LiteCore: %s\n", what);
    fflush(stderr);
    abort();
}

/* ---- log ---- */

struct c4LogDomain {
    const char* name;
};
static struct c4LogDomain g_default = {""}, g_db = {"DB"}, g_query = {"Query"}, g_sync = {"Sync"},
                          g_ws = {"WS"}, g_other = {"Other"};
const C4LogDomain kC4DefaultLog = &g_default, kC4DatabaseLog = &g_db, kC4QueryLog = &g_query,
                  kC4SyncLog = &g_sync, kC4WebSocketLog = &g_ws;

C4LogDomain c4log_getDomain(const char* name, bool create) {
    (void)create;
    if (!name || !*name) return kC4DefaultLog;
    if (strcmp(name, "WS") == 0) return kC4WebSocketLog;
    return &g_other;
}
const char* c4log_getDomainName(C4LogDomain d) { return d->name; }
bool c4log_willLog(C4LogDomain d, C4LogLevel l) {
    (void)d;
    (void)l;
    return true;
}
void c4vlog(C4LogDomain domain, C4LogLevel level, const char* fmt, va_list args) {
    g_state.log_calls++;
    g_state.log_domain = domain;
    g_state.log_level = (int)level;
    vsnprintf(g_state.log_line, sizeof g_state.log_line, fmt, args);
    if (getenv("MOCK_LC_VERBOSE")) fprintf(stderr, "[mock c4log %s/%d] %s\n", domain->name, (int)level, g_state.log_line);
}
void c4log(C4LogDomain domain, C4LogLevel level, const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    c4vlog(domain, level, fmt, args);
    va_end(args);
}

/* ---- errors, buffers, refcounts ---- */

C4Error c4error_make(C4ErrorDomain domain, int code, FLString message) {
    C4Error e;
    memset(&e, 0, sizeof e);
    e.domain = domain;
    e.code = code;
    e.internal_info = MOCK_LC_INTERNAL_INFO;
    g_state.error_make_calls++;
    g_state.made_domain = (int)domain;
    g_state.made_code = code;
    g_state.made_message = message;
    return e;
}
FLStringResult c4error_getMessage(C4Error error) {
    FLStringResult r;
    (void)error;
    r.buf = NULL;
    r.size = 0;
    return r;
}
void c4error_return(C4ErrorDomain domain, int code, FLString message, C4Error* outError) {
    if (outError) *outError = c4error_make(domain, code, message);
}

void _FLBuf_Retain(const void* buf) { (void)buf; }
void _FLBuf_Release(const void* buf) {
    g_state.buf_releases++;
    g_state.last_released_buf = buf;
}

void* c4base_retain(void* obj) { return obj; }
void c4base_release(void* obj) { (void)obj; }

C4Socket* c4socket_retain(C4Socket* s) {
    g_state.retains++;
    return s;
}
void c4socket_release(C4Socket* s) {
    (void)s;
    g_state.releases++;
}

/* ---- sockets ---- */

void c4socket_registerFactory(C4SocketFactory factory) {
    /* LiteCore's checks (C4SocketImpl::registerFactory); real LiteCore throws through a noexcept
       wrapper, i.e. std::terminate. */
    if (g_state.registrations > 0) fail("c4socket_registerFactory called twice (LiteCore would terminate)");
    if (!factory.write) fail("registerFactory: write is NULL");
    if (!factory.completedReceive) fail("registerFactory: completedReceive is NULL");
    if (factory.framing == kC4NoFraming) {
        if (factory.close) fail("registerFactory: close must be NULL with kC4NoFraming");
        if (!factory.requestClose) fail("registerFactory: requestClose is NULL with kC4NoFraming");
    } else {
        if (!factory.close) fail("registerFactory: close is NULL");
        if (factory.requestClose) fail("registerFactory: requestClose must be NULL without kC4NoFraming");
    }
    g_state.registrations++;
    g_state.factory = factory;
}

#if MOCK_LC_VERSION >= 300
void c4Socket_setNativeHandle(C4Socket* s, void* h) {
    (void)s;
    g_state.native_handle = h;
}
void* c4Socket_getNativeHandle(C4Socket* s) {
    (void)s;
    return g_state.native_handle;
}
#endif

#if MOCK_LC_VERSION >= 330
bool c4socket_gotPeerCertificate(C4Socket* socket, C4Slice certData, C4String hostname) {
    (void)socket;
    g_state.peer_cert_calls++;
    g_state.peer_cert = certData;
    g_state.peer_host = hostname;
    return true;
}
#endif

void c4socket_gotHTTPResponse(C4Socket* socket, int httpStatus, C4Slice headers) {
    (void)socket;
    g_state.http_calls++;
    g_state.http_status = httpStatus;
    g_state.http_headers = headers;
}
void c4socket_opened(C4Socket* socket) {
    (void)socket;
    g_state.opened_calls++;
}
void c4socket_closed(C4Socket* socket, C4Error errorIfAny) {
    (void)socket;
    g_state.closed_calls++;
    memcpy(g_state.closed_error_bytes, &errorIfAny, sizeof errorIfAny);
}
void c4socket_closeRequested(C4Socket* socket, int status, C4String message) {
    (void)socket;
    g_state.close_requested_calls++;
    g_state.close_requested_status = status;
    g_state.close_requested_message = message;
}
void c4socket_completedWrite(C4Socket* socket, size_t byteCount) {
    (void)socket;
    g_state.completed_write_calls++;
    g_state.completed_write_bytes += byteCount;
}
void c4socket_received(C4Socket* socket, C4Slice data) {
    (void)socket;
    g_state.received_calls++;
    g_state.received = data;
}
C4Socket* c4socket_fromNative(C4SocketFactory factory, void* nativeHandle, const C4Address* address) {
    (void)factory;
    (void)nativeHandle;
    (void)address;
    fail("c4socket_fromNative must not be called");
    return NULL;
}

/* ---- cookies ---- */

#if MOCK_LC_VERSION >= 310
bool c4db_setCookie(C4Database* db, C4String setCookieHeader, C4String fromHost, C4String fromPath,
                    bool acceptParentDomain, C4Error* outError) {
    (void)db;
    (void)outError;
    g_state.set_cookie_calls++;
    g_state.set_cookie_arity = 6;
    g_state.set_cookie_accept_parent_domain = acceptParentDomain;
    g_state.set_cookie_header = setCookieHeader;
    g_state.set_cookie_host = fromHost;
    g_state.set_cookie_path = fromPath;
    return true;
}
#else
bool c4db_setCookie(C4Database* db, C4String setCookieHeader, C4String fromHost, C4String fromPath,
                    C4Error* outError) {
    (void)db;
    (void)outError;
    g_state.set_cookie_calls++;
    g_state.set_cookie_arity = 5;
    g_state.set_cookie_header = setCookieHeader;
    g_state.set_cookie_host = fromHost;
    g_state.set_cookie_path = fromPath;
    return true;
}
#endif

C4StringResult c4db_getCookies(C4Database* db, C4Address request, C4Error* outError) {
    C4StringResult r;
    (void)outError;
    g_state.get_cookies_calls++;
    g_state.cookie_db = db;
    g_state.cookie_addr = request;
    r.buf = g_cookies;
    r.size = sizeof g_cookies - 1;
    return r;
}
