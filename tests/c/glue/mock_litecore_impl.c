/*
 * A tiny stand-in for libLiteCore (see mock_litecore_impl.h). Compiled as C11 against
 * tests/c/litecore_mock with -DMOCK_LC_VERSION=<the test's version>, into a shared library.
 *
 * MOCK_LC_LINK_STUB: built into tests/c/examples' link stub, which defines the replicator
 * functions (c4repl_start, c4repl_stop, c4repl_free) itself.
 */
#define _POSIX_C_SOURCE 200809L
#include "mock_litecore_impl.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static MockLcState g_state;
static const char g_cookies[] = "name=value";
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

MockLcState* mock_lc_state(void) { return &g_state; }
const char* mock_lc_cookie_buffer(void) { return g_cookies; }
void mock_lc_lock(void) { pthread_mutex_lock(&g_lock); }
void mock_lc_unlock(void) { pthread_mutex_unlock(&g_lock); }

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

void* c4base_retain(void* obj) {
    mock_lc_lock();
    g_state.base_retains++;
    mock_lc_unlock();
    return obj;
}
void c4base_release(void* obj) {
    if (!obj) return;
    mock_lc_lock();
    g_state.base_releases++;
    mock_lc_unlock();
}

/* ---- incoming sockets and passive replicators (LiteCore 3.1+) ---- */

#if MOCK_LC_VERSION >= 310
#define MOCK_SOCKET_MAGIC 0x4d4b534bu /* "MKSK" */

typedef struct MockSocket {
    unsigned magic;
    int refcount;
    bool disposed;
    void* native;
    C4SocketFactory factory;
    C4Address peer;
    char scheme[8], host[64], path[128];
    C4Replicator* repl;
} MockSocket;

struct C4Replicator {
    C4ReplicatorStatusChangedCallback callback;
    void* context;
    C4Socket* socket; /* the replicator's reference, until it stops */
    void* options;
    size_t options_size;
};

/* The socket made by c4socket_fromNative, or NULL for any other pointer (glue_register's fake
   sockets are zero-filled storage). */
static MockSocket* incoming(C4Socket* s) {
    MockSocket* m = (MockSocket*)(void*)s;
    return (m && m->magic == MOCK_SOCKET_MAGIC) ? m : NULL;
}

static void copy_str(char* out, size_t size, C4Slice s) {
    size_t n = s.size < size - 1 ? s.size : size - 1;
    if (n) memcpy(out, s.buf, n);
    out[n] = 0;
}

static void run_detached(void* (*fn)(void*), void* arg) {
    pthread_t t;
    if (pthread_create(&t, NULL, fn, arg) != 0) fail("pthread_create");
    pthread_detach(t);
}

/* The replicator's status callback, from a thread of the mock's (as LiteCore's own threads). */
static void report(C4Replicator* r, C4ReplicatorActivityLevel level) {
    C4ReplicatorStatus status;
    memset(&status, 0, sizeof status);
    status.level = level;
    mock_lc_lock();
    g_state.status_reports++;
    g_state.last_status_level = (int)level;
    mock_lc_unlock();
    if (r->callback) r->callback(r, status, r->context);
}

static void* report_busy(void* arg) {
    report((C4Replicator*)arg, kC4Busy);
    return NULL;
}

/* After `closed`: the replicator drops its socket, then says it stopped (and touches nothing
   afterwards: the host may free it from then on). */
static void* report_stopped(void* arg) {
    C4Replicator* r = (C4Replicator*)arg;
    C4Socket* s;
    mock_lc_lock();
    s = r->socket;
    r->socket = NULL;
    mock_lc_unlock();
    if (s) c4socket_release(s);
    report(r, kC4Stopped);
    return NULL;
}

#ifndef MOCK_LC_LINK_STUB
/* c4repl_start's thread: LiteCore "connects" the replicator's socket, i.e. calls `open` even for
   a socket made by c4socket_fromNative, as real LiteCore does when the replicator starts. */
static void* open_socket(void* arg) {
    C4Replicator* r = (C4Replicator*)arg;
    MockSocket* m = incoming(r->socket);
    C4Slice options;
    options.buf = r->options;
    options.size = r->options_size;
    mock_lc_lock();
    g_state.incoming_opens++;
    mock_lc_unlock();
    m->factory.open(r->socket, &m->peer, options, m->factory.context);
    return NULL;
}
#endif

C4Socket* c4socket_fromNative(C4SocketFactory factory, void* nativeHandle, const C4Address* address) {
    MockSocket* m = (MockSocket*)calloc(1, sizeof *m);
    if (!m) fail("out of memory");
    m->magic = MOCK_SOCKET_MAGIC;
    m->native = nativeHandle;
    m->factory = factory;
    copy_str(m->scheme, sizeof m->scheme, address->scheme);
    copy_str(m->host, sizeof m->host, address->hostname);
    copy_str(m->path, sizeof m->path, address->path);
    m->peer.scheme.buf = m->scheme;
    m->peer.scheme.size = strlen(m->scheme);
    m->peer.hostname.buf = m->host;
    m->peer.hostname.size = strlen(m->host);
    m->peer.port = address->port;
    m->peer.path.buf = m->path;
    m->peer.path.size = strlen(m->path);
    mock_lc_lock();
    g_state.from_native_calls++;
    g_state.from_native_factory = factory;
    g_state.from_native_handle = nativeHandle;
    memcpy(g_state.from_native_scheme, m->scheme, sizeof m->scheme);
    memcpy(g_state.from_native_host, m->host, sizeof m->host);
    g_state.from_native_port = address->port;
    memcpy(g_state.from_native_path, m->path, sizeof m->path);
    g_state.last_socket = (C4Socket*)(void*)m;
    g_state.incoming_refcount = 0;
    mock_lc_unlock();
    return (C4Socket*)(void*)m; /* unretained, like LiteCore's */
}

static C4Replicator* new_with_socket(C4Database* db, C4Socket* socket, C4ReplicatorParameters params,
                                     const C4String* logPrefix, C4Error* outError) {
    size_t i;
    int mode;
    C4Replicator* r;
    if (!incoming(socket)) fail("c4repl_newWithSocket: not a socket from c4socket_fromNative");
    mock_lc_lock();
    g_state.new_with_socket_calls++;
    g_state.nws_db = db;
    g_state.nws_socket = socket;
    g_state.nws_collection_count = params.collectionCount;
    for (i = 0; i < params.collectionCount && i < 4; i++) {
        copy_str(g_state.nws_collections[i].scope, sizeof g_state.nws_collections[i].scope,
                 params.collections[i].collection.scope);
        copy_str(g_state.nws_collections[i].name, sizeof g_state.nws_collections[i].name,
                 params.collections[i].collection.name);
        g_state.nws_collections[i].push = (int)params.collections[i].push;
        g_state.nws_collections[i].pull = (int)params.collections[i].pull;
    }
    g_state.nws_has_log_prefix = logPrefix != NULL;
    if (logPrefix) copy_str(g_state.nws_log_prefix, sizeof g_state.nws_log_prefix, *logPrefix);
    g_state.nws_options_size = params.optionsDictFleece.size;
    g_state.nws_has_status_callback = params.onStatusChanged != NULL;
    g_state.nws_context = params.callbackContext;
    mode = g_state.repl_mode;
    mock_lc_unlock();
    if (mode != MOCK_REPL_ACCEPT) {
        C4String msg;
        msg.buf = "mock LiteCore: no replicator this time";
        msg.size = strlen((const char*)msg.buf);
        if (outError) *outError = c4error_make(LiteCoreDomain, kC4ErrorUnsupported, msg);
        return NULL;
    }
    r = (C4Replicator*)calloc(1, sizeof *r);
    if (!r) fail("out of memory");
    r->callback = params.onStatusChanged;
    r->context = params.callbackContext;
    r->options_size = params.optionsDictFleece.size;
    r->options = malloc(r->options_size ? r->options_size : 1);
    if (!r->options) fail("out of memory");
    if (r->options_size) memcpy(r->options, params.optionsDictFleece.buf, r->options_size);
    r->socket = c4socket_retain(socket);
    incoming(socket)->repl = r;
    return r;
}

#if MOCK_LC_VERSION >= 320
C4Replicator* c4repl_newWithSocket(C4Database* db, C4Socket* openSocket, C4ReplicatorParameters params,
                                   C4String logPrefix, C4Error* outError) {
    return new_with_socket(db, openSocket, params, &logPrefix, outError);
}
#else
C4Replicator* c4repl_newWithSocket(C4Database* db, C4Socket* openSocket, C4ReplicatorParameters params,
                                   C4Error* outError) {
    return new_with_socket(db, openSocket, params, NULL, outError);
}
#endif

#ifndef MOCK_LC_LINK_STUB
void c4repl_start(C4Replicator* repl, bool reset) {
    (void)reset;
    mock_lc_lock();
    g_state.repl_starts++;
    mock_lc_unlock();
    run_detached(open_socket, repl);
}

void c4repl_stop(C4Replicator* repl) { (void)repl; }

/* The replicator is not freed: a status report may still be running on a mock thread (a test
   program's few replicators stay allocated until exit). */
void c4repl_free(C4Replicator* repl) {
    C4Socket* s;
    if (!repl) return;
    mock_lc_lock();
    g_state.repl_frees++;
    s = repl->socket;
    repl->socket = NULL;
    mock_lc_unlock();
    if (s) c4socket_release(s);
}
#endif

/* ---- databases, collections ---- */

struct C4Database {
    C4DatabaseConfig2 config;
};

struct C4Collection {
    C4Database* db;
    char scope[64], name[64];
};

C4Database* mock_lc_database(uint32_t flags) {
    C4Database* db = (C4Database*)calloc(1, sizeof *db);
    if (!db) fail("out of memory");
    db->config.flags = (C4DatabaseFlags)flags;
    return db;
}

const C4DatabaseConfig2* c4db_getConfig2(C4Database* database) { return &database->config; }

C4Collection* mock_lc_collection(C4Database* db, const char* scope, const char* name) {
    C4Collection* c = (C4Collection*)calloc(1, sizeof *c);
    if (!c) fail("out of memory");
    c->db = db;
    snprintf(c->scope, sizeof c->scope, "%s", scope);
    snprintf(c->name, sizeof c->name, "%s", name);
    return c;
}

C4CollectionSpec c4coll_getSpec(C4Collection* c) {
    C4CollectionSpec spec;
    spec.name.buf = c->name;
    spec.name.size = strlen(c->name);
    spec.scope.buf = c->scope;
    spec.scope.size = strlen(c->scope);
    return spec;
}

C4Database* c4coll_getDatabase(C4Collection* c) { return c->db; }

/* ---- Fleece: a mutable array of strings, enough for lcws_c4listener_getURLs ---- */

#define MOCK_ARRAY_MAGIC 0x4d4b4152u /* "MKAR" */

typedef struct MockArray {
    unsigned magic;
    uint32_t count, cap;
    char** items;
} MockArray;

FLMutableArray FLMutableArray_New(void) {
    MockArray* a = (MockArray*)calloc(1, sizeof *a);
    if (!a) fail("out of memory");
    a->magic = MOCK_ARRAY_MAGIC;
    mock_lc_lock();
    g_state.live_arrays++;
    mock_lc_unlock();
    return (FLMutableArray)(void*)a;
}

FLSlot FLMutableArray_Append(FLMutableArray array) {
    MockArray* a = (MockArray*)(void*)array;
    if (a->count == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 4;
        a->items = (char**)realloc(a->items, a->cap * sizeof *a->items);
        if (!a->items) fail("out of memory");
    }
    a->items[a->count] = NULL;
    return (FLSlot)(void*)&a->items[a->count++];
}

void FLSlot_SetString(FLSlot slot, FLString s) {
    char** cell = (char**)(void*)slot;
    free(*cell);
    *cell = (char*)malloc(s.size + 1);
    if (!*cell) fail("out of memory");
    if (s.size) memcpy(*cell, s.buf, s.size);
    (*cell)[s.size] = 0;
}

uint32_t FLArray_Count(FLArray array) {
    return array ? ((const MockArray*)(const void*)array)->count : 0;
}

FLValue FLArray_Get(FLArray array, uint32_t index) {
    const MockArray* a = (const MockArray*)(const void*)array;
    if (!a || index >= a->count) return NULL;
    return (FLValue)(const void*)&a->items[index];
}

FLString FLValue_AsString(FLValue value) {
    FLString r;
    const char* const* cell = (const char* const*)(const void*)value;
    r.buf = value ? *cell : NULL;
    r.size = r.buf ? strlen((const char*)r.buf) : 0;
    return r;
}

void FLValue_Release(FLValue value) {
    MockArray* a = (MockArray*)(uintptr_t)(const void*)value;
    uint32_t i;
    if (!a) return;
    if (a->magic != MOCK_ARRAY_MAGIC) fail("FLValue_Release: not an array made by FLMutableArray_New");
    for (i = 0; i < a->count; i++) free(a->items[i]);
    free(a->items);
    a->magic = 0;
    free(a);
    mock_lc_lock();
    g_state.live_arrays--;
    mock_lc_unlock();
}
#endif /* MOCK_LC_VERSION >= 310 */

C4Socket* c4socket_retain(C4Socket* s) {
#if MOCK_LC_VERSION >= 310
    MockSocket* m = incoming(s);
    if (m) {
        mock_lc_lock();
        if (m->disposed) fail("c4socket_retain after dispose");
        m->refcount++;
        g_state.incoming_refcount = m->refcount;
        mock_lc_unlock();
        return s;
    }
#endif
    g_state.retains++;
    return s;
}
void c4socket_release(C4Socket* s) {
#if MOCK_LC_VERSION >= 310
    MockSocket* m = incoming(s);
    if (m) {
        bool last;
        mock_lc_lock();
        if (m->disposed || m->refcount <= 0) fail("c4socket_release: no reference left");
        last = --m->refcount == 0;
        g_state.incoming_refcount = m->refcount;
        if (last) m->disposed = true;
        mock_lc_unlock();
        /* LiteCore disposes of a socket when its last reference goes. */
        if (last && m->factory.dispose) m->factory.dispose(s);
        if (last) {
            mock_lc_lock();
            g_state.incoming_disposed++;
            mock_lc_unlock();
        }
        return;
    }
#endif
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
#if MOCK_LC_VERSION >= 310
    if (incoming(s)) {
        incoming(s)->native = h;
        return;
    }
#endif
    (void)s;
    g_state.native_handle = h;
}
void* c4Socket_getNativeHandle(C4Socket* s) {
#if MOCK_LC_VERSION >= 310
    if (incoming(s)) return incoming(s)->native;
#endif
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

/* Calls on a socket made by c4socket_fromNative are answered as LiteCore does. */
#if MOCK_LC_VERSION >= 310
#define INCOMING(socket, ...)        \
    if (incoming(socket)) {          \
        __VA_ARGS__                  \
        return;                      \
    }
#else
#define INCOMING(socket, ...)
#endif

void c4socket_gotHTTPResponse(C4Socket* socket, int httpStatus, C4Slice headers) {
    /* Never for an incoming socket (LiteCore's header says so). */
    INCOMING(socket, mock_lc_lock(); g_state.incoming_http_responses++; mock_lc_unlock();)
    (void)socket;
    g_state.http_calls++;
    g_state.http_status = httpStatus;
    g_state.http_headers = headers;
}
void c4socket_opened(C4Socket* socket) {
    INCOMING(socket, mock_lc_lock(); g_state.incoming_opened++; mock_lc_unlock();
             if (incoming(socket)->repl) run_detached(report_busy, incoming(socket)->repl);)
    (void)socket;
    g_state.opened_calls++;
}
void c4socket_closed(C4Socket* socket, C4Error errorIfAny) {
    INCOMING(socket, mock_lc_lock(); g_state.incoming_closed++; mock_lc_unlock();
             if (incoming(socket)->repl) run_detached(report_stopped, incoming(socket)->repl);)
    (void)socket;
    g_state.closed_calls++;
    memcpy(g_state.closed_error_bytes, &errorIfAny, sizeof errorIfAny);
}
void c4socket_closeRequested(C4Socket* socket, int status, C4String message) {
    /* LiteCore answers the peer's Close by asking to close (allowed from inside this call). */
    INCOMING(socket, mock_lc_lock(); g_state.incoming_close_requested++; mock_lc_unlock();
             incoming(socket)->factory.requestClose(socket, status, message);)
    (void)socket;
    g_state.close_requested_calls++;
    g_state.close_requested_status = status;
    g_state.close_requested_message = message;
}
void c4socket_completedWrite(C4Socket* socket, size_t byteCount) {
    INCOMING(socket, (void)byteCount;)
    (void)socket;
    g_state.completed_write_calls++;
    g_state.completed_write_bytes += byteCount;
}
void c4socket_received(C4Socket* socket, C4Slice data) {
    INCOMING(socket, incoming(socket)->factory.completedReceive(socket, data.size);)
    (void)socket;
    g_state.received_calls++;
    g_state.received = data;
}
#if MOCK_LC_VERSION < 310
C4Socket* c4socket_fromNative(C4SocketFactory factory, void* nativeHandle, const C4Address* address) {
    (void)factory;
    (void)nativeHandle;
    (void)address;
    fail("c4socket_fromNative must not be called (no listener glue before LiteCore 3.1)");
    return NULL;
}
#endif

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
