/* Every server-certificate option against real nginx with certificates made at test time
 * (tests/peers/tls_zoo.py): a chain through an intermediate, expired, not yet valid, wrong name,
 * a self-signed CA:TRUE certificate (`openssl req -x509`), an expired self-signed one. Each
 * option is accepted and refused with its exact C4Error, the message naming the certificate; the
 * default anchors are Mozilla's plus the system bundle (SSL_CERT_FILE, LCWS_TLS_ROOTS);
 * gotPeerCertificate gets the leaf's DER and host before gotHTTPResponse, and its `false` aborts
 * with {Network, 8} before anything is sent.
 * argv: python3 path/to/peers.py */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include "sg_admin.h"

static FakePeer g_peers;
static uint16_t g_admin;

static Blob file(const char *name) { return peer_file(&g_peers, name); }

static uint16_t port(const char *variant) {
    long p = fake_peer_int(&g_peers, variant);
    CHECK(p > 0);
    return (uint16_t)p;
}

/* wss://localhost:<variant>/db/_blipsync with WS-Protocols plus `opts`. */
static Outcome go(const char *variant, const FlEntry *opts, size_t n) {
    FlEntry all[8];
    size_t k = 0;
    all[k++] = (FlEntry)FL_S("WS-Protocols", PEER_TEST_PROTOCOL);
    for (size_t i = 0; i < n; i++) all[k++] = opts[i];
    return attempt("wss", "localhost", port(variant), all, k);
}

static Blob g_chain_der;
static void leaf_delivered_first(C4Socket *s) {
    FakeSocketState st = fake_socket_state(s);
    CHECK_EQ_INT(st.peer_cert_calls, 1);
    CHECK(strcmp(st.peer_cert_host, "localhost") == 0);
    CHECK(fake_socket_peer_cert_is(s, g_chain_der.bytes, g_chain_der.size));
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    char *peer_argv[] = {argv[1], argv[2], (char *)"--quiet", (char *)"--zoo", (char *)"--", (char *)"--guest", NULL};
    CHECK(fake_peer_start(&g_peers, peer_argv, 60000));
    g_admin = (uint16_t)fake_peer_int(&g_peers, "admin");
    char ca_path[1024];
    fake_peer_str(&g_peers, "ca.pem", ca_path, sizeof ca_path);
    setenv("SSL_CERT_FILE", ca_path, 1); /* read once, at the first TLS connection */
    peer_test_init();

    Blob ca = file("ca.pem"), inter = file("intermediate.pem"), selfsigned = file("selfsigned.pem"),
         selfsigned_der = file("selfsigned.der"), pubkey_pem = file("chain_pubkey.pem"),
         pubkey_der = file("chain_pubkey.der"), expired_pem = file("expired.pem"),
         selfsigned_expired = file("selfsigned_expired.pem");
    g_chain_der = file("chain.der");
    const FlEntry roots_ca[] = {FL_D("rootCerts", ca.bytes, ca.size)};

    /* rootCerts: the chain through the intermediate; gotPeerCertificate sees the leaf first. */
    FlEntry all[] = {FL_S("WS-Protocols", PEER_TEST_PROTOCOL), FL_D("rootCerts", ca.bytes, ca.size)};
    CHECK_OPENED(attempt_ex("wss", "localhost", port("chain"), "/db/_blipsync", all, 2, NULL, leaf_delivered_first));
    /* The same trusted by the IP in its SAN. */
    CHECK_OPENED(attempt("wss", "127.0.0.1", port("chain"), all, 2));

    /* Default trust: Mozilla's roots do not know the test CA (unknown root); the system bundle
     * (here SSL_CERT_FILE = the test CA, set before the first TLS connection) does. Both is the
     * default. */
    setenv("LCWS_TLS_ROOTS", "webpki", 1);
    Outcome o = go("chain", NULL, 0);
    CHECK_FAILED(o, 5, 11, "does not chain to a trusted root");
    CHECK_EQ_INT(o.http_calls, 0);
    setenv("LCWS_TLS_ROOTS", "system", 1);
    CHECK_OPENED(go("chain", NULL, 0));
    unsetenv("LCWS_TLS_ROOTS");
    CHECK_OPENED(go("chain", NULL, 0));
    setenv("LCWS_TLS_ROOTS", "webpki", 1); /* the cases below want the test CA unknown by default */
    /* Expired, not yet valid, wrong name. */
    CHECK_FAILED(go("expired", roots_ca, 1), 5, 7, "expired on");
    CHECK_FAILED(go("notyet", roots_ca, 1), 5, 8, "not valid before");
    CHECK_FAILED(go("wrongname", roots_ca, 1), 5, 15, "not valid for localhost");

    /* The app says no in gotPeerCertificate: untrusted, and nothing reached the server. */
    sg_clear_requests(g_admin);
    fake_set_peer_cert_verdict(false);
    CHECK_FAILED(go("chain", roots_ca, 1), 5, 8, "the app refused");
    fake_set_peer_cert_verdict(true);
    char *log = sg_requests(g_admin);
    CHECK_EQ_INT(sg_request_count(log), 0);
    free(log);

    /* A self-signed CA:TRUE certificate as its own root. */
    const FlEntry own[] = {FL_D("rootCerts", selfsigned.bytes, selfsigned.size)};
    CHECK_OPENED(go("selfsigned", own, 1));
    CHECK_FAILED(go("selfsigned", NULL, 0), 5, 11, "self-signed");
    CHECK_FAILED(go("selfsigned", roots_ca, 1), 5, 11, "self-signed");

    /* onlySelfSignedServer: the self-signed one (no hostname check: via 127.0.0.1 too), not a
     * CA-issued one, not an expired one. */
    const FlEntry only_ss[] = {FL_B("onlySelfSignedServer", 1)};
    CHECK_OPENED(go("selfsigned", only_ss, 1));
    FlEntry only_ss_all[] = {FL_S("WS-Protocols", PEER_TEST_PROTOCOL), FL_B("onlySelfSignedServer", 1)};
    CHECK_OPENED(attempt("wss", "127.0.0.1", port("selfsigned"), only_ss_all, 2));
    CHECK_FAILED(go("chain", only_ss, 1), 5, 8, "onlySelfSignedServer");
    CHECK_FAILED(go("selfsigned_expired", only_ss, 1), 5, 7, "expired on");

    /* pinnedCert: the leaf (DER), an intermediate of the chain (PEM), the leaf's public key (PEM
     * and DER); no CA needed. A different certificate, or an expired pinned one, is refused. */
    const FlEntry pin_leaf[] = {FL_D("pinnedCert", g_chain_der.bytes, g_chain_der.size)};
    CHECK_OPENED(go("chain", pin_leaf, 1));
    const FlEntry pin_inter[] = {FL_D("pinnedCert", inter.bytes, inter.size)};
    CHECK_OPENED(go("chain", pin_inter, 1));
    const FlEntry pin_key_pem[] = {FL_D("pinnedCert", pubkey_pem.bytes, pubkey_pem.size)};
    CHECK_OPENED(go("chain", pin_key_pem, 1));
    const FlEntry pin_key_der[] = {FL_D("pinnedCert", pubkey_der.bytes, pubkey_der.size)};
    CHECK_OPENED(go("chain", pin_key_der, 1));
    const FlEntry pin_ss[] = {FL_D("pinnedCert", selfsigned_der.bytes, selfsigned_der.size)};
    CHECK_OPENED(go("selfsigned", pin_ss, 1));
    CHECK_FAILED(go("chain", pin_ss, 1), 5, 8, "does not match pinnedCert");
    const FlEntry pin_expired[] = {FL_D("pinnedCert", expired_pem.bytes, expired_pem.size)};
    CHECK_FAILED(go("expired", pin_expired, 1), 5, 7, "expired on");
    const FlEntry pin_junk[] = {FL_D("pinnedCert", "junk", 4)};
    CHECK_FAILED(go("chain", pin_junk, 1), 1, 9, "pinnedCert");
    const FlEntry pin_ss_exp[] = {FL_D("pinnedCert", selfsigned_expired.bytes, selfsigned_expired.size)};
    CHECK_FAILED(go("selfsigned_expired", pin_ss_exp, 1), 5, 7, "expired on");

    /* acceptAllCerts: anything, with a loud warning. */
    fake_reset_log();
    const FlEntry all_certs[] = {FL_B("acceptAllCerts", 1)};
    CHECK_OPENED(go("expired", all_certs, 1));
    CHECK_OPENED(go("wrongname", all_certs, 1));
    CHECK_CONTAINS(fake_captured_log(), "acceptAllCerts");

    free(ca.bytes); free(inter.bytes); free(selfsigned.bytes); free(selfsigned_der.bytes);
    free(pubkey_pem.bytes); free(pubkey_der.bytes); free(expired_pem.bytes); free(selfsigned_expired.bytes);
    free(g_chain_der.bytes);
    fake_peer_stop(&g_peers);
    puts("tls_trust ok");
    return 0;
}
