/* Flow control through the listener, both directions, the fake LiteCore on both ends: the
 * receiving end acknowledges received bytes (completedReceive) only when the test says so; while
 * LCWS_READ_PAUSE_THRESHOLD bytes are unacknowledged litecore-ws stops reading (nothing more is
 * delivered for 300 ms, checked several times), and acknowledging resumes it. 200 messages of
 * 16 KiB go client -> server (the server socket, made by c4socket_fromNative, pauses) and then
 * server -> client (the client socket pauses); every byte arrives in order and intact, and
 * completedWrite on the sending end adds up to what was written.
 * argv: none */
#include "listener_test.h"

#define COUNT 200
#define SIZE 16384

/* `from` writes COUNT messages; `to` (FAKE_ACK_MANUAL) reads them, acknowledging only at the
 * threshold after checking that nothing more arrives. */
static void flood(C4Socket *from, C4Socket *to, const char *what) {
    fake_socket_set_ack_mode(to, FAKE_ACK_MANUAL);
    for (int k = 0; k < COUNT; k++) {
        unsigned char *m = lt_message(SIZE, (size_t)k);
        fake_socket_write(from, m, SIZE);
        free(m);
    }
    size_t outstanding = 0, max_outstanding = 0;
    int paused_seen = 0;
    for (int k = 0; k < COUNT; k++) {
        if (outstanding >= LCWS_READ_PAUSE_THRESHOLD) {
            if (paused_seen < 3) {
                size_t ignored = 0;
                void *extra = fake_socket_next_message(to, 300, &ignored);
                CHECK(extra == NULL);
            }
            paused_seen++;
            fake_socket_completed_receive(to, outstanding);
            outstanding = 0;
        }
        size_t size = 0;
        unsigned char *m = (unsigned char *)fake_socket_next_message(to, 10000, &size);
        CHECK(m != NULL);
        CHECK_EQ_INT(size, SIZE);
        for (size_t i = 0; i < size; i++) {
            if (m[i] != lt_pattern(i, (size_t)k)) {
                fprintf(stderr, "%s: message %d byte %zu differs\n", what, k, i);
                exit(1);
            }
        }
        free(m);
        outstanding += size;
        if (outstanding > max_outstanding) max_outstanding = outstanding;
    }
    printf("  %s: paused %d times, at most %zu bytes unacknowledged\n", what, paused_seen, max_outstanding);
    CHECK(paused_seen >= 10);
    CHECK(max_outstanding <= LCWS_READ_PAUSE_THRESHOLD + SIZE);
    fake_socket_completed_receive(to, outstanding);
    CHECK(fake_wait_written(from, (size_t)COUNT * SIZE, 10000));
    fake_socket_set_ack_mode(to, FAKE_ACK_IMMEDIATE);
}

int main(void) {
    lt_init();
    lt.echo = false;
    LcwsListenerConfig c = lt_config();
    LcwsListener *l = lt_start(&c);
    static int db;
    lt_share(l, "db", &db);
    uint16_t port = lcws_listener_port(l);

    C4Socket *cl = lt_client("ws", port, "db", NULL, 0);
    C4Socket *sv = lt_server(0);
    CHECK(fake_wait_opened(sv, 10000));
    flood(cl, sv, "client -> server");
    flood(sv, cl, "server -> client");

    fake_socket_request_close(cl, 1000, "");
    FakeSocketState st = peer_test_finish(cl, 10000);
    CHECK_EQ_INT(st.closed_error.code, 0);
    st = lt_finish_server(0, 10000);
    CHECK_EQ_INT(st.closed_error.code, 0);
    CHECK_EQ_INT(lcws_listener_free(l), LCWS_STATUS_OK);
    lt_check_all_finished();
    CHECK_EQ_INT(fake_outstanding_buffers(), 0);
    puts("listener_flow_control ok");
    return 0;
}
