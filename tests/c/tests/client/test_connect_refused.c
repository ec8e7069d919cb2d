/* An open to a closed local port ends in exactly one closed({Network, 19 ConnectionRefused}),
 * with the message from c4error_make (opts_everything names the network interface "en0", which
 * Linux machines do not have: {Network, 27 UnknownInterface}; where it exists, its proxy
 * "proxy.local" does not resolve: {Network, 2 UnknownHost} naming it, or 1 where there is no
 * resolver at all), no HTTP response, no opened; the socket is released
 * after closed and disposed when LiteCore drops its own reference. Options come from the real
 * Fleece vectors (argv[1] = directory of the encode/ vectors). */
#include "check.h"
#include "fake_litecore.h"

static void run(const char *vector_dir, const char *name, uint16_t port) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", vector_dir, name);
    size_t size = 0;
    void *opts = fake_read_file(path, &size);
    CHECK(opts != NULL);
    C4Socket *s = fake_socket_new();
    fake_socket_open(s, "ws", "127.0.0.1", port, "/db/_blipsync", opts, size);
    free(opts);
    CHECK(fake_wait_closed(s, 10000));
    FakeSocketState st = fake_socket_state(s);
    CHECK_EQ_INT(st.closed_calls, 1);
    CHECK_EQ_INT(st.closed_error.domain, 5);
    if (strcmp(name, "opts_everything.fleece") == 0) {
        if (st.closed_error.code == 27) {
            CHECK_CONTAINS(st.closed_message, "networkInterface \"en0\"");
        } else {
            CHECK(st.closed_error.code == 2 || st.closed_error.code == 1);
            CHECK_CONTAINS(st.closed_message, "HTTP proxy proxy.local:");
        }
    } else {
        CHECK_EQ_INT(st.closed_error.code, 19);
        CHECK_CONTAINS(st.closed_message, "127.0.0.1");
    }
    CHECK_EQ_INT(st.http_response_calls, 0);
    CHECK_EQ_INT(st.opened_calls, 0);
    /* litecore-ws releases its reference after closed returned: only LiteCore's is left. */
    CHECK(fake_wait_refcount(s, 1, 1000));
    CHECK(!fake_socket_state(s).disposed);
    fake_socket_drop(s);
    CHECK(fake_wait_disposed(s, 1000));
    st = fake_socket_state(s);
    CHECK_EQ_INT(st.closed_calls, 1);
    CHECK_NO_VIOLATIONS(st);
    fake_socket_free(s);
    printf("  %s: closed {%d, %d} \"%s\"\n", name, st.closed_error.domain, st.closed_error.code, st.closed_message);
}

int main(int argc, char **argv) {
    CHECK(argc == 2);
    LcwsHostTable t;
    fake_fill_host_table(&t, true);
    CHECK_EQ_INT(lcws_set_host(&t), LCWS_STATUS_OK);
    fake_use_lcws_factory(NULL);
    uint16_t port = fake_closed_port();
    CHECK(port != 0);
    const char *vectors[] = {"opts_basic_auth.fleece", "opts_session_auth.fleece", "opts_openid_headers.fleece",
                             "opts_certs.fleece", "opts_everything.fleece", "empty_dict.fleece"};
    for (size_t i = 0; i < sizeof vectors / sizeof *vectors; i++) run(argv[1], vectors[i], port);
    CHECK_EQ_INT(fake_outstanding_buffers(), 0);
    /* The options carry passwords and tokens: none reached the log. */
    const char *log = fake_captured_log();
    CHECK(strstr(log, "12345") == NULL);
    puts("connect_refused ok");
    return 0;
}
