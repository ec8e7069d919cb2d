/* A LiteCore callback that blocks (here: c4socket_received sleeping 2 s on socket A) stalls only
 * that socket: socket B keeps exchanging messages meanwhile, and A resumes afterwards. */
#define _POSIX_C_SOURCE 200809L
#include "peer_test.h"
#include <stdatomic.h>
#include <time.h>

static C4Socket *volatile g_blocker;
static atomic_int g_blocked_calls;

static void block_a(C4Socket *s, size_t size) {
    (void)size;
    if (s == g_blocker && atomic_fetch_add(&g_blocked_calls, 1) == 0) {
        struct timespec two = {2, 0};
        nanosleep(&two, NULL);
    }
}

int main(int argc, char **argv) {
    FakePeer sg;
    uint16_t port = peer_test_start_guest(&sg, argc, argv);
    C4Socket *a = peer_test_open(port);
    C4Socket *b = peer_test_open(port);
    g_blocker = a;
    fake_set_received_hook(block_a);

    double t0 = fake_now_s();
    fake_socket_write(a, "block me", 8); /* its echo blocks inside received for 2 s */
    while (atomic_load(&g_blocked_calls) == 0) {
        CHECK(fake_now_s() - t0 < 5.0);
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    double start = fake_now_s();
    for (int i = 0; i < 50; i++) {
        char msg[32];
        int n = snprintf(msg, sizeof msg, "b-%d", i);
        fake_socket_write(b, msg, (size_t)n);
        size_t size = 0;
        char *got = (char *)fake_socket_next_message(b, 5000, &size);
        CHECK(got != NULL && size == (size_t)n && memcmp(got, msg, size) == 0);
        free(got);
    }
    double b_took = fake_now_s() - start;
    printf("  50 round trips on B took %.3f s while A's callback was blocked\n", b_took);
    CHECK(b_took < 1.5);
    /* A gets its echo once the callback returns, and keeps working. */
    size_t size = 0;
    char *got = (char *)fake_socket_next_message(a, 5000, &size);
    CHECK(got != NULL && size == 8);
    free(got);
    fake_socket_write(a, "again", 5);
    got = (char *)fake_socket_next_message(a, 5000, &size);
    CHECK(got != NULL && size == 5);
    free(got);
    fake_set_received_hook(NULL);
    fake_socket_request_close(a, 1000, "");
    fake_socket_request_close(b, 1000, "");
    CHECK_EQ_INT(peer_test_finish(a, 10000).closed_error.code, 0);
    CHECK_EQ_INT(peer_test_finish(b, 10000).closed_error.code, 0);
    fake_peer_stop(&sg);
    puts("blocking_host ok");
    return 0;
}
