/* Many accepts against one listener (8 at a time): litecore-ws's client connects, the listener
 * upgrades, LiteCore (the fake's passive replicator) opens its socket, one message is echoed, one
 * end closes (the client in even cycles, the server in odd ones) — then counting what is left:
 * no file descriptor, thread, socket, connection record or LiteCore buffer may leak, and the
 * resident set may grow only by a bound (plain builds: 4 MiB for 10,000 accepts, about 400 bytes
 * each; ASan and valgrind check memory by themselves). The handshake timeout is 60 s, so that
 * what is held per accept until it runs out counts as growth. Every server socket: exactly one closed (clean), Stopped reported, released,
 * disposed, the incoming-socket contract kept (checked by the fake on every call).
 *
 *   test_fault_listener_cycles COUNT RSS_LIMIT_MIB   (RSS_LIMIT_MIB 0: not checked) */
#define LT_MAX_SOCKETS 16
#include "fault_listener_util.h"

#define BATCH 8

static long g_accepted, g_finished;

/* The client's end: its one closed, clean; LiteCore drops its reference; disposed. */
static void finish_client(C4Socket *s) {
    CHECK(fake_wait_closed(s, 10000));
    CHECK(fake_wait_refcount(s, 1, 5000));
    fake_socket_drop(s);
    CHECK(fake_wait_disposed(s, 5000));
    FakeSocketState st = fake_socket_state(s);
    CHECK_EQ_INT(st.closed_calls, 1);
    CHECK_NO_VIOLATIONS(st);
    FAULT_CHECK_ERROR(st, 0, 0);
    fake_socket_free(s);
}

static void cycle_batch(uint16_t port, long first) {
    C4Socket *cl[BATCH];
    for (int i = 0; i < BATCH; i++) cl[i] = lt_client_nowait("ws", port, "db", NULL, 0, NULL);
    for (int i = 0; i < BATCH; i++) {
        if (!fake_wait_opened(cl[i], 10000)) {
            FakeSocketState st = fake_socket_state(cl[i]);
            fprintf(stderr, "cycle %ld: not opened: HTTP %d, {%d, %d} %s\n", first + i, st.http_status,
                    st.closed_error.domain, st.closed_error.code, st.closed_message);
            exit(1);
        }
        char msg[32];
        int n = snprintf(msg, sizeof msg, "cycle %ld", first + i);
        fake_socket_write(cl[i], msg, (size_t)n);
    }
    CHECK(lt_wait_count(&lt.accepted, BATCH, 10000));
    for (int i = 0; i < BATCH; i++) CHECK(fake_wait_opened(lt_server(i), 10000));
    for (int i = 0; i < BATCH; i++) {
        char msg[32];
        int n = snprintf(msg, sizeof msg, "cycle %ld", first + i);
        size_t size = 0;
        char *m = (char *)fake_socket_next_message(cl[i], 10000, &size);
        CHECK(m != NULL && size == (size_t)n && memcmp(m, msg, size) == 0);
        free(m);
    }
    /* Even cycles: the clients close; odd: LiteCore's side of the listener does. */
    int server_closes = (first / BATCH) % 2;
    for (int i = 0; i < BATCH; i++) {
        if (server_closes) fake_socket_request_close(lt_server(i), 1000, "cycle");
        else fake_socket_request_close(cl[i], 1000, "cycle");
    }
    for (int i = 0; i < BATCH; i++) finish_client(cl[i]);
    for (int i = 0; i < BATCH; i++) {
        FakeSocketState st = lt_finish_server(i, 10000);
        FAULT_CHECK_ERROR(st, 0, 0);
        CHECK_EQ_INT(st.close_requested_calls, server_closes ? 0 : 1);
    }
    g_accepted += lt_count(&lt.accepted);
    g_finished += BATCH;
    lt_forget_finished();
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    long count = atol(argv[1]), rss_limit_mib = atol(argv[2]);
    CHECK(count >= BATCH && count <= 1000000);
    signal(SIGPIPE, SIG_IGN);
    lt_init();
    lt.quiet = true;
    fake_reset_log();
    static int db;
    LcwsListenerConfig c = lt_config();
    /* A long handshake timeout (the clock for LiteCore's open too): anything held per accept
     * until that clock runs out shows as growth, instead of hiding in a short window. */
    c.handshake_timeout_ms = 60000;
    LcwsListener *l = lt_start(&c);
    lt_share(l, "db", &db);
    uint16_t port = lcws_listener_port(l);

    /* Warm-up: the runtime's threads and lazily made state exist from here on. */
    for (int i = 0; i < 4; i++) cycle_batch(port, -BATCH * (i + 1));
    CHECK(lt_wait_status(l, 0, 5000));
    int fds0 = fault_count_fds();
    long threads0 = fault_status_field("Threads"), rss0 = fault_status_field("VmRSS");
    fault_list_fds("before");
    printf("  before: %d fds, %ld threads, RSS %ld KiB\n", fds0, threads0, rss0);

    double t0 = fake_now_s();
    long done = 0;
    while (done < count) {
        cycle_batch(port, done);
        done += BATCH;
        if (done % 2000 == 0 || done == 1000) {
            printf("  %ld accepts, %.1f s, RSS %ld KiB, %d fds, %ld threads\n", done, fake_now_s() - t0,
                   fault_status_field("VmRSS"), fault_count_fds(), fault_status_field("Threads"));
            fflush(stdout);
        }
    }
    double took = fake_now_s() - t0;

    /* The listener forgets a connection just after the host's release returned, and the runtime
     * may still be finishing the last tasks: wait (bounded) for the counts to settle. */
    CHECK(lt_wait_status(l, 0, 5000));
    int fds1;
    long threads1;
    fault_wait_settled(fds0, threads0, &fds1, &threads1);
    long rss1 = fault_status_field("VmRSS");
    fault_list_fds("after");
    printf("  after %ld accepts in %.1f s: %d fds, %ld threads, RSS %ld KiB (%+ld KiB); %ld accepted, %ld "
           "finished; %ld buffers outstanding\n",
           done, took, fds1, threads1, rss1, rss1 - rss0, g_accepted, g_finished, fake_outstanding_buffers());
    CHECK_EQ_INT(g_accepted, g_finished);
    fault_check_buffers_released(5000);
    CHECK(fds1 <= fds0);
    CHECK(threads1 <= threads0);
    if (rss_limit_mib > 0) CHECK(rss1 - rss0 <= rss_limit_mib * 1024);
    /* Not one warning in all those cycles. */
    CHECK_EQ_INT(lf_log_count("closed with error"), 0);
    CHECK_EQ_INT(lt_free(l), LCWS_STATUS_OK);
    lf_check_nothing_left();
    CHECK_EQ_INT(lt_count(&lt.calls_after_free), 0);
    puts("fault_listener_cycles ok");
    return 0;
}
