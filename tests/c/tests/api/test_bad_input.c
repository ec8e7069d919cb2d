/* Bad input from the host ends in one closed with a clear C4Error, never a crash:
 * malformed Fleece, options of the wrong shape or type, bad addresses. */
#include "check.h"
#include "fake_litecore.h"

static FakeSocketState open_and_wait(const char *scheme, const char *host, uint16_t port,
                                     const char *path, const void *opts, size_t size) {
    C4Socket *s = fake_socket_new();
    fake_socket_open(s, scheme, host, port, path, opts, size);
    CHECK(fake_wait_closed(s, 5000));
    fake_socket_drop(s);
    CHECK(fake_wait_disposed(s, 1000));
    FakeSocketState st = fake_socket_state(s);
    CHECK_EQ_INT(st.closed_calls, 1);
    CHECK_EQ_INT(st.http_response_calls, 0);
    CHECK_NO_VIOLATIONS(st);
    fake_socket_free(s);
    printf("  -> {%d, %d} %s\n", st.closed_error.domain, st.closed_error.code, st.closed_message);
    return st;
}

static void expect(FakeSocketState st, int domain, int code, const char *fragment) {
    CHECK_EQ_INT(st.closed_error.domain, domain);
    CHECK_EQ_INT(st.closed_error.code, code);
    CHECK_CONTAINS(st.closed_message, fragment);
}

int main(int argc, char **argv) {
    CHECK(argc == 2); /* directory holding the decode-only Fleece vectors */
    lcws_set_log_level(5);
    LcwsHostTable t;
    fake_fill_host_table(&t, true);
    CHECK_EQ_INT(lcws_set_host(&t), LCWS_STATUS_OK);
    fake_use_lcws_factory(NULL);
    uint16_t port = fake_closed_port();

    /* Malformed Fleece from the real library's reject list. */
    const char *bad[] = {"odd_length.fleece", "array_count_overrun.fleece", "root_pointer_before_start.fleece",
                         "array_contains_itself.fleece", "all_ff.fleece", "sharedkeys_basic_auth.fleece"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", argv[1], bad[i]);
        size_t size = 0;
        void *data = fake_read_file(path, &size);
        CHECK(data != NULL);
        printf("%s", bad[i]);
        expect(open_and_wait("ws", "127.0.0.1", port, "/db/_blipsync", data, size), 1, 9, "Fleece");
        free(data);
    }

    /* {"cookies": 3}: the right shape, the wrong type. Hand-encoded:
     * "cookies" string @0, dict @8 {key ptr -> 0, value small int 3}, trailer -> 8. */
    static const unsigned char cookies_int[] = {0x47, 'c', 'o', 'o', 'k', 'i', 'e', 's', 0x70, 0x01,
                                                0x80, 0x05, 0x00, 0x03, 0x80, 0x03};
    printf("cookies: 3");
    expect(open_and_wait("ws", "127.0.0.1", port, "/db/_blipsync", cookies_int, sizeof cookies_int), 1, 9,
           "'cookies' must be a string, not integer");

    /* A top-level array instead of a dict: `[]` is the 2 bytes 60 00. */
    static const unsigned char empty_array[] = {0x60, 0x00};
    printf("options = []");
    expect(open_and_wait("ws", "127.0.0.1", port, "/db/_blipsync", empty_array, 2), 1, 9, "must be a dict");

    /* Addresses LiteCore would never send, but a binding might. */
    printf("scheme http");
    expect(open_and_wait("http", "127.0.0.1", port, "/db", NULL, 0), 5, 4, "scheme");
    printf("empty host");
    expect(open_and_wait("ws", "", port, "/db", NULL, 0), 5, 4, "host");
    printf("port 0");
    expect(open_and_wait("ws", "127.0.0.1", 0, "/db", NULL, 0), 5, 4, "port 0");
    printf("path injection");
    expect(open_and_wait("ws", "127.0.0.1", port, "/db\r\nX: 1", NULL, 0), 5, 4, "path");

    /* A NULL address pointer. */
    printf("NULL address");
    C4Socket *s = fake_socket_new();
    lcws_socket_open(s, NULL, (LcwsSlice){NULL, 0}, NULL);
    CHECK(fake_wait_closed(s, 5000));
    FakeSocketState st = fake_socket_state(s);
    printf("  -> {%d, %d} %s\n", st.closed_error.domain, st.closed_error.code, st.closed_message);
    expect(st, 1, 9, "address is NULL");
    fake_socket_drop(s);
    CHECK(fake_wait_disposed(s, 1000));
    fake_socket_free(s);

    /* An unresolvable name (the .invalid TLD never resolves, RFC 6761). */
    printf("unknown host");
    st = open_and_wait("ws", "no-such-host.invalid", 4984, "/db/_blipsync", NULL, 0);
    CHECK_EQ_INT(st.closed_error.domain, 5);
    CHECK(st.closed_error.code == 2 || st.closed_error.code == 1);
    puts("bad_input ok");
    return 0;
}
