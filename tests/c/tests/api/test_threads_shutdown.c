/* Many sockets opened from several threads at once each get exactly one closed; the worker
 * count is fixed; lcws_shutdown refuses inside a callback, stops everything otherwise, and a
 * later open starts the runtime again. */
#include "check.h"
#include "fake_litecore.h"
#include <pthread.h>
#include <stdatomic.h>

#define THREADS 4
#define PER_THREAD 50

static uint16_t g_port;
static C4Socket *g_sockets[THREADS * PER_THREAD];
static atomic_int g_refusals, g_hook_calls;

static void *opener(void *arg) {
    int base = (int)(intptr_t)arg * PER_THREAD;
    for (int i = 0; i < PER_THREAD; i++) {
        C4Socket *s = fake_socket_new();
        g_sockets[base + i] = s;
        fake_socket_open(s, "ws", "127.0.0.1", g_port, "/db/_blipsync", NULL, 0);
    }
    return NULL;
}

static void shutdown_inside_closed(C4Socket *s) {
    (void)s;
    atomic_fetch_add(&g_hook_calls, 1);
    if (lcws_shutdown() == LCWS_STATUS_IN_CALLBACK) atomic_fetch_add(&g_refusals, 1);
}

static void wait_all_and_free(int n) {
    for (int i = 0; i < n; i++) {
        CHECK(fake_wait_closed(g_sockets[i], 10000));
        fake_socket_drop(g_sockets[i]);
        CHECK(fake_wait_disposed(g_sockets[i], 2000));
        FakeSocketState st = fake_socket_state(g_sockets[i]);
        CHECK_EQ_INT(st.closed_calls, 1);
        CHECK_EQ_INT(st.closed_error.code, 19);
        CHECK_NO_VIOLATIONS(st);
        fake_socket_free(g_sockets[i]);
    }
}

int main(void) {
    LcwsHostTable t;
    fake_fill_host_table(&t, true);
    CHECK_EQ_INT(lcws_set_host(&t), LCWS_STATUS_OK);
    fake_use_lcws_factory(NULL);
    g_port = fake_closed_port();
    CHECK(g_port != 0);
    CHECK_EQ_INT(lcws_set_worker_threads(2), LCWS_STATUS_OK);

    pthread_t th[THREADS];
    for (intptr_t i = 0; i < THREADS; i++) CHECK(pthread_create(&th[i], NULL, opener, (void *)i) == 0);
    for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    wait_all_and_free(THREADS * PER_THREAD);
    /* The runtime is running now: its size can no longer change. */
    CHECK_EQ_INT(lcws_set_worker_threads(4), LCWS_STATUS_ALREADY_STARTED);

    /* lcws_shutdown from inside a callback is refused. */
    fake_set_closed_hook(shutdown_inside_closed);
    g_sockets[0] = fake_socket_new();
    fake_socket_open(g_sockets[0], "ws", "127.0.0.1", g_port, "/db/_blipsync", NULL, 0);
    wait_all_and_free(1);
    fake_set_closed_hook(NULL);
    CHECK_EQ_INT(atomic_load(&g_hook_calls), 1);
    CHECK_EQ_INT(atomic_load(&g_refusals), 1);

    /* From an app thread it works, twice in a row, and the runtime restarts on demand. */
    CHECK_EQ_INT(lcws_shutdown(), LCWS_STATUS_OK);
    CHECK_EQ_INT(lcws_shutdown(), LCWS_STATUS_OK);
    CHECK_EQ_INT(lcws_set_worker_threads(1), LCWS_STATUS_OK);
    g_sockets[0] = fake_socket_new();
    fake_socket_open(g_sockets[0], "ws", "127.0.0.1", g_port, "/db/_blipsync", NULL, 0);
    wait_all_and_free(1);

    /* Shutdown with a socket still connecting: it is closed with 1001 GoingAway. */
    int fds[2];
    uint16_t hole = fake_blackhole_port(fds);
    CHECK(hole != 0);
    C4Socket *s = fake_socket_new();
    fake_socket_open(s, "ws", "127.0.0.1", hole, "/db/_blipsync", NULL, 0);
    CHECK_EQ_INT(lcws_shutdown(), LCWS_STATUS_OK);
    CHECK(fake_wait_closed(s, 1000));
    FakeSocketState st = fake_socket_state(s);
    CHECK_EQ_INT(st.closed_calls, 1);
    CHECK_EQ_INT(st.closed_error.domain, 6);
    CHECK_EQ_INT(st.closed_error.code, 1001);
    fake_socket_drop(s);
    CHECK(fake_wait_disposed(s, 1000));
    CHECK_NO_VIOLATIONS(fake_socket_state(s));
    fake_socket_free(s);
    CHECK_EQ_INT(fake_outstanding_buffers(), 0);
    puts("threads_shutdown ok");
    return 0;
}
