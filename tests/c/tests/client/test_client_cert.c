/* Client certificates (auth.type "Client Cert", clientCert + clientCertKey): PEM and DER, P-256,
 * RSA (PKCS#1), Ed25519 keys, a chain through an intermediate, TLS 1.3 and 1.2, against nginx
 * (tests/peers/tls_zoo.py, ssl_verify_client). A server that requires a certificate we do not
 * have → {Network, 9 TLSCertRequiredByPeer}; a server that refuses ours in the handshake
 * (tests/peers/tls_strict.py: OpenSSL with CERT_REQUIRED, as Go's RequireAndVerifyClientCert
 * in Sync Gateway) → {Network, 10 TLSCertRejectedByPeer}. A key that is not the certificate's,
 * or a missing key, fails the open with {LiteCore, 9}.
 * argv: python3 path/to/peers.py */
#include "sg_admin.h"

static FakePeer g_peers;
static Blob g_ca;

static Outcome with_identity(uint16_t port, const Blob *cert, const Blob *key) {
    FlEntry auth[3];
    size_t n = 0;
    auth[n++] = (FlEntry)FL_S("type", "Client Cert");
    if (cert) auth[n++] = (FlEntry)FL_D("clientCert", cert->bytes, cert->size);
    if (key) auth[n++] = (FlEntry)FL_D("clientCertKey", key->bytes, key->size);
    FlEntry opts[3];
    opts[0] = (FlEntry)FL_S("WS-Protocols", PEER_TEST_PROTOCOL);
    opts[1] = (FlEntry)FL_D("rootCerts", g_ca.bytes, g_ca.size);
    FlEntry dict = {"auth", FL_DICT, NULL, 0, 0, auth, n};
    opts[2] = dict;
    return attempt("wss", "localhost", port, opts, 3);
}

static Outcome without_identity(uint16_t port) {
    const FlEntry opts[] = {FL_S("WS-Protocols", PEER_TEST_PROTOCOL), FL_D("rootCerts", g_ca.bytes, g_ca.size)};
    return attempt("wss", "localhost", port, opts, 2);
}

static void start_strict(FakePeer *strict, const char *python, const char *peers_py, int tls12) {
    char script[1024], cert[1024], key[1024], ca[1024], upstream[16];
    snprintf(script, sizeof script, "%s", peers_py);
    char *slash = strrchr(script, '/');
    CHECK(slash != NULL);
    snprintf(slash + 1, sizeof script - (size_t)(slash + 1 - script), "tls_strict.py");
    fake_peer_str(&g_peers, "chain_fullchain.pem", cert, sizeof cert);
    fake_peer_str(&g_peers, "chain.key", key, sizeof key);
    fake_peer_str(&g_peers, "ca.pem", ca, sizeof ca);
    snprintf(upstream, sizeof upstream, "%ld", fake_peer_int(&g_peers, "public"));
    char *argv[] = {(char *)python, script, (char *)"--upstream", upstream, (char *)"--cert", cert,
                    (char *)"--key", key, (char *)"--ca", ca, (char *)"--quiet",
                    tls12 ? (char *)"--tls12" : NULL, NULL};
    CHECK(fake_peer_start(strict, argv, 20000));
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    char *peer_argv[] = {argv[1], argv[2], (char *)"--quiet", (char *)"--zoo", (char *)"--", (char *)"--guest", NULL};
    CHECK(fake_peer_start(&g_peers, peer_argv, 60000));
    peer_test_init();
    g_ca = peer_file(&g_peers, "ca.pem");
    const uint16_t tls13 = (uint16_t)fake_peer_int(&g_peers, "clientauth");
    const uint16_t tls12 = (uint16_t)fake_peer_int(&g_peers, "clientauth12");
    CHECK(tls13 && tls12);
    Blob cert = peer_file(&g_peers, "client.pem"), key = peer_file(&g_peers, "client.key");
    Blob cert_der = peer_file(&g_peers, "client.der"), key_der = peer_file(&g_peers, "client.key.der");
    Blob chain = peer_file(&g_peers, "client_chain.pem"), chain_key = peer_file(&g_peers, "client_chain.key");
    Blob rsa = peer_file(&g_peers, "client_rsa.pem"), rsa_key = peer_file(&g_peers, "client_rsa.key");
    Blob ed = peer_file(&g_peers, "client_ed25519.pem"), ed_key = peer_file(&g_peers, "client_ed25519.key");
    Blob rogue = peer_file(&g_peers, "rogue_client.pem"), rogue_key = peer_file(&g_peers, "rogue_client.key");

    /* Accepted: every key type and encoding, a chain, TLS 1.3 and 1.2. */
    CHECK_OPENED(with_identity(tls13, &cert, &key));
    CHECK_OPENED(with_identity(tls13, &cert_der, &key_der));
    CHECK_OPENED(with_identity(tls13, &chain, &chain_key));
    CHECK_OPENED(with_identity(tls13, &rsa, &rsa_key));
    CHECK_OPENED(with_identity(tls13, &ed, &ed_key));
    CHECK_OPENED(with_identity(tls12, &cert, &key));
    CHECK_OPENED(with_identity(tls12, &rsa, &rsa_key));

    /* Required by the server, none configured. */
    CHECK_FAILED(without_identity(tls13), 5, 9, "certificate");
    CHECK_FAILED(without_identity(tls12), 5, 9, "requires a client certificate");

    /* Refused in the handshake by a strict server (TLS 1.3, then 1.2). */
    FakePeer strict;
    start_strict(&strict, argv[1], argv[2], 0);
    uint16_t sp = (uint16_t)fake_peer_int(&strict, "port");
    CHECK_OPENED(with_identity(sp, &cert, &key));
    CHECK_FAILED(with_identity(sp, &rogue, &rogue_key), 5, 10, "");
    CHECK_FAILED(without_identity(sp), 5, 9, "");
    fake_peer_stop(&strict);
    start_strict(&strict, argv[1], argv[2], 1);
    sp = (uint16_t)fake_peer_int(&strict, "port");
    CHECK_OPENED(with_identity(sp, &cert, &key));
    CHECK_FAILED(with_identity(sp, &rogue, &rogue_key), 5, 10, "refused our client certificate");
    CHECK_FAILED(without_identity(sp), 5, 9, "requires a client certificate");
    fake_peer_stop(&strict);

    /* Bad identities never reach the network. */
    Outcome o = with_identity(tls13, &cert, &rogue_key);
    CHECK_FAILED(o, 1, 9, "do not match");
    CHECK_EQ_INT(o.http_calls, 0);
    CHECK_FAILED(with_identity(tls13, &cert, NULL), 1, 9, "needs both");
    Blob junk = {(void *)"junk", 4};
    CHECK_FAILED(with_identity(tls13, &cert, &junk), 1, 9, "clientCertKey");

    Blob *all[] = {&g_ca, &cert, &key, &cert_der, &key_der, &chain, &chain_key, &rsa, &rsa_key, &ed, &ed_key, &rogue, &rogue_key};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) free(all[i]->bytes);
    fake_peer_stop(&g_peers);
    puts("client_cert ok");
    return 0;
}
