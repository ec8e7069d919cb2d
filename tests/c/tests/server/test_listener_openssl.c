/* The listener's TLS, seen by a real TLS client: `openssl s_client`. Certificates made at test
 * time by the openssl CLI (see lt_make_certs).
 * Proves:
 *  - with the generated identity, TLS 1.2 and TLS 1.3 handshakes complete and the certificate
 *    the server presents is exactly the DER lcws_listener_certificate returns;
 *  - with a given certificate, s_client verifies it against the CA for `localhost`
 *    (Verify return code: 0) over TLS 1.2 and 1.3;
 *  - require_client_certs without a client certificate: the server sends a TLS alert (TLS 1.2:
 *    the handshake fails; TLS 1.3: after the client's Finished); with a certificate from
 *    root_client_certs the handshake completes and verifies;
 *  - no TLS connection reaches LiteCore (accept never called).
 * argv: none (needs the openssl CLI; skipped, code 77, without it) */
#include "listener_test.h"

static char g_dir[256];

/* Runs s_client against the port with `extra` options (stdin /dev/null, at most 20 s), saving
 * what it printed in out and the first certificate it printed in DIR/seen.der. Returns
 * s_client's exit status. */
static int s_client(uint16_t port, const char *extra, char *out, size_t out_size) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && rm -f seen.txt seen.der; timeout 20 openssl s_client -connect 127.0.0.1:%u "
             "-servername localhost %s </dev/null >seen.txt 2>&1; rc=$?; "
             "openssl x509 -in seen.txt -outform DER -out seen.der >/dev/null 2>&1; cat seen.txt; exit $rc",
             g_dir, port, extra);
    int rc = lt_sh(cmd, out, out_size);
    printf("  s_client %s -> exit %d\n", extra, rc);
    return rc;
}

static void check_presented(LcwsSlice want) {
    Blob seen = lt_file(g_dir, "seen.der");
    CHECK_EQ_INT(seen.size, want.size);
    CHECK(memcmp(seen.bytes, want.buf, want.size) == 0);
    free(seen.bytes);
}

static LcwsSlice blob_slice(Blob b) {
    LcwsSlice s;
    s.buf = b.bytes;
    s.size = b.size;
    return s;
}

#define CHECK_HANDSHAKE(out, version)                                                             \
    do {                                                                                          \
        CHECK_CONTAINS(out, "New, " version ", Cipher is");                                     \
        if (strstr(out, "alert")) {                                                               \
            fprintf(stderr, "unexpected alert:\n%s\n", out);                                      \
            exit(1);                                                                              \
        }                                                                                         \
    } while (0)

int main(void) {
    char version[256];
    char *probe[] = {(char *)"openssl", (char *)"version", NULL};
    if (lt_run(probe, version, sizeof version) != 0) {
        puts("skipped: the openssl CLI is missing (scripts/setup.sh installs it)");
        return 77;
    }
    CHECK(lt_make_certs(g_dir, sizeof g_dir));
    Blob server = lt_file(g_dir, "server.pem"), server_key = lt_file(g_dir, "server.key");
    Blob server_der = lt_file(g_dir, "server.der"), ca = lt_file(g_dir, "ca.pem");
    lt_init();
    static int db;
    static char out[65536];

    /* 1. The generated identity. */
    LcwsListenerConfig c = lt_config();
    c.disable_tls = false;
    LcwsListener *l = lt_start(&c);
    lt_share(l, "db", &db);
    uint16_t port = lcws_listener_port(l);
    LcwsSlice generated = lcws_listener_certificate(l);
    CHECK_EQ_INT(s_client(port, "-tls1_2", out, sizeof out), 0);
    CHECK_HANDSHAKE(out, "TLSv1.2");
    check_presented(generated);
    CHECK_EQ_INT(s_client(port, "-tls1_3", out, sizeof out), 0);
    CHECK_HANDSHAKE(out, "TLSv1.3");
    check_presented(generated);
    CHECK_EQ_INT(lcws_listener_free(l), LCWS_STATUS_OK);

    /* 2. A given certificate, verified against its CA. */
    c = lt_config();
    c.disable_tls = false;
    c.certificate = blob_slice(server);
    c.private_key = blob_slice(server_key);
    l = lt_start(&c);
    lt_share(l, "db", &db);
    port = lcws_listener_port(l);
    CHECK_EQ_INT(s_client(port, "-tls1_2 -CAfile ca.pem -verify_return_error -verify_hostname localhost", out,
                          sizeof out), 0);
    CHECK_HANDSHAKE(out, "TLSv1.2");
    CHECK_CONTAINS(out, "Verify return code: 0 (ok)");
    check_presented(blob_slice(server_der));
    CHECK_EQ_INT(s_client(port, "-tls1_3 -CAfile ca.pem -verify_return_error -verify_hostname localhost", out,
                          sizeof out), 0);
    CHECK_HANDSHAKE(out, "TLSv1.3");
    CHECK_CONTAINS(out, "Verify return code: 0 (ok)");
    CHECK_EQ_INT(lcws_listener_free(l), LCWS_STATUS_OK);

    /* 3. Client certificates required. */
    c.require_client_certs = true;
    c.root_client_certs = blob_slice(ca);
    l = lt_start(&c);
    lt_share(l, "db", &db);
    port = lcws_listener_port(l);
    CHECK(s_client(port, "-tls1_2 -CAfile ca.pem", out, sizeof out) != 0);
    CHECK_CONTAINS(out, "alert");
    /* TLS 1.3: the alert follows the client's Finished; -ign_eof keeps s_client reading. */
    s_client(port, "-tls1_3 -CAfile ca.pem -ign_eof", out, sizeof out);
    CHECK_CONTAINS(out, "alert certificate required");
    CHECK_EQ_INT(s_client(port, "-tls1_2 -CAfile ca.pem -verify_return_error -cert client.pem -key client.key", out,
                          sizeof out), 0);
    CHECK_HANDSHAKE(out, "TLSv1.2");
    CHECK_EQ_INT(s_client(port, "-tls1_3 -CAfile ca.pem -verify_return_error -cert client.pem -key client.key", out,
                          sizeof out), 0);
    CHECK_HANDSHAKE(out, "TLSv1.3");
    CHECK_EQ_INT(lcws_listener_free(l), LCWS_STATUS_OK);

    CHECK_EQ_INT(lt_count(&lt.accepted), 0);
    free(server.bytes);
    free(server_key.bytes);
    free(server_der.bytes);
    free(ca.bytes);
    lt_remove_dir(g_dir);
    puts("listener_openssl ok");
    return 0;
}
