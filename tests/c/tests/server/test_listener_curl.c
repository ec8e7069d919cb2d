/* HTTP refusals of the listener, seen by a real HTTP client: curl. None of these requests reaches
 * LiteCore (accept is never called).
 * Proves:
 *  - GET /db/_blipsync without Upgrade → 426 with `Upgrade: websocket`;
 *  - POST → 405 with `Allow: GET`;
 *  - an unknown path (/, /db/nothing) → 404; an unknown database in a full upgrade → 404;
 *  - a full upgrade with a wrong or no Basic password → 401 with `WWW-Authenticate: Basic`;
 *  - HTTP/1.0 → 400;
 *  - a head over max_request_head_bytes → 431;
 *  - an absolute-form target (GET http://127.0.0.1:port/db/_blipsync) is routed like the
 *    origin form (426 without Upgrade, 404 for an unknown database);
 *  - every answer carries the configured `Server` header.
 * argv: none (needs curl; skipped, code 77, without it) */
#include "listener_test.h"

#include <stdarg.h>

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="

/* Runs curl -s -i with these arguments (NULL-terminated) and returns the HTTP status of the
 * answer (0 when there was none); the output goes to out. */
static int curl(char *out, size_t out_size, const char *first, ...) {
    char *argv[40];
    int n = 0;
    argv[n++] = (char *)"curl";
    argv[n++] = (char *)"-s";
    argv[n++] = (char *)"-i";
    argv[n++] = (char *)"--max-time";
    argv[n++] = (char *)"20";
    argv[n++] = (char *)"--noproxy";
    argv[n++] = (char *)"*";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a; a = va_arg(ap, const char *)) {
        CHECK(n < 38);
        argv[n++] = (char *)a;
    }
    va_end(ap);
    argv[n] = NULL;
    int rc = lt_run(argv, out, out_size);
    int status = 0;
    if (strncmp(out, "HTTP/", 5) == 0) sscanf(out, "HTTP/%*s %d", &status);
    printf("  curl ... %s -> exit %d, HTTP %d\n", argv[n - 1], rc, status);
    if (!status) fprintf(stderr, "%s\n", out);
    return status;
}

#define UPGRADE "-H", "Connection: Upgrade", "-H", "Upgrade: websocket", "-H", "Sec-WebSocket-Version: 13", \
                "-H", "Sec-WebSocket-Key: " KEY, "-H", "Sec-WebSocket-Protocol: " LT_PROTOCOL

int main(void) {
    char version[256];
    char *probe[] = {(char *)"curl", (char *)"--version", NULL};
    if (lt_run(probe, version, sizeof version) != 0) {
        puts("skipped: curl is missing (scripts/setup.sh installs it)");
        return 77;
    }
    lt_init();
    lt.password = "pw1";
    static int db;
    LcwsListenerConfig c = lt_config();
    c.check_password = lt_check_password;
    c.max_request_head_bytes = 4096;
    c.server_name = lt_slice("lcws-test-server");
    LcwsListener *l = lt_start(&c);
    lt_share(l, "db", &db);
    char base[64], url[128], abs_target[128], abs_unknown[128];
    snprintf(base, sizeof base, "http://127.0.0.1:%u", lcws_listener_port(l));
    snprintf(url, sizeof url, "%s/db/_blipsync", base);
    snprintf(abs_target, sizeof abs_target, "%s/db/_blipsync", base);
    snprintf(abs_unknown, sizeof abs_unknown, "%s/nosuchdb/_blipsync", base);
    static char out[65536];

    CHECK_EQ_INT(curl(out, sizeof out, url, NULL), 426);
    CHECK_CONTAINS(out, "Upgrade: websocket");
    CHECK_CONTAINS(out, "Server: lcws-test-server");

    CHECK_EQ_INT(curl(out, sizeof out, "-X", "POST", "--data", "x", url, NULL), 405);
    CHECK_CONTAINS(out, "Allow: GET");

    char root[80], other[96];
    snprintf(root, sizeof root, "%s/", base);
    snprintf(other, sizeof other, "%s/db/nothing", base);
    CHECK_EQ_INT(curl(out, sizeof out, UPGRADE, root, NULL), 404);
    CHECK_EQ_INT(curl(out, sizeof out, UPGRADE, other, NULL), 404);
    char unknown[96];
    snprintf(unknown, sizeof unknown, "%s/nosuchdb/_blipsync", base);
    CHECK_EQ_INT(curl(out, sizeof out, UPGRADE, "-u", "alice:pw1", unknown, NULL), 404);
    CHECK_CONTAINS(out, "no such database");

    CHECK_EQ_INT(curl(out, sizeof out, UPGRADE, "-u", "alice:wrong", url, NULL), 401);
    CHECK_CONTAINS(out, "WWW-Authenticate: Basic");
    CHECK_EQ_INT(curl(out, sizeof out, UPGRADE, url, NULL), 401);
    CHECK_CONTAINS(out, "WWW-Authenticate: Basic");
    CHECK_EQ_INT(lt_count(&lt.password_checks), 1);

    CHECK_EQ_INT(curl(out, sizeof out, "--http1.0", UPGRADE, url, NULL), 400);
    CHECK_CONTAINS(out, "not HTTP/1.1");

    static char big[8200];
    memcpy(big, "X-Big: ", 7);
    memset(big + 7, 'a', sizeof big - 8);
    big[sizeof big - 1] = 0;
    CHECK_EQ_INT(curl(out, sizeof out, "-H", big, UPGRADE, url, NULL), 431);
    CHECK_CONTAINS(out, "Request Header Fields Too Large");

    CHECK_EQ_INT(curl(out, sizeof out, "--request-target", abs_target, url, NULL), 426);
    CHECK_EQ_INT(curl(out, sizeof out, "--request-target", abs_unknown, UPGRADE, url, NULL), 404);
    CHECK_CONTAINS(out, "no such database");

    CHECK_EQ_INT(lt_count(&lt.accepted), 0);
    CHECK_EQ_INT(lcws_listener_free(l), LCWS_STATUS_OK);
    CHECK_EQ_INT(fake_outstanding_buffers(), 0);
    puts("listener_curl ok");
    return 0;
}
