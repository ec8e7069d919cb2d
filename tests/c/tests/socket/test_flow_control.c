/* Flow control: while LiteCore has not acknowledged received bytes (completedReceive), reading
 * stops once LCWS_READ_PAUSE_THRESHOLD bytes are outstanding; acknowledging resumes it. The
 * peer floods 200 messages of 16 KiB; every byte arrives in order and intact. */
#define _POSIX_C_SOURCE 200809L
#include "peer_test.h"
#include <time.h>

#define COUNT 200
#define SIZE 16384

int main(int argc, char **argv) {
    FakePeer sg;
    uint16_t port = peer_test_start_guest(&sg, argc, argv);

    C4Socket *s = peer_test_open(port);
    fake_socket_set_ack_mode(s, FAKE_ACK_MANUAL);
    peer_test_command(s, "!cmd flood 200 16384");
    size_t received = 0, max_outstanding = 0, outstanding = 0;
    int paused_seen = 0;
    for (int k = 0; k < COUNT; k++) {
        if (outstanding >= LCWS_READ_PAUSE_THRESHOLD) {
            /* litecore-ws must have stopped reading. Check it strictly a few times (nothing
             * arrives within 300 ms), then acknowledge, as BLIP would. */
            if (paused_seen < 3) {
                size_t ignored = 0;
                void *extra = fake_socket_next_message(s, 300, &ignored);
                CHECK(extra == NULL);
            }
            paused_seen++;
            fake_socket_completed_receive(s, outstanding);
            outstanding = 0;
        }
        size_t size = 0;
        unsigned char *m = (unsigned char *)fake_socket_next_message(s, 5000, &size);
        CHECK(m != NULL);
        CHECK_EQ_INT(size, SIZE);
        for (size_t i = 0; i < size; i++) {
            if (m[i] != (unsigned char)(((size_t)k * 31 + i) % 251)) {
                fprintf(stderr, "message %d byte %zu differs\n", k, i);
                return 1;
            }
        }
        free(m);
        received += size;
        outstanding += size;
        if (outstanding > max_outstanding) max_outstanding = outstanding;
    }
    printf("  received %zu bytes, paused %d times, at most %zu bytes unacknowledged\n", received, paused_seen,
           max_outstanding);
    CHECK(paused_seen >= 10);
    CHECK(max_outstanding <= LCWS_READ_PAUSE_THRESHOLD + SIZE);
    fake_socket_completed_receive(s, outstanding);
    fake_socket_request_close(s, 1000, "");
    FakeSocketState st = peer_test_finish(s, 10000);
    CHECK_EQ_INT(st.closed_error.code, 0);
    fake_peer_stop(&sg);
    puts("flow_control ok");
    return 0;
}
