#define _POSIX_C_SOURCE 200809L
/* A server that stops reading (`!cmd freeze ack`) while LiteCore keeps writing: completedWrite
 * stops once the socket buffers are full, so LiteCore's 64 KiB send window stays closed (nothing
 * more is written); then LiteCore's requestClose: the Close frame cannot even be sent, and after
 * the 5 s close timeout the socket ends with one closed {Network, 3 Timeout}. Every buffer is
 * released once, including the ones never sent. */
#include "fault_util.h"

/* The largest value of /proc/sys/net/ipv4/<name> (tcp_wmem / tcp_rmem: min default max). */
static long tcp_mem_max(const char *name) {
    char path[128];
    snprintf(path, sizeof path, "/proc/sys/net/ipv4/%s", name);
    FILE *f = fopen(path, "r");
    long a = 0, b = 0, c = 0;
    if (f) {
        if (fscanf(f, "%ld %ld %ld", &a, &b, &c) != 3) c = 0;
        fclose(f);
    }
    return c;
}

int main(int argc, char **argv) {
    FakePeer sg;
    uint16_t port = peer_test_start_guest(&sg, argc, argv);

    C4Socket *s = peer_test_open(port);
    peer_test_freeze(s);

    /* LiteCore's writer: 16 KiB messages while less than 64 KiB is unacknowledged. Stop when
     * completedWrite has not moved for 1 s (bounded: at most 256 MiB). */
    const size_t window = 64 * 1024, msg = 16 * 1024;
    unsigned char *buf = (unsigned char *)malloc(msg);
    CHECK(buf != NULL);
    fault_fill(buf, 3, msg);
    size_t written = fake_socket_state(s).bytes_written_acked, last_acked = 0;
    double last_progress = fake_now_s();
    int window_full_polls = 0;
    while (written < (size_t)256 << 20) {
        size_t acked = fake_socket_state(s).bytes_written_acked;
        if (acked != last_acked) {
            last_acked = acked;
            last_progress = fake_now_s();
        }
        if (written - acked + msg <= window) {
            fake_socket_write(s, buf, msg);
            written += msg;
            continue;
        }
        window_full_polls++;
        if (fake_now_s() - last_progress > 1.0) break;
        fault_sleep_ms(10);
    }
    free(buf);
    size_t acked = fake_socket_state(s).bytes_written_acked;
    printf("  completedWrite stalled at %zu bytes; %zu written, %zu outstanding\n", acked, written,
           written - acked);
    CHECK(written < (size_t)256 << 20); /* it did stall */
    CHECK(acked > 0 && written > acked);
    CHECK(written - acked <= window); /* LiteCore's window held */
    CHECK(window_full_polls > 0);
    /* completedWrite means "handed to the OS": what was acknowledged fits in our send buffer plus
     * the frozen peer's receive buffer (their kernel maxima), plus frame headers. */
    long os_max = tcp_mem_max("tcp_wmem") + tcp_mem_max("tcp_rmem");
    printf("  kernel socket buffers at most %ld bytes (tcp_wmem + tcp_rmem maxima)\n", os_max);
    if (os_max > 0) CHECK(acked <= (size_t)os_max + 64 * 1024);
    /* Still stalled a moment later. */
    fault_sleep_ms(300);
    CHECK_EQ_INT(fake_socket_state(s).bytes_written_acked, acked);
    CHECK_EQ_INT(fake_socket_state(s).closed_calls, 0);

    double t0 = fake_now_s();
    fake_socket_request_close(s, 1000, "stopping");
    FakeSocketState st = peer_test_finish(s, 12000);
    double took = fake_now_s() - t0;
    printf("  closed after %.2f s\n", took);
    FAULT_CHECK_ERROR(st, 5, 3);
    CHECK(took > 4.5 && took < 7.5);
    fault_check_buffers_released(5000);
    fake_peer_stop(&sg);
    puts("fault_freeze ok");
    return 0;
}
