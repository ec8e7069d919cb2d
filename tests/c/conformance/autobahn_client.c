/* The Autobahn echo client: drives litecore-ws through the fake LiteCore against a fuzzing
 * server (kosoku). For each case it opens /runCase?case=N, echoes every message back (as the
 * same type, through the lcwsMirrorMessageTypes testing option), answers the server's close as
 * LiteCore would, and checks the socket contract (one closed, no violation).
 * usage: autobahn_client PORT FIRST_CASE LAST_CASE */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include <time.h>
#include "fake_litecore.h"

/* {"lcwsMirrorMessageTypes": true}: 22-byte key string @0, dict @24, trailer -> 24. */
static const unsigned char mirror_opts[] = {
    0x4f, 0x16, 'l', 'c', 'w', 's', 'M', 'i', 'r', 'r', 'o', 'r', 'M', 'e', 's', 's', 'a', 'g', 'e', 'T',
    'y', 'p', 'e', 's', 0x70, 0x01, 0x80, 0x0d, 0x38, 0x00, 0x80, 0x03};

static FakeSocketState run(uint16_t port, const char *path, bool echo) {
    C4Socket *s = fake_socket_new();
    fake_socket_keep_messages(s, false);
    fake_socket_set_echo(s, echo);
    fake_socket_open(s, "ws", "127.0.0.1", port, path, mirror_opts, sizeof mirror_opts);
    if (!fake_wait_closed(s, 120000)) {
        fprintf(stderr, "%s: no closed within 120 s\n", path);
        exit(1);
    }
    CHECK(fake_wait_refcount(s, 1, 5000));
    fake_socket_drop(s);
    CHECK(fake_wait_disposed(s, 5000));
    FakeSocketState st = fake_socket_state(s);
    fake_socket_free(s);
    CHECK_EQ_INT(st.closed_calls, 1);
    CHECK_NO_VIOLATIONS(st);
    return st;
}

int main(int argc, char **argv) {
    CHECK(argc == 4);
    uint16_t port = (uint16_t)atoi(argv[1]);
    int first = atoi(argv[2]), last = atoi(argv[3]);
    lcws_set_log_level(5); /* the cases provoke errors on purpose */
    LcwsHostTable t;
    fake_fill_host_table(&t, true);
    CHECK_EQ_INT(lcws_set_host(&t), LCWS_STATUS_OK);
    fake_use_lcws_factory(NULL);
    for (int c = first; c <= last; c++) {
        char path[128];
        snprintf(path, sizeof path, "/runCase?case=%d&agent=litecore-ws", c);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        FakeSocketState st = run(port, path, true);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        printf("case %d: %.0f ms closed {%d, %d} %s\n", c, ms, st.closed_error.domain, st.closed_error.code,
               st.closed_message);
    }
    run(port, "/updateReports?agent=litecore-ws", false);
    CHECK_EQ_INT(fake_outstanding_buffers(), 0);
    return 0;
}
