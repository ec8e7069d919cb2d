/* wss through the listener, litecore-ws's client and the fake LiteCore on both ends; certificates
 * made at test time by the openssl CLI (a CA, a server and a client certificate from it, a rogue
 * self-signed client certificate).
 * Proves:
 *  - the generated identity: lcws_listener_certificate returns its DER; a client pinning it
 *    (`pinnedCert`) replicates, also with Basic auth; a client trusting nothing else fails with a
 *    TLS trust error (Network 8 or 11) and a client pinning another certificate with Network 8,
 *    both without reaching accept;
 *  - a given certificate + key (PEM, and DER): lcws_listener_certificate is that leaf; a client
 *    trusting the CA (`rootCerts`) replicates, with Basic auth too;
 *  - require_client_certs + root_client_certs: a client certificate from that CA gets in; the
 *    rogue certificate or none fails in the TLS handshake (Network 10 or 9), accept not called;
 *  - require_client_certs + check_certificate: the callback sees every client certificate (even
 *    one from no known CA); it accepting lets the client in, it refusing is a TLS alert
 *    (access_denied, which the client reports as Network 10, rejected by peer); no certificate
 *    at all: Network 9 or 10.
 * argv: none (needs the openssl CLI; skipped, code 77, without it) */
#include "listener_test.h"

static const FlEntry basic_ok[] = {FL_S("password", "pw1"), FL_S("type", "Basic"), FL_S("username", "alice")};

/* A client that gets in: echo once, close, finish both ends. */
static void replicate(uint16_t port, const FlEntry *opts, size_t n) {
    C4Socket *cl = lt_client("wss", port, "db", opts, n);
    int i = lt_count(&lt.accepted) - 1;
    fake_socket_write(cl, "hello", 5);
    size_t got = 0;
    char *echo = (char *)fake_socket_next_message(cl, 10000, &got);
    CHECK(echo != NULL && got == 5 && memcmp(echo, "hello", 5) == 0);
    free(echo);
    fake_socket_request_close(cl, 1000, "");
    FakeSocketState st = peer_test_finish(cl, 10000);
    CHECK_EQ_INT(st.closed_error.code, 0);
    CHECK(st.peer_cert_calls == 1);
    CHECK(strncmp(fake_incoming_state(lt_server(i)).peer_address, "wss://127.0.0.1:", 16) == 0);
    lt_finish_server(i, 10000);
}

/* A client that must fail in TLS, without reaching accept. */
static FakeSocketState refused(uint16_t port, const FlEntry *opts, size_t n) {
    int before = lt_count(&lt.accepted);
    FakeSocketState st = lt_client_fails("wss", port, "db", opts, n, NULL);
    CHECK_EQ_INT(st.closed_error.domain, 5);
    CHECK_EQ_INT(st.http_response_calls, 0);
    CHECK_EQ_INT(lt_count(&lt.accepted), before);
    return st;
}

#define CHECK_CLIENT_CERT_ERROR(st)                                                              \
    do {                                                                                         \
        if ((st).closed_error.code != 9 && (st).closed_error.code != 10) {                      \
            fprintf(stderr, "%s:%d: want Network 9 or 10, got %d\n", __FILE__, __LINE__,         \
                    (st).closed_error.code);                                                     \
            exit(1);                                                                             \
        }                                                                                        \
    } while (0)

static LcwsSlice blob_slice(Blob b) {
    LcwsSlice s;
    s.buf = b.bytes;
    s.size = b.size;
    return s;
}

int main(void) {
    char dir[256];
    char version[256];
    char *probe[] = {(char *)"openssl", (char *)"version", NULL};
    if (lt_run(probe, version, sizeof version) != 0) {
        puts("skipped: the openssl CLI is missing (scripts/setup.sh installs it)");
        return 77;
    }
    CHECK(lt_make_certs(dir, sizeof dir));
    Blob ca = lt_file(dir, "ca.pem"), server = lt_file(dir, "server.pem"), server_key = lt_file(dir, "server.key");
    Blob server_der = lt_file(dir, "server.der"), server_key_der = lt_file(dir, "server.key.der");
    Blob client = lt_file(dir, "client.pem"), client_key = lt_file(dir, "client.key");
    Blob rogue = lt_file(dir, "rogue.pem"), rogue_key = lt_file(dir, "rogue.key");
    lt_init();
    lt.password = "pw1";
    static int db;

    /* 1. The generated identity, pinned. */
    LcwsListenerConfig c = lt_config();
    c.disable_tls = false;
    LcwsListener *l = lt_start(&c);
    lt_share(l, "db", &db);
    uint16_t port = lcws_listener_port(l);
    LcwsSlice generated = lcws_listener_certificate(l);
    CHECK(generated.size > 100);
    const FlEntry pinned[] = {FL_D("pinnedCert", generated.buf, generated.size)};
    replicate(port, pinned, 1);
    const FlEntry pinned_basic[] = {FL_DICT_OF("auth", basic_ok), FL_D("pinnedCert", generated.buf, generated.size)};
    replicate(port, pinned_basic, 2); /* no check_password here: Basic credentials are ignored */
    FakeSocketState st = refused(port, NULL, 0);
    CHECK(st.closed_error.code == 8 || st.closed_error.code == 11);
    const FlEntry wrong_pin[] = {FL_D("pinnedCert", server_der.bytes, server_der.size)};
    st = refused(port, wrong_pin, 1);
    CHECK_EQ_INT(st.closed_error.code, 8);
    CHECK_EQ_INT(lcws_listener_free(l), LCWS_STATUS_OK);

    /* 2. The generated identity, pinned, with Basic auth required. */
    c = lt_config();
    c.disable_tls = false;
    c.check_password = lt_check_password;
    l = lt_start(&c);
    lt_share(l, "db", &db);
    port = lcws_listener_port(l);
    generated = lcws_listener_certificate(l);
    const FlEntry pinned_basic2[] = {FL_DICT_OF("auth", basic_ok), FL_D("pinnedCert", generated.buf, generated.size)};
    int checks = lt_count(&lt.password_checks);
    replicate(port, pinned_basic2, 2);
    CHECK_EQ_INT(lt_count(&lt.password_checks), checks + 1);
    const FlEntry pinned_only[] = {FL_D("pinnedCert", generated.buf, generated.size)};
    st = lt_client_fails("wss", port, "db", pinned_only, 1, NULL);
    CHECK_ERROR(st, 6, 401);
    CHECK_EQ_INT(lcws_listener_free(l), LCWS_STATUS_OK);

    /* 3. A given certificate and key, PEM then DER; the client trusts the CA. */
    const FlEntry trust_ca[] = {FL_D("rootCerts", ca.bytes, ca.size)};
    const FlEntry trust_ca_basic[] = {FL_DICT_OF("auth", basic_ok), FL_D("rootCerts", ca.bytes, ca.size)};
    for (int der = 0; der < 2; der++) {
        c = lt_config();
        c.disable_tls = false;
        c.certificate = blob_slice(der ? server_der : server);
        c.private_key = blob_slice(der ? server_key_der : server_key);
        c.check_password = der ? lt_check_password : NULL;
        l = lt_start(&c);
        lt_share(l, "db", &db);
        port = lcws_listener_port(l);
        LcwsSlice cert = lcws_listener_certificate(l);
        CHECK_EQ_INT(cert.size, server_der.size);
        CHECK(memcmp(cert.buf, server_der.bytes, cert.size) == 0);
        if (der)
            replicate(port, trust_ca_basic, 2);
        else
            replicate(port, trust_ca, 1);
        /* Not trusted without the CA. */
        st = refused(port, NULL, 0);
        CHECK(st.closed_error.code == 8 || st.closed_error.code == 11);
        CHECK_EQ_INT(lcws_listener_free(l), LCWS_STATUS_OK);
    }

    /* 4. Client certificates required, from the CA. */
    const FlEntry client_auth[] = {FL_D("clientCert", client.bytes, client.size),
                                   FL_D("clientCertKey", client_key.bytes, client_key.size), FL_S("type", "Client Cert")};
    const FlEntry rogue_auth[] = {FL_D("clientCert", rogue.bytes, rogue.size),
                                  FL_D("clientCertKey", rogue_key.bytes, rogue_key.size), FL_S("type", "Client Cert")};
    const FlEntry with_client[] = {FL_DICT_OF("auth", client_auth), FL_D("rootCerts", ca.bytes, ca.size)};
    const FlEntry with_rogue[] = {FL_DICT_OF("auth", rogue_auth), FL_D("rootCerts", ca.bytes, ca.size)};
    c = lt_config();
    c.disable_tls = false;
    c.certificate = blob_slice(server);
    c.private_key = blob_slice(server_key);
    c.require_client_certs = true;
    c.root_client_certs = blob_slice(ca);
    l = lt_start(&c);
    lt_share(l, "db", &db);
    port = lcws_listener_port(l);
    replicate(port, with_client, 2);
    st = refused(port, with_rogue, 2);
    CHECK_CLIENT_CERT_ERROR(st);
    st = refused(port, trust_ca, 1);
    CHECK_CLIENT_CERT_ERROR(st);
    CHECK_EQ_INT(lcws_listener_free(l), LCWS_STATUS_OK);

    /* 5. Client certificates judged by check_certificate. */
    c = lt_config();
    c.disable_tls = false;
    c.certificate = blob_slice(server);
    c.private_key = blob_slice(server_key);
    c.require_client_certs = true;
    c.check_certificate = lt_check_certificate;
    l = lt_start(&c);
    lt_share(l, "db", &db);
    port = lcws_listener_port(l);
    lt.cert_verdict = true;
    replicate(port, with_rogue, 2); /* the callback alone decides */
    CHECK(lt_count(&lt.cert_checks) >= 1);
    lt.cert_verdict = false;
    int seen = lt_count(&lt.cert_checks);
    st = refused(port, with_client, 2);
    /* The listener refuses with the alert rustls sends for an application's refusal
     * (access_denied: "a valid certificate was received, but access control refused it"),
     * which the client reports as {Network, 10 TLSCertRejectedByPeer}. */
    CHECK_EQ_INT(st.closed_error.domain, 5);
    CHECK_EQ_INT(st.closed_error.code, 10);
    CHECK(lt_count(&lt.cert_checks) > seen);
    st = refused(port, trust_ca, 1);
    CHECK_CLIENT_CERT_ERROR(st);
    CHECK_EQ_INT(lcws_listener_free(l), LCWS_STATUS_OK);

    lt_check_all_finished();
    CHECK_EQ_INT(fake_outstanding_buffers(), 0);
    Blob *all[] = {&ca, &server, &server_key, &server_der, &server_key_der, &client, &client_key, &rogue, &rogue_key};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) free(all[i]->bytes);
    lt_remove_dir(dir);
    puts("listener_tls ok");
    return 0;
}
