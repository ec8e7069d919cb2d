/* Shared set-up for the C tests that talk to the SG stand-in (tests/peers/sg_standin.py). */
#ifndef LCWS_PEER_TEST_H
#define LCWS_PEER_TEST_H
#include "check.h"
#include "fake_litecore.h"
#include "fleece_build.h"

/* Installs the fake LiteCore's host table (with the optional entries) and the factory. */
static inline void peer_test_init(void) {
    LcwsHostTable t;
    fake_fill_host_table(&t, true);
    CHECK_EQ_INT(lcws_set_host(&t), LCWS_STATUS_OK);
    fake_use_lcws_factory(NULL);
}

/* Starts `python3 sg_standin.py --quiet EXTRA...` (argv_in: [python3, sg_standin.py]). */
static inline void peer_test_start_sg(FakePeer *sg, char **argv_in, const char *extra1, const char *extra2) {
    char *argv[8] = {argv_in[0], argv_in[1], (char *)"--quiet", NULL, NULL, NULL};
    int n = 3;
    if (extra1) argv[n++] = (char *)extra1;
    if (extra2) argv[n++] = (char *)extra2;
    CHECK(fake_peer_start(sg, argv, 20000));
}

/* The start of most tests, run as `test python3 sg_standin.py`: starts the stand-in with --guest
 * (no authentication), installs the fake LiteCore and returns the stand-in's public port. */
static inline uint16_t peer_test_start_guest(FakePeer *sg, int argc, char **argv) {
    CHECK(argc == 3);
    peer_test_start_sg(sg, argv + 1, "--guest", NULL);
    uint16_t port = (uint16_t)fake_peer_int(sg, "public");
    CHECK(port != 0);
    peer_test_init();
    return port;
}

/* The PEM CA that signed the TLS front's certificate, as named by the peers' READY line ("ca"),
 * read into memory (for the `rootCerts` option); the caller frees it. */
static inline void *peer_test_read_ca(FakePeer *peers, size_t *size) {
    char path[1024];
    fake_peer_str(peers, "ca", path, sizeof path);
    CHECK(path[0]);
    void *ca = fake_read_file(path, size);
    CHECK(ca != NULL);
    return ca;
}

/* The subprotocol LiteCore 3.x/4.x offers; SG refuses an upgrade without one. */
#define PEER_TEST_PROTOCOL "BLIP_3+CBMobile_3"

/* Opens scheme://host:port/db/_blipsync with {"WS-Protocols": ...} plus `extra` options (at most
 * 8), without waiting for the outcome. */
static inline C4Socket *peer_test_open_nowait(const char *scheme, const char *host, uint16_t port,
                                              const FlEntry *extra, size_t n_extra) {
    FlEntry entries[9];
    FlEntry proto = FL_S("WS-Protocols", PEER_TEST_PROTOCOL);
    entries[0] = proto;
    CHECK(n_extra <= 8);
    for (size_t i = 0; i < n_extra; i++) entries[1 + i] = extra[i];
    size_t size = 0;
    unsigned char *opts = fl_encode(entries, 1 + n_extra, &size);
    C4Socket *s = fake_socket_new();
    fake_socket_open(s, scheme, host, port, "/db/_blipsync", opts, size);
    free(opts);
    return s;
}

/* The same for ws://127.0.0.1:port, waiting for opened (exits the test if it does not come). */
static inline C4Socket *peer_test_open_with(uint16_t port, const FlEntry *extra, size_t n_extra) {
    C4Socket *s = peer_test_open_nowait("ws", "127.0.0.1", port, extra, n_extra);
    if (!fake_wait_opened(s, 10000)) {
        FakeSocketState st = fake_socket_state(s);
        fprintf(stderr, "not opened: HTTP %d, closed {%d, %d}\n", st.http_status, st.closed_error.domain,
                st.closed_error.code);
        exit(1);
    }
    return s;
}

static inline C4Socket *peer_test_open(uint16_t port) { return peer_test_open_with(port, NULL, 0); }

/* Sends a stand-in command ("!cmd ...") as one message. */
static inline void peer_test_command(C4Socket *s, const char *cmd) { fake_socket_write(s, cmd, strlen(cmd)); }

/* Asks the stand-in for its counters of this connection (`!cmd stats`, tests/peers/README.md) and
 * returns the value of `key` ("messages", "pings", ...); exits the test without an answer. */
static inline long peer_test_stat(C4Socket *s, const char *key) {
    peer_test_command(s, "!cmd stats");
    size_t size = 0;
    char *answer = (char *)fake_socket_next_message(s, 5000, &size);
    CHECK(answer != NULL);
    char *json = (char *)malloc(size + 1);
    CHECK(json != NULL);
    memcpy(json, answer, size);
    json[size] = 0;
    free(answer);
    char needle[64];
    snprintf(needle, sizeof needle, "\"%s\":", key);
    const char *at = strstr(json, needle);
    if (!at) fprintf(stderr, "no %s in the stand-in's stats: %s\n", key, json);
    CHECK(at != NULL);
    long value = strtol(at + strlen(needle), NULL, 10);
    free(json);
    return value;
}

/* Tells the stand-in to stop reading (`!cmd freeze ack`) and waits for its "!ok frozen": from then
 * on nothing this socket sends is read, and no Close is answered. */
static inline void peer_test_freeze(C4Socket *s) {
    peer_test_command(s, "!cmd freeze ack");
    size_t size = 0;
    char *ack = (char *)fake_socket_next_message(s, 5000, &size);
    CHECK(ack != NULL && size == 10 && memcmp(ack, "!ok frozen", 10) == 0);
    free(ack);
}

/* Waits for closed, checks the contract, drops LiteCore's reference and returns the record. */
static inline FakeSocketState peer_test_finish(C4Socket *s, int timeout_ms) {
    CHECK(fake_wait_closed(s, timeout_ms));
    CHECK(fake_wait_refcount(s, 1, 2000));
    fake_socket_drop(s);
    CHECK(fake_wait_disposed(s, 2000));
    FakeSocketState st = fake_socket_state(s);
    printf("  closed {%d, %d} \"%s\"\n", st.closed_error.domain, st.closed_error.code, st.closed_message);
    CHECK_EQ_INT(st.closed_calls, 1);
    CHECK_NO_VIOLATIONS(st);
    fake_socket_free(s);
    return st;
}
#endif
