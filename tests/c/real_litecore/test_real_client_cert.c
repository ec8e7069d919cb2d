/*
 * Real LiteCore on both ends, a wss listener (generated identity, pinned by the clients) that
 * requires client certificates: one chaining to the app's CA (`rootClientCerts`) replicates; one
 * from another CA, or none, fails in the TLS handshake with the permanent {Network, 10} / {Network,
 * 9}; a listener that judges certificates with `certAuthCallback` refuses the one it does not
 * like. Certificates are made at test time with the openssl CLI.
 */
#include "real_util.h"

static char dir[600];

/* A CA `name` and a client certificate signed by it, as name-ca.pem, name-client.pem/.key. */
static bool make_pki(const char *name) {
    char ext[700];
    snprintf(ext, sizeof ext, "%s/client.ext", dir);
    FILE *f = fopen(ext, "w");
    if (!f) return false;
    fputs("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n", f);
    fclose(f);
    return real_sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 "
                   "-subj /CN=%s-ca -keyout %s-ca.key -out %s-ca.pem 2>/dev/null",
                   dir, name, name, name) &&
           real_sh("cd %s && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=%s-client "
                   "-keyout %s-client.key -out %s-client.csr 2>/dev/null && "
                   "openssl x509 -req -in %s-client.csr -CA %s-ca.pem -CAkey %s-ca.key -CAcreateserial -days 30 "
                   "-extfile client.ext -out %s-client.pem 2>/dev/null",
                   dir, name, name, name, name, name, name, name);
}

static void *load(const char *name, const char *what, size_t *size) {
    char path[800];
    snprintf(path, sizeof path, "%s/%s-%s", dir, name, what);
    void *buf = real_read_file(path, size);
    if (!buf) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    return buf;
}

static C4Error push(C4Database *db, const char *url, C4Slice server_cert, const char *client) {
    RealRepl r;
    RealReplOptions o;
    memset(&o, 0, sizeof o);
    o.push = kC4OneShot;
    o.pull = kC4Disabled;
    o.max_retries = 0;
    o.pinned_cert = server_cert.buf;
    o.pinned_cert_size = server_cert.size;
    void *cert = NULL, *key = NULL;
    if (client) {
        cert = load(client, "client.pem", &o.client_cert_size);
        key = load(client, "client.key", &o.client_key_size);
        o.client_cert = cert;
        o.client_key = key;
    }
    C4Error e;
    memset(&e, 0, sizeof e);
    if (real_repl_start(&r, db, url, &o)) {
        REAL_CHECK(real_repl_wait_stopped(&r, 60), "did not stop");
        e = r.error;
        c4repl_free(r.repl);
    }
    free(cert);
    free(key);
    return e;
}

/* certAuthCallback: only certificates whose subject names "good" are welcome. */
static bool only_good(LcwsC4Listener *listener, C4Slice der, void *context) {
    (void)listener;
    int *calls = context;
    (*calls)++;
    for (size_t i = 0; i + 4 <= der.size; i++)
        if (memcmp((const char *)der.buf + i, "good", 4) == 0) return true;
    return false;
}

int main(void) {
    c4log_setCallbackLevel(kC4LogWarning);
    lcws_set_log_level(3);
    snprintf(dir, sizeof dir, "%s", real_temp_dir());
    REAL_CHECK(make_pki("good") && make_pki("evil"), "openssl could not make the test certificates");
    if (real_failures) return 1;
    size_t ca_size;
    void *ca = load("good", "ca.pem", &ca_size);

    C4Database *served = real_open_db("served");
    C4Database *client = real_open_db("client");
    real_write_docs(client, "c", 30, 10);

    /* 1. rootClientCerts. */
    LcwsC4ListenerConfig config;
    memset(&config, 0, sizeof config);
    config.networkInterface = real_str("127.0.0.1");
    config.allowPush = true;
    config.allowPull = true;
    config.tlsConfig.requireClientCerts = true;
    config.tlsConfig.rootClientCerts.buf = ca;
    config.tlsConfig.rootClientCerts.size = ca_size;
    LcwsC4Listener *l = real_listener_start_with(served, "served", &config);
    char url[256];
    real_listener_url(l, "served", true, url, sizeof url);
    C4Slice server_cert = lcws_c4listener_getCertificate(l);

    C4Error e = push(client, url, server_cert, "evil");
    REAL_CHECK(e.domain == NetworkDomain && e.code == 10, "a foreign CA's certificate: %s", real_error_text(e));
    e = push(client, url, server_cert, NULL);
    REAL_CHECK(e.domain == NetworkDomain && (e.code == 9 || e.code == 10), "no certificate: %s", real_error_text(e));
    REAL_CHECK(real_doc_count(served) == 0, "documents arrived from a refused client");
    e = push(client, url, server_cert, "good");
    REAL_CHECK(e.code == 0, "the CA's client: %s", real_error_text(e));
    REAL_CHECK(real_doc_count(served) == 30, "served has %llu", (unsigned long long)real_doc_count(served));
    lcws_c4listener_free(l);

    /* 2. certAuthCallback, no roots: any certificate gets to the callback, which decides. */
    int calls = 0;
    memset(&config.tlsConfig, 0, sizeof config.tlsConfig);
    config.tlsConfig.requireClientCerts = true;
    config.tlsConfig.certAuthCallback = only_good;
    config.tlsConfig.tlsCallbackContext = &calls;
    l = real_listener_start_with(served, "served", &config);
    real_listener_url(l, "served", true, url, sizeof url);
    server_cert = lcws_c4listener_getCertificate(l);
    e = push(client, url, server_cert, "evil");
    REAL_CHECK(e.domain == NetworkDomain && e.code == 10, "refused by the callback: %s", real_error_text(e));
    real_write_docs(client, "d", 5, 10);
    e = push(client, url, server_cert, "good");
    REAL_CHECK(e.code == 0, "accepted by the callback: %s", real_error_text(e));
    REAL_CHECK(real_doc_count(served) == 35, "served has %llu", (unsigned long long)real_doc_count(served));
    REAL_CHECK(calls >= 2, "certAuthCallback called %d times", calls);
    lcws_c4listener_free(l);

    free(ca);
    real_close_db(client);
    real_close_db(served);
    real_cleanup();
    printf("client certificates: %s\n", real_failures ? "FAILED" : "ok");
    return real_failures ? 1 : 0;
}
