/*
 * `litecore-ws check` against litecore-ws's listener serving a real LiteCore database: over ws,
 * over wss with the generated identity pinned (`--pinned-cert`), with Basic credentials (right:
 * exit 0; wrong: exit 1 naming HTTP 401), and for an unknown database (exit 1, 404).
 *
 * Usage: test_real_check path/to/litecore-ws
 */
#include "real_util.h"

#include <sys/wait.h>

static const char *cli;

/* Runs the check with `args`; returns its exit status and leaves its output in `out`. */
static int check(const char *args, char *out, size_t size) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s check %s 2>&1", cli, args);
    printf("+ %s\n", cmd);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, size - 1, p);
    out[n] = 0;
    int status = pclose(p);
    printf("%s", out);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: test_real_check path/to/litecore-ws\n");
        return 2;
    }
    cli = argv[1];
    c4log_setCallbackLevel(kC4LogWarning);
    lcws_set_log_level(3);
    C4Database *served = real_open_db("served");
    static char out[65536];
    char args[1024], url[256];

    /* ws, no authentication. */
    LcwsC4Listener *l = real_listener_start(served, "served", false, NULL);
    real_listener_url(l, "served", false, url, sizeof url);
    snprintf(args, sizeof args, "%s --json", url);
    REAL_CHECK(check(args, out, sizeof out) == 0, "ws check failed");
    REAL_CHECK(strstr(out, "BLIP_3+CBMobile_3") != NULL, "no subprotocol in the report");
    real_listener_url(l, "nosuchdb", false, url, sizeof url);
    REAL_CHECK(check(url, out, sizeof out) == 1, "unknown database passed");
    REAL_CHECK(strstr(out, "404") != NULL, "no 404 in the report");
    lcws_c4listener_free(l);

    /* wss with the generated identity pinned, and Basic. */
    l = real_listener_start(served, "served", true, "s3cret");
    real_listener_url(l, "served", true, url, sizeof url);
    C4Slice cert = lcws_c4listener_getCertificate(l);
    char cert_path[700];
    snprintf(cert_path, sizeof cert_path, "%s/listener.der", real_temp_dir());
    FILE *f = fopen(cert_path, "wb");
    REAL_CHECK(f && fwrite(cert.buf, 1, cert.size, f) == cert.size, "cannot write %s", cert_path);
    if (f) fclose(f);
    snprintf(args, sizeof args, "%s --pinned-cert %s --user alice --password s3cret", url, cert_path);
    REAL_CHECK(check(args, out, sizeof out) == 0, "wss check with the right password failed");
    snprintf(args, sizeof args, "%s --pinned-cert %s --user alice --password wrong", url, cert_path);
    REAL_CHECK(check(args, out, sizeof out) == 1, "wss check with a wrong password passed");
    REAL_CHECK(strstr(out, "401") != NULL, "no 401 in the report");
    REAL_CHECK(strstr(out, "wrong") == NULL, "the password reached the report");
    lcws_c4listener_free(l);

    real_close_db(served);
    real_cleanup();
    printf("check against the listener: %s\n", real_failures ? "FAILED" : "ok");
    return real_failures ? 1 : 0;
}
