/* Against the SG stand-in (guest access): the upgrade reports 101 with the server's headers,
 * then messages of 1 B ... 16 MiB are echoed byte-exact, completedWrite adds up to what was
 * written, and requestClose(1000) ends with a clean close (no error).
 * argv: python3 path/to/sg_standin.py */
#include "peer_test.h"

static unsigned char pattern(size_t i, size_t salt) { return (unsigned char)((i * 131 + salt * 7) % 251); }

int main(int argc, char **argv) {
    FakePeer sg;
    uint16_t port = peer_test_start_guest(&sg, argc, argv);

    C4Socket *s = peer_test_open(port);
    FakeSocketState st = fake_socket_state(s);
    CHECK_EQ_INT(st.http_response_calls, 1);
    CHECK_EQ_INT(st.http_status, 101);

    const size_t sizes[] = {1, 2, 125, 126, 127, 65535, 65536, 65537, 1 << 20, 16 * 1024 * 1024};
    size_t total = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t n = sizes[k];
        unsigned char *msg = (unsigned char *)malloc(n);
        CHECK(msg != NULL);
        for (size_t i = 0; i < n; i++) msg[i] = pattern(i, k);
        fake_socket_write(s, msg, n);
        total += n;
        size_t got_size = 0;
        unsigned char *got = (unsigned char *)fake_socket_next_message(s, 20000, &got_size);
        CHECK(got != NULL);
        CHECK_EQ_INT(got_size, n);
        CHECK(memcmp(got, msg, n) == 0);
        free(got);
        free(msg);
        printf("  echoed %zu bytes\n", n);
    }
    CHECK(fake_wait_written(s, total, 5000));
    CHECK_EQ_INT(fake_socket_state(s).bytes_written_acked, total);

    fake_socket_request_close(s, 1000, "done");
    CHECK(fake_wait_closed(s, 10000));
    st = fake_socket_state(s);
    printf("  closed {%d, %d} \"%s\"\n", st.closed_error.domain, st.closed_error.code, st.closed_message);
    CHECK_EQ_INT(st.closed_calls, 1);
    CHECK_EQ_INT(st.closed_error.code, 0);
    CHECK(fake_wait_refcount(s, 1, 2000));
    fake_socket_drop(s);
    CHECK(fake_wait_disposed(s, 2000));
    CHECK_NO_VIOLATIONS(fake_socket_state(s));
    fake_socket_free(s);
    CHECK_EQ_INT(fake_outstanding_buffers(), 0);
    fake_peer_stop(&sg);
    puts("echo ok");
    return 0;
}
