#define _POSIX_C_SOURCE 200809L
/* The server process dies (SIGKILL) in the middle of a transfer, both directions busy: the
 * kernel ends the TCP connection without a Close frame, and the socket ends with exactly one
 * closed {WebSocket, 1006} (abnormal close; LiteCore retries it). Every buffer LiteCore handed
 * to write is released once. */
#include "fault_util.h"
#include <signal.h>

int main(int argc, char **argv) {
    FakePeer sg;
    uint16_t port = peer_test_start_guest(&sg, argc, argv);

    C4Socket *s = peer_test_open(port);
    fake_socket_keep_messages(s, false);
    /* 1.6 GB from the server: still flowing when it is killed, however slow the build. */
    peer_test_command(s, "!cmd flood 100000 16384");
    unsigned char buf[4096];
    fault_fill(buf, 1, sizeof buf);
    /* Wait until the transfer is well under way both ways: 20 messages received and 64 KiB of
     * ours acknowledged by completedWrite (writing within LiteCore's 64 KiB window). Bounded. */
    CHECK(fake_wait_written(s, strlen("!cmd flood 100000 16384"), 5000));
    size_t written = fake_socket_state(s).bytes_written_acked; /* the command's bytes */
    for (int i = 0; i < 4000; i++) {
        FakeSocketState now = fake_socket_state(s);
        if (now.messages_received >= 20 && now.bytes_written_acked >= 64 * 1024) break;
        CHECK_EQ_INT(now.closed_calls, 0);
        if (written - now.bytes_written_acked < 60 * 1024) {
            fake_socket_write(s, buf, sizeof buf);
            written += sizeof buf;
        } else {
            fault_sleep_ms(2);
        }
    }
    FakeSocketState before = fake_socket_state(s);
    CHECK(before.messages_received >= 20 && before.bytes_written_acked >= 64 * 1024);
    CHECK_EQ_INT(before.closed_calls, 0);
    printf("  killing the server (pid %d) after %zu messages received, %zu bytes written (%zu acknowledged)\n",
           sg.pid, before.messages_received, written, before.bytes_written_acked);
    CHECK_EQ_INT(kill(sg.pid, SIGKILL), 0);
    FakeSocketState st = peer_test_finish(s, 15000);
    FAULT_CHECK_ERROR(st, 6, 1006);
    CHECK_EQ_INT(st.close_requested_calls, 0);
    /* The flood was cut short (the count includes at most 4000 echoes of our writes). */
    CHECK(st.messages_received < 100000);
    fault_check_buffers_released(5000);
    fake_peer_stop(&sg);
    puts("fault_kill ok");
    return 0;
}
