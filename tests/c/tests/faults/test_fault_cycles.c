#define _POSIX_C_SOURCE 200809L
/* Many open / echo / close cycles against the stand-in (8 sockets at a time), then counting
 * what is left: no file descriptor, thread, socket or LiteCore buffer may leak, and the
 * resident set may grow only by a bound (plain builds; ASan and valgrind check memory by
 * themselves).
 *
 *   test_fault_cycles PYTHON SG_STANDIN COUNT RSS_LIMIT_MIB   (RSS_LIMIT_MIB 0: not checked) */
#include "fault_util.h"

#define BATCH 8

static long g_created, g_disposed;

static void cycle_batch(uint16_t port, int first) {
    C4Socket *s[BATCH];
    for (int i = 0; i < BATCH; i++) {
        s[i] = peer_test_open_nowait("ws", "127.0.0.1", port, NULL, 0);
        g_created++;
    }
    for (int i = 0; i < BATCH; i++) {
        if (!fake_wait_opened(s[i], 10000)) {
            FakeSocketState st = fake_socket_state(s[i]);
            fprintf(stderr, "cycle %d: not opened: {%d, %d} %s\n", first + i, st.closed_error.domain,
                    st.closed_error.code, st.closed_message);
            exit(1);
        }
        char msg[32];
        int n = snprintf(msg, sizeof msg, "cycle %d", first + i);
        fake_socket_write(s[i], msg, (size_t)n);
    }
    for (int i = 0; i < BATCH; i++) {
        char msg[32];
        int n = snprintf(msg, sizeof msg, "cycle %d", first + i);
        size_t size = 0;
        char *m = (char *)fake_socket_next_message(s[i], 10000, &size);
        CHECK(m != NULL && size == (size_t)n && memcmp(m, msg, size) == 0);
        free(m);
        fake_socket_request_close(s[i], 1000, "cycle");
    }
    for (int i = 0; i < BATCH; i++) {
        CHECK(fake_wait_closed(s[i], 10000));
        CHECK(fake_wait_refcount(s[i], 1, 5000));
        fake_socket_drop(s[i]);
        CHECK(fake_wait_disposed(s[i], 5000));
        FakeSocketState st = fake_socket_state(s[i]);
        CHECK_EQ_INT(st.closed_calls, 1);
        CHECK_NO_VIOLATIONS(st);
        FAULT_CHECK_ERROR(st, 0, 0);
        fake_socket_free(s[i]);
        g_disposed++;
    }
}

int main(int argc, char **argv) {
    CHECK(argc == 5);
    long count = atol(argv[3]), rss_limit_mib = atol(argv[4]);
    CHECK(count >= BATCH && count <= 1000000);
    FakePeer sg;
    peer_test_start_sg(&sg, argv + 1, "--guest", NULL);
    uint16_t port = (uint16_t)fake_peer_int(&sg, "public");
    peer_test_init();

    /* Warm-up: the runtime's threads and lazily made state exist from here on. */
    for (int i = 0; i < 4; i++) cycle_batch(port, -BATCH * (i + 1));
    int fds0 = fault_count_fds();
    long threads0 = fault_status_field("Threads"), rss0 = fault_status_field("VmRSS");
    fault_list_fds("before");
    printf("  before: %d fds, %ld threads, RSS %ld KiB\n", fds0, threads0, rss0);

    double t0 = fake_now_s();
    long done = 0;
    while (done < count) {
        cycle_batch(port, (int)done);
        done += BATCH;
        if (done % 2000 == 0) {
            printf("  %ld cycles, %.1f s, RSS %ld KiB, %d fds\n", done, fake_now_s() - t0, fault_status_field("VmRSS"),
                   fault_count_fds());
            fflush(stdout);
        }
    }
    double took = fake_now_s() - t0;

    /* The runtime may still be finishing the last tasks: wait (bounded) for the counts to settle. */
    int fds1;
    long threads1;
    fault_wait_settled(fds0, threads0, &fds1, &threads1);
    long rss1 = fault_status_field("VmRSS");
    fault_list_fds("after");
    printf("  after %ld cycles in %.1f s: %d fds, %ld threads, RSS %ld KiB (%+ld KiB); sockets %ld made, %ld "
           "disposed; %ld buffers outstanding\n",
           done, took, fds1, threads1, rss1, rss1 - rss0, g_created, g_disposed, fake_outstanding_buffers());
    CHECK_EQ_INT(g_created, g_disposed);
    fault_check_buffers_released(5000);
    CHECK(fds1 <= fds0); /* a lower count only means a warm-up socket was still closing */
    CHECK(threads1 <= threads0);
    if (rss_limit_mib > 0) CHECK(rss1 - rss0 <= rss_limit_mib * 1024);
    fake_peer_stop(&sg);
    puts("fault_cycles ok");
    return 0;
}
