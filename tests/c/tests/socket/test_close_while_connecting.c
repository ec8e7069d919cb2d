#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* usleep */
/* requestClose while the TCP connect is still pending aborts it at once: exactly one closed,
 * never opened. A normal status gives a clean close; LiteCore's 504 connect timeout gives
 * {Network, 3 Timeout}; an app code is passed on in the WebSocket domain. */
#include "check.h"
#include "fake_litecore.h"
#include <unistd.h>

static void run(uint16_t port, int status, int domain, int code) {
    C4Socket *s = fake_socket_new();
    fake_socket_open(s, "ws", "127.0.0.1", port, "/db/_blipsync", NULL, 0);
    /* The connect hangs (full accept queue); give the actor time to start it. */
    usleep(200 * 1000);
    CHECK_EQ_INT(fake_socket_state(s).closed_calls, 0);
    double t0 = fake_now_s();
    fake_socket_request_close(s, status, "stop");
    fake_socket_request_close(s, status, "again"); /* a duplicate must not hurt */
    CHECK(fake_wait_closed(s, 3000));
    double took = fake_now_s() - t0;
    fake_socket_drop(s);
    CHECK(fake_wait_disposed(s, 1000));
    FakeSocketState st = fake_socket_state(s);
    printf("  status %d -> {%d, %d} \"%s\" after %.3f s\n", status, st.closed_error.domain,
           st.closed_error.code, st.closed_message, took);
    CHECK_EQ_INT(st.closed_calls, 1);
    CHECK_EQ_INT(st.opened_calls, 0);
    CHECK_EQ_INT(st.closed_error.domain, domain);
    CHECK_EQ_INT(st.closed_error.code, code);
    CHECK(took < 1.0);
    CHECK_NO_VIOLATIONS(st);
    fake_socket_free(s);
}

int main(void) {
    LcwsHostTable t;
    fake_fill_host_table(&t, true);
    CHECK_EQ_INT(lcws_set_host(&t), LCWS_STATUS_OK);
    fake_use_lcws_factory(NULL);
    int fds[2];
    uint16_t port = fake_blackhole_port(fds);
    CHECK(port != 0);
    run(port, 1000, 0, 0);
    run(port, 504, 5, 3);
    run(port, 4002, 6, 4002);
    close(fds[0]);
    close(fds[1]);
    puts("close_while_connecting ok");
    return 0;
}
