/* The demo behind README's first command: the C harness plays LiteCore, registers litecore-ws
 * and opens sockets, printing what crosses the boundary. Log lines from litecore-ws (secrets
 * masked) are shown as "  [lcws] ...". */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* usleep */
#include "fake_litecore.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void report(C4Socket *s, double t0) {
    if (!fake_wait_closed(s, 20000)) {
        printf("   !! no closed within 20 s\n");
        exit(1);
    }
    fake_wait_refcount(s, 1, 2000);
    fake_socket_drop(s);
    fake_wait_disposed(s, 2000);
    FakeSocketState st = fake_socket_state(s);
    printf("   <- closed({domain %d, code %d}, \"%s\") after %.1f ms; closed calls: %d, disposed: %s, violations: %d\n",
           st.closed_error.domain, st.closed_error.code, st.closed_message, now_ms() - t0, st.closed_calls,
           st.disposed ? "yes" : "no", st.violations);
    fake_socket_free(s);
    if (st.violations || st.closed_calls != 1) exit(1);
}

static void *load(const char *dir, const char *name, size_t *size) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    void *data = fake_read_file(path, size);
    if (!data) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    return data;
}

int main(int argc, char **argv) {
    const char *vectors = argc > 1 ? argv[1] : "tests/data/fleece/encode";
    setvbuf(stdout, NULL, _IONBF, 0); /* interleave with the log lines on stderr */
    setenv("FAKE_LITECORE_ECHO_LOG", "1", 1);
    lcws_set_log_level(2);
    printf("litecore-ws %s demo (the C harness plays LiteCore)\n\n", lcws_version());

    printf("1. Install the host table (LiteCore's c4socket_* functions) and register the factory\n");
    LcwsHostTable t;
    fake_fill_host_table(&t, true);
    if (lcws_set_host(&t) != LCWS_STATUS_OK) return 1;
    fake_use_lcws_factory(NULL);
    printf("   ok: framing kC4NoFraming, close = NULL, requestClose = lcws_socket_request_close\n\n");

    uint16_t closed = fake_closed_port();
    size_t size;
    void *opts = load(vectors, "opts_session_auth.fleece", &size);
    printf("2. open ws://127.0.0.1:%u/db/_blipsync with session-auth options (%zu bytes of real Fleece);\n"
           "   nothing listens there\n", closed, size);
    C4Socket *s = fake_socket_new();
    double t0 = now_ms();
    fake_socket_open(s, "ws", "127.0.0.1", closed, "/db/_blipsync", opts, size);
    free(opts);
    report(s, t0);

    static const unsigned char cookies_int[] = {0x47, 'c', 'o', 'o', 'k', 'i', 'e', 's', 0x70, 0x01,
                                                0x80, 0x05, 0x00, 0x03, 0x80, 0x03};
    printf("\n3. open with options {\"cookies\": 3} (wrong type)\n");
    s = fake_socket_new();
    t0 = now_ms();
    fake_socket_open(s, "ws", "127.0.0.1", closed, "/db/_blipsync", cookies_int, sizeof cookies_int);
    report(s, t0);

    int fds[2];
    uint16_t hole = fake_blackhole_port(fds);
    printf("\n4. open ws://127.0.0.1:%u (connect hangs), then LiteCore's connect timeout: requestClose(504)\n", hole);
    s = fake_socket_new();
    t0 = now_ms();
    fake_socket_open(s, "ws", "127.0.0.1", hole, "/db/_blipsync", NULL, 0);
    usleep(300 * 1000);
    printf("   -> requestClose(504, \"Timed out\")\n");
    fake_socket_request_close(s, 504, "Timed out");
    report(s, t0);
    close(fds[0]);
    close(fds[1]);

    printf("\n5. lcws_shutdown() -> %d (0 = ok)\n", (int)lcws_shutdown());
    printf("\nThis build ends each socket after TCP: the WebSocket upgrade, messages and the Sync Gateway\n"
           "stand-in (ws and wss) are the next milestone.\n");
    return 0;
}
