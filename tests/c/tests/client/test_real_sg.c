/* Against a real Sync Gateway, when one is given:
 *   LCWS_TEST_SG_URL       ws[s]://host[:port]/db   (required, else the test is skipped)
 *   LCWS_TEST_SG_USER / LCWS_TEST_SG_PASSWORD       Basic credentials (optional: guest)
 *   LCWS_TEST_SG_CA        PEM file to trust for wss (optional: default roots)
 * Upgrades with the subprotocols LiteCore 3.x/4.x offer, checks SG's 101 (subprotocol chosen),
 * then closes cleanly. Exits 77 ("skipped" for ctest) without LCWS_TEST_SG_URL. */
#include "peer_test.h"

int main(void) {
    const char *url = getenv("LCWS_TEST_SG_URL");
    if (!url || !*url) {
        puts("skipped: set LCWS_TEST_SG_URL=ws[s]://host:port/db (and LCWS_TEST_SG_USER/_PASSWORD/_CA) to run");
        return 77;
    }
    char scheme[8] = "", host[256] = "", db[256] = "";
    unsigned port = 0;
    const char *rest = strstr(url, "://");
    CHECK(rest != NULL && rest - url < (long)sizeof scheme);
    memcpy(scheme, url, (size_t)(rest - url));
    rest += 3;
    const char *slash = strchr(rest, '/');
    CHECK(slash != NULL && (size_t)(slash - rest) < sizeof host);
    memcpy(host, rest, (size_t)(slash - rest));
    snprintf(db, sizeof db, "%s", slash + 1);
    char *colon = strrchr(host, ':');
    if (colon) {
        *colon = 0;
        port = (unsigned)atoi(colon + 1);
    } else {
        port = strcmp(scheme, "wss") == 0 ? 443 : 80;
    }
    char path[512];
    snprintf(path, sizeof path, "/%s/_blipsync", db);

    FlEntry entries[3];
    size_t n = 0;
    FlEntry proto = FL_S("WS-Protocols", "BLIP_3+CBMobile_4,BLIP_3+CBMobile_3,BLIP_3+CBMobile_2");
    entries[n++] = proto;
    const char *user = getenv("LCWS_TEST_SG_USER"), *password = getenv("LCWS_TEST_SG_PASSWORD");
    FlEntry auth[3] = {FL_S("type", "Basic"), FL_S("username", user ? user : ""), FL_S("password", password ? password : "")};
    if (user && password) {
        FlEntry a = {"auth", FL_DICT, NULL, 0, 0, auth, 3};
        entries[n++] = a;
    }
    size_t ca_size = 0;
    void *ca = getenv("LCWS_TEST_SG_CA") ? fake_read_file(getenv("LCWS_TEST_SG_CA"), &ca_size) : NULL;
    if (ca) {
        FlEntry c = FL_D("rootCerts", ca, ca_size);
        entries[n++] = c;
    }
    size_t size = 0;
    unsigned char *opts = fl_encode(entries, n, &size);
    peer_test_init();
    C4Socket *s = fake_socket_new();
    printf("  %s://%s:%u%s as %s\n", scheme, host, port, path, user ? user : "guest");
    fake_socket_open(s, scheme, host, (uint16_t)port, path, opts, size);
    free(opts);
    free(ca);
    if (!fake_wait_opened(s, 20000)) {
        FakeSocketState st = peer_test_finish(s, 20000);
        fprintf(stderr, "not opened: HTTP %d\n", st.http_status);
        return 1;
    }
    CHECK_EQ_INT(fake_socket_state(s).http_status, 101);
    CHECK(fake_socket_headers_contain(s, "BLIP_3+CBMobile_"));
    fake_socket_request_close(s, 1000, "");
    CHECK_EQ_INT(peer_test_finish(s, 10000).closed_error.code, 0);
    puts("real_sg ok");
    return 0;
}
