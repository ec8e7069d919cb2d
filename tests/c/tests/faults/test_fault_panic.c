/* A panic inside a socket's task (forced by the test-only LCWS_TEST_PANIC, set by ctest) still
 * ends the socket in exactly one `closed`, with {LiteCore, 10 UnexpectedError} and a log line
 * naming the panic; the socket is released and unregistered, so lcws_shutdown then succeeds.
 *   LCWS_TEST_PANIC=start: before connecting (LiteCore never hears `opened`);
 *   LCWS_TEST_PANIC=open:  right after `opened`, against the SG stand-in.
 * argv: python3 path/to/sg_standin.py */
#include "peer_test.h"

int main(int argc, char **argv) {
    const char *stage = getenv("LCWS_TEST_PANIC");
    CHECK(stage != NULL);
    bool after_open = strcmp(stage, "open") == 0;
    FakePeer sg;
    uint16_t port = peer_test_start_guest(&sg, argc, argv);
    fake_reset_log();

    C4Socket *s = peer_test_open_nowait("ws", "127.0.0.1", port, NULL, 0);
    CHECK(fake_wait_closed(s, 10000));
    FakeSocketState st = fake_socket_state(s);
    printf("  opened %d, closed %d x {%d, %d} \"%s\"\n", st.opened_calls, st.closed_calls, st.closed_error.domain,
           st.closed_error.code, st.closed_message);
    CHECK_EQ_INT(st.opened_calls, after_open ? 1 : 0);
    CHECK_EQ_INT(st.closed_calls, 1);
    CHECK_EQ_INT(st.closed_error.domain, 1);
    CHECK_EQ_INT(st.closed_error.code, 10);
    CHECK(strstr(st.closed_message, "internal error") != NULL);
    CHECK(strstr(fake_captured_log(), "panic") != NULL);
    CHECK(strstr(fake_captured_log(), "LCWS_TEST_PANIC") != NULL);
    /* Released after closed (the fake's own reference is the one left), then disposed. */
    CHECK(fake_wait_refcount(s, 1, 2000));
    fake_socket_drop(s);
    CHECK(fake_wait_disposed(s, 2000));
    CHECK_NO_VIOLATIONS(fake_socket_state(s));
    fake_socket_free(s);
    /* Nothing is left open: shutdown stops the runtime at once. */
    CHECK_EQ_INT(lcws_shutdown(), LCWS_STATUS_OK);
    fake_peer_stop(&sg);
    printf("fault_panic (%s) ok\n", stage);
    return 0;
}
