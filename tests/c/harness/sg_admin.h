/* Helpers for tests that ask the SG stand-in's admin port what it received and set its test
 * extensions (sessions, users, redirects, extra Set-Cookie). See tests/peers/README.md. */
#ifndef LCWS_SG_ADMIN_H
#define LCWS_SG_ADMIN_H
#include "peer_test.h"

/* Sends a request to the admin port; fails the test on a transport error or an unexpected status
 * class (anything but 2xx when want_ok). Returns the body (caller frees). */
static inline char *sg_admin(uint16_t admin, const char *method, const char *path, const char *body,
                             int want_ok) {
    int status = 0;
    char *out = fake_http(admin, method, path, body, &status);
    if (!out || (want_ok && (status < 200 || status > 299))) {
        fprintf(stderr, "admin %s %s -> %d %s\n", method, path, status, out ? out : "(no answer)");
        exit(1);
    }
    return out;
}

static inline void sg_admin_do(uint16_t admin, const char *method, const char *path, const char *body) {
    free(sg_admin(admin, method, path, body, 1));
}

/* Creates a session for `user` (admin POST /db/_session); the id goes to out (41 bytes). */
static inline void sg_new_session(uint16_t admin, const char *user, char *out, size_t out_size) {
    char body[256];
    snprintf(body, sizeof body, "{\"name\":\"%s\"}", user);
    char *json = sg_admin(admin, "POST", "/db/_session", body, 1);
    fake_json_str(json, "session_id", out, out_size);
    CHECK(out[0] != 0);
    free(json);
}

/* The public port's request log as JSON (caller frees), and clearing it. */
static inline char *sg_requests(uint16_t admin) { return sg_admin(admin, "GET", "/_debug/requests", NULL, 1); }
static inline void sg_clear_requests(uint16_t admin) { sg_admin_do(admin, "DELETE", "/_debug/requests", NULL); }

/* How many requests the log holds. */
static inline int sg_request_count(const char *log) {
    int n = 0;
    for (const char *p = log; (p = strstr(p, "{\"method\":")) != NULL; p++) n++;
    return n;
}

/* Copies the log's record number `index` (from 0) into a new string (caller frees). */
static inline char *sg_request(const char *log, int index) {
    const char *p = log;
    for (int i = 0; i <= index; i++) {
        p = strstr(i ? p + 1 : p, "{\"method\":");
        CHECK(p != NULL);
    }
    const char *end = strstr(p + 1, "{\"method\":");
    size_t n = end ? (size_t)(end - p) : strlen(p);
    char *out = (char *)malloc(n + 1);
    CHECK(out != NULL);
    memcpy(out, p, n);
    out[n] = 0;
    return out;
}

/* True when record `index` of a fresh log has the header line ["name","value"] exactly (the
 * stand-in records names in wire spelling and values trimmed; JSON escaping aside, byte-exact). */
static inline int sg_request_has(uint16_t admin, int index, const char *name, const char *value) {
    char *log = sg_requests(admin);
    char *rec = sg_request(log, index);
    char needle[2048];
    if (value)
        snprintf(needle, sizeof needle, "[\"%s\",\"%s\"]", name, value);
    else
        snprintf(needle, sizeof needle, "[\"%s\",", name);
    int found = strstr(rec, needle) != NULL;
    if (!found && value) fprintf(stderr, "  request %d lacks %s: %s\n", index, needle, rec);
    free(rec);
    free(log);
    return found;
}

/* The outcome of one connection attempt, already finished (closed, released, disposed). */
typedef struct Outcome {
    int opened, http_status, http_calls;
    LcwsError error;
    char message[512];
} Outcome;

/* Opens scheme://host:port<path> with these options; if it opens, closes it with 1000. Checks
 * the contract (one closed, headers before it, no violations). `inspect`, when set, is called
 * before the socket is finished (e.g. to look at the response headers). */
static inline Outcome attempt_ex(const char *scheme, const char *host, uint16_t port, const char *path,
                                 const FlEntry *opts, size_t n, void *db, void (*inspect)(C4Socket *)) {
    size_t size = 0;
    unsigned char *o = fl_encode(opts, n, &size);
    fake_use_lcws_factory(db);
    C4Socket *s = fake_socket_new();
    fake_socket_open(s, scheme, host, port, path, o, size);
    free(o);
    Outcome out;
    memset(&out, 0, sizeof out);
    out.opened = fake_wait_opened(s, 20000);
    if (inspect) inspect(s);
    if (out.opened) fake_socket_request_close(s, 1000, "");
    FakeSocketState st = peer_test_finish(s, 20000);
    fake_use_lcws_factory(NULL);
    out.http_status = st.http_status;
    out.http_calls = st.http_response_calls;
    out.error = st.closed_error;
    snprintf(out.message, sizeof out.message, "%s", st.closed_message);
    CHECK(out.http_calls <= 1);
    return out;
}

static inline Outcome attempt(const char *scheme, const char *host, uint16_t port, const FlEntry *opts,
                              size_t n) {
    return attempt_ex(scheme, host, port, "/db/_blipsync", opts, n, NULL, NULL);
}

/* A file named in a peer's READY line (e.g. the TLS zoo's "client.pem"), read whole. */
typedef struct Blob {
    void *bytes;
    size_t size;
} Blob;

static inline Blob peer_file(const FakePeer *p, const char *name) {
    char path[1024];
    fake_peer_str(p, name, path, sizeof path);
    if (!path[0]) {
        fprintf(stderr, "no file %s in the peer's READY line\n", name);
        exit(1);
    }
    Blob b;
    b.bytes = fake_read_file(path, &b.size);
    CHECK(b.bytes != NULL);
    return b;
}

#define CHECK_OPENED(o)                                                                      \
    do {                                                                                     \
        Outcome o_ = (o);                                                                    \
        if (!o_.opened || o_.http_status != 101 || o_.error.code != 0) {                     \
            fprintf(stderr, "%s:%d: not opened: HTTP %d, {%d, %d} %s\n", __FILE__, __LINE__, \
                    o_.http_status, o_.error.domain, o_.error.code, o_.message);             \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

#define CHECK_FAILED(o, domain_, code_, text)                                                \
    do {                                                                                     \
        Outcome o_ = (o);                                                                    \
        if (o_.opened || o_.error.domain != (domain_) || o_.error.code != (code_) ||         \
            !strstr(o_.message, (text))) {                                                   \
            fprintf(stderr, "%s:%d: want {%d, %d} \"%s\", got opened=%d HTTP %d {%d, %d} %s\n", \
                    __FILE__, __LINE__, (domain_), (code_), (text), o_.opened,               \
                    o_.http_status, o_.error.domain, o_.error.code, o_.message);             \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)
#endif
