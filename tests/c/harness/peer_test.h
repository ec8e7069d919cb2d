/* Shared set-up for the C tests that talk to the SG stand-in (tests/peers/sg_standin.py). */
#ifndef LCWS_PEER_TEST_H
#define LCWS_PEER_TEST_H
#include "check.h"
#include "fake_litecore.h"

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

/* Opens ws://127.0.0.1:port/db/_blipsync with the given Fleece options and waits for opened. */
static inline C4Socket *peer_test_open(uint16_t port, const void *opts, size_t opts_size) {
    C4Socket *s = fake_socket_new();
    fake_socket_open(s, "ws", "127.0.0.1", port, "/db/_blipsync", opts, opts_size);
    CHECK(fake_wait_opened(s, 10000));
    return s;
}

/* Sends a stand-in command ("!cmd ...") as one message. */
static inline void peer_test_command(C4Socket *s, const char *cmd) { fake_socket_write(s, cmd, strlen(cmd)); }

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
