/*
 * fake_litecore: plays LiteCore's side of the socket contract for litecore-ws's C tests.
 *
 * Built as a shared library that exports LiteCore's own symbol names (c4socket_opened,
 * c4socket_closed, c4Socket_getNativeHandle, _FLBuf_Release, c4error_make, ...) with LiteCore's
 * ABI, so a test (or a language binding, e.g. Python ctypes) fills litecore-ws's host table by
 * symbol lookup exactly as it would with libLiteCore.
 *
 * Strict checks, recorded as "violations" per socket (a test fails when any is recorded):
 *   - host calls for one socket never overlap (serialization);
 *   - exactly one c4socket_closed; nothing but release after it; nothing at all after dispose;
 *   - c4socket_gotHTTPResponse at most once, before opened/closed; opened at most once;
 *   - retain/release balanced: dispose runs when the last reference goes, as in LiteCore;
 *   - no host call from inside the factory's open (on the thread running it).
 * Incoming sockets (c4socket_fromNative, the listener's) also: open before opened, never
 * gotHTTPResponse nor gotPeerCertificate.
 * Like LiteCore, c4socket_closeRequested calls the factory's requestClose back synchronously.
 */
#ifndef FAKE_LITECORE_H
#define FAKE_LITECORE_H

#include "litecore_ws.h"

#ifdef __cplusplus
extern "C" {
#endif

/* LiteCore's C4SocketFactory, current layout (72 bytes, with `attached`). */
typedef struct FakeSocketFactory {
    uint8_t framing;
    void *context;
    void (*open)(C4Socket *, const LcwsAddress *, LcwsSlice, void *);
    void (*write)(C4Socket *, LcwsSliceResult);
    void (*completedReceive)(C4Socket *, size_t);
    void (*close)(C4Socket *);
    void (*requestClose)(C4Socket *, int, LcwsSlice);
    void (*dispose)(C4Socket *);
    void (*attached)(C4Socket *);
} FakeSocketFactory;

/* ---- LiteCore's exported functions (ABI-identical; C4 types mirrored by Lcws types) ---- */
void c4socket_registerFactory(FakeSocketFactory factory);
void c4socket_gotHTTPResponse(C4Socket *s, int status, LcwsSlice headers);
void c4socket_opened(C4Socket *s);
void c4socket_closed(C4Socket *s, LcwsError err);
void c4socket_closeRequested(C4Socket *s, int status, LcwsSlice message);
void c4socket_completedWrite(C4Socket *s, size_t n);
void c4socket_received(C4Socket *s, LcwsSlice data);
void c4Socket_setNativeHandle(C4Socket *s, void *h);
void *c4Socket_getNativeHandle(C4Socket *s);
C4Socket *c4socket_retain(C4Socket *s);
void c4socket_release(C4Socket *s);
bool c4socket_gotPeerCertificate(C4Socket *s, LcwsSlice certDER, LcwsSlice hostname);
LcwsError c4error_make(uint8_t domain, int code, LcwsSlice message);
void _FLBuf_Release(const void *buf);
LcwsSliceResult c4db_getCookies(void *db, LcwsAddress request, LcwsError *outError);
bool c4db_setCookie(void *db, LcwsSlice setCookieHeader, LcwsSlice fromHost, LcwsSlice fromPath,
                    bool acceptParentDomain, LcwsError *outError);

/* ---- Test-side API ---- */

/* Fills `t` with the functions above (what an app does with LiteCore's). `with_optional`
 * also sets got_peer_certificate, error_make, cookies and the capturing log sink. */
void fake_fill_host_table(LcwsHostTable *t, bool with_optional);

/* The factory tests use when they did not register one: litecore-ws's callbacks. */
void fake_use_lcws_factory(void *context);

/* A new socket holding one reference (LiteCore's own). */
C4Socket *fake_socket_new(void);
/* Calls the factory's open with a copy of this address (valid only during the call, as in
 * LiteCore: the fake scribbles over it afterwards). */
void fake_socket_open(C4Socket *s, const char *scheme, const char *host, uint16_t port,
                      const char *path, const void *options, size_t options_size);
/* Calls the factory's write with a new refcounted buffer holding a copy of `data`. */
void fake_socket_write(C4Socket *s, const void *data, size_t size);
void fake_socket_request_close(C4Socket *s, int status, const char *message);
void fake_socket_completed_receive(C4Socket *s, size_t n);
/* LiteCore drops its own reference (dispose follows when no other reference is left). */
void fake_socket_drop(C4Socket *s);

/* Waits until closed was called (1) or the timeout passed (0). */
int fake_wait_closed(C4Socket *s, int timeout_ms);
/* Waits until the socket's reference count is `count` (1) or the timeout passed (0). */
int fake_wait_refcount(C4Socket *s, int count, int timeout_ms);
/* Waits until dispose was called (1) or the timeout passed (0). */
int fake_wait_disposed(C4Socket *s, int timeout_ms);

typedef struct FakeSocketState {
    int http_response_calls, http_status;
    int opened_calls, closed_calls, close_requested_calls, disposed;
    int refcount;
    LcwsError closed_error;
    char closed_message[512]; /* from c4error_make, "" without */
    size_t bytes_written_acked, bytes_received, messages_received;
    int violations;
    char first_violation[256];
    int peer_cert_calls;         /* c4socket_gotPeerCertificate */
    size_t peer_cert_size;
    char peer_cert_host[128];
} FakeSocketState; /* its layout is mirrored by examples-c/python/test_binding.py: do not change it */

FakeSocketState fake_socket_state(C4Socket *s);
/* True when the Fleece headers dict given to gotHTTPResponse contains these bytes (Fleece keeps
 * strings raw, so a header name or value can be found this way). */
bool fake_socket_headers_contain(C4Socket *s, const char *text);
/* What c4socket_gotPeerCertificate answers from now on (default true: accept). */
void fake_set_peer_cert_verdict(bool accept);
/* True when the certificate given to gotPeerCertificate is exactly these DER bytes. */
bool fake_socket_peer_cert_is(C4Socket *s, const void *der, size_t size);
/* Frees the fake's record of a socket (after dispose). */
void fake_socket_free(C4Socket *s);

/* A function the fake calls inside c4socket_closed (after recording it), on litecore-ws's
 * thread, e.g. to check what may be called from inside a callback. NULL removes it. */
void fake_set_closed_hook(void (*hook)(C4Socket *s));
/* A function the fake calls inside c4socket_received (LiteCore "processing" the message on
 * litecore-ws's thread; it may block). NULL removes it. */
void fake_set_received_hook(void (*hook)(C4Socket *s, size_t size));

/* Buffers handed to write and not yet released through _FLBuf_Release. */
long fake_outstanding_buffers(void);
/* Every log line litecore-ws sent to the sink since the last reset, '\n'-separated. */
const char *fake_captured_log(void);
void fake_reset_log(void);

/* ---- Received messages ---- */

/* How the fake acknowledges received bytes (completedReceive), per socket:
 *   FAKE_ACK_IMMEDIATE (default): from inside c4socket_received, as BLIP does for small frames;
 *   FAKE_ACK_MANUAL: only when the test calls fake_socket_completed_receive. */
enum { FAKE_ACK_IMMEDIATE = 0, FAKE_ACK_MANUAL = 1 };
void fake_socket_set_ack_mode(C4Socket *s, int mode);
/* Echo mode: every received message is written back (from inside c4socket_received). */
void fake_socket_set_echo(C4Socket *s, bool echo);
/* Waits for the next received message; returns a malloc'd copy (caller frees) and its size,
 * or NULL on timeout. Messages are kept only while `keep` is on (default on). */
void *fake_socket_next_message(C4Socket *s, int timeout_ms, size_t *size);
void fake_socket_keep_messages(C4Socket *s, bool keep);
/* Waits until opened was called (1), or closed / the timeout (0). */
int fake_wait_opened(C4Socket *s, int timeout_ms);
/* Seconds on the monotonic clock, for measuring how long something took. */
double fake_now_s(void);

/* Waits until at least `bytes` were acknowledged by completedWrite (1) or the timeout (0). */
int fake_wait_written(C4Socket *s, size_t bytes, int timeout_ms);

/* ---- Incoming sockets (the server role) ----
 * How LiteCore serves a connection a listener accepted: the host calls
 * c4socket_fromNative(factory, native_handle, &peer) (LiteCore's ABI: the factory by value;
 * the result is UNRETAINED, refcount 0, native handle set, marked incoming; with a factory whose
 * `attached` is set, it is called inside fromNative as LiteCore 3.4/4.1 do), then starts a
 * passive replicator on it: fake_passive_start plays that replicator. It retains the socket
 * (c4repl_newWithSocket), then LiteCore calls the factory's open with the address fromNative was
 * given and `options` (both valid only during the call) — from a thread of its own after
 * fake_passive_start returned (FAKE_OPEN_THREAD, as LiteCore does), before it returns
 * (FAKE_OPEN_INLINE), or when the test calls fake_passive_open_now (FAKE_OPEN_LATER).
 * Messages are echoed / kept / acknowledged as on any fake socket. On closed the replicator
 * drops its reference (inside closed, as LiteCore may) and reports Stopped with
 * lcws_connection_report(connection, LCWS_ACTIVITY_STOPPED) from another thread, as its status
 * callback would. fake_socket_free joins those threads. */
enum { FAKE_OPEN_THREAD = 0, FAKE_OPEN_INLINE = 1, FAKE_OPEN_LATER = 2 };
C4Socket *c4socket_fromNative(FakeSocketFactory factory, void *native, const LcwsAddress *address);
/* litecore-ws's factory for incoming sockets (kC4NoFraming), `attached` set when asked. */
FakeSocketFactory fake_lcws_factory(void *context, bool with_attached);
void fake_passive_start(C4Socket *s, LcwsConnection *connection, const void *options, size_t options_size,
                        int mode);
void fake_passive_open_now(C4Socket *s);
/* What the fake knows of a socket's incoming side (a struct of its own: FakeSocketState's layout
 * is mirrored by a ctypes binding). */
typedef struct FakeIncomingState {
    int incoming;        /* made by c4socket_fromNative */
    int open_calls;      /* times the fake called the factory's open (any socket) */
    int attached_calls;  /* times the fake called the factory's attached */
    int stopped_reports; /* the passive replicator reported Stopped (lcws_connection_report) */
    char peer_address[256]; /* "scheme://host:port/path" given to fromNative */
} FakeIncomingState;
FakeIncomingState fake_incoming_state(C4Socket *s);
/* Waits until the passive replicator reported Stopped (1) or the timeout passed (0). */
int fake_wait_stopped_reported(C4Socket *s, int timeout_ms);

/* ---- Peer processes (SG stand-in, TLS front, ...) ---- */

typedef struct FakePeer {
    int pid;
    int stdin_fd;      /* closing it tells the peer to exit */
    char ready[16384]; /* the JSON after "READY " */
    int stdout_fd;     /* fake_peer_start_piped: the peer's stdout; -1 otherwise */
} FakePeer;
/* Starts argv[0] with argv and waits (up to timeout_ms) for a stdout line "READY {json}".
 * Returns 1 on success. */
int fake_peer_start(FakePeer *p, char *const argv[], int timeout_ms);
/* An integer field of the READY JSON (0 when absent). */
long fake_peer_int(const FakePeer *p, const char *key);
/* A string field of the READY JSON copied into out ("" when absent). */
void fake_peer_str(const FakePeer *p, const char *key, char *out, size_t out_size);
void fake_peer_stop(FakePeer *p);
/* Like fake_peer_start, but keeps the peer's stdout for fake_peer_read_line: peers driven line by
 * line over stdin/stdout (tests/peers/ws_client.py). */
int fake_peer_start_piped(FakePeer *p, char *const argv[], int timeout_ms);
/* Writes `line` and a newline to the peer's stdin; 1 on success. */
int fake_peer_send(FakePeer *p, const char *line);
/* Reads the peer's next stdout line (without the newline) into out; 1 on success, 0 on EOF or
 * when no whole line came within timeout_ms. */
int fake_peer_read_line(FakePeer *p, char *out, size_t out_size, int timeout_ms);

/* ---- The database cookie store (c4db_getCookies / c4db_setCookie) ----
 * An in-memory store per `db` pointer that behaves like LiteCore's CookieStore in the ways that
 * matter here: it lower-cases cookie names when storing (so SyncGatewaySession comes back as
 * syncgatewaysession), replaces a cookie of the same name, and answers "n=v; n2=v2". Domain and
 * path matching are not modelled (everything matches). */
void fake_cookies_clear(void);
/* The store's current "n=v; ..." for any db ("" when empty), and how many Set-Cookie it got. */
const char *fake_cookies_text(void);
int fake_cookies_set_calls(void);

/* Sends a small HTTP/1.1 request to 127.0.0.1:port and returns the body (malloc'd, NUL-ended,
 * caller frees) and the status in *status; NULL on failure. `body` may be NULL. */
char *fake_http(uint16_t port, const char *method, const char *path, const char *body, int *status);
/* Extracts a string field from a small JSON text into out ("" when absent). */
void fake_json_str(const char *json, const char *key, char *out, size_t out_size);

/* Test helpers. */
/* A TCP port on 127.0.0.1 with nothing listening (bound to port 0, then closed). */
uint16_t fake_closed_port(void);
/* A TCP port on 127.0.0.1 where connecting hangs: a listener with a full accept queue (Linux
 * drops the SYN). Returns the port; *fds receives two fds to close when done. */
uint16_t fake_blackhole_port(int fds[2]);
/* Reads a whole file; returns a malloc'd buffer (caller frees) or NULL. */
void *fake_read_file(const char *path, size_t *size);

#ifdef __cplusplus
}
#endif
#endif
