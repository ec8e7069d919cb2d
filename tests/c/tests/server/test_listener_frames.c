/* The listener's WebSocket framing against an independent client, tests/peers/ws_client.py:
 * Python `websockets` (a correct client) and a raw-socket client that writes frames byte by byte.
 * The server side is the fake LiteCore (c4socket_fromNative + passive replicator), which records
 * what it receives and checks the incoming-socket contract on every call.
 * Proves:
 *  - masking: the client's masked frames are read; a frame sent UNMASKED ends the connection with
 *    Close 1002 (the server socket's closed is {WebSocket, 1002}); the server never masks (the
 *    raw client reports any masked frame);
 *  - fragmentation: a message in 5 frames (websockets) or in 2 frames with a Ping between them
 *    (raw; the Ping answered at once) arrives as ONE received;
 *  - text messages reach LiteCore as their UTF-8 bytes; server -> client messages are binary and
 *    byte-exact;
 *  - ping from the client → pong with the same payload;
 *  - the server's heartbeat (heartbeat_seconds 1): an idle client gets Pings; one that answers
 *    stays (websockets answers: still open after 3 s); one that stops answering is dropped after
 *    the pong timeout and LiteCore hears {Network, 3 Timeout};
 *  - close codes both ways: the client's Close 1000 → closeRequested(1000), echoed, closed clean;
 *    the client's Close 4001 → closed {WebSocket, 4001}; the listener side's requestClose(4002)
 *    → the client sees Close 4002 with the reason;
 *  - bad frames: RSV1 set, reserved opcodes 0x3 and 0xB → Close 1002; invalid UTF-8 in a text
 *    message → Close 1007; a frame announcing 16 MiB + 1 bytes → Close 1009 — each with the
 *    server socket closed with that code, nothing bad delivered to LiteCore;
 *  - a request target in absolute form (GET http://host:port/db/_blipsync) is upgraded; LiteCore
 *    hears the path.
 * argv: python3 path/to/ws_client.py */
#include "listener_test.h"

#include <stdarg.h>

static FakePeer g_client;
static int g_next_server;

/* Sends one command to ws_client.py and returns its answer (static buffer). */
static const char *cmd(const char *fmt, ...) {
    static char line[4096], out[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    CHECK(fake_peer_send(&g_client, line));
    if (!fake_peer_read_line(&g_client, out, sizeof out, 60000)) {
        fprintf(stderr, "ws_client.py did not answer \"%s\"\n", line);
        exit(1);
    }
    printf("  %s -> %s\n", strncmp(line, "frame", 5) == 0 || strlen(line) < 80 ? line : "(long)", out);
    return out;
}

#define EXPECT(answer, want)                                                                     \
    do {                                                                                         \
        const char *a_ = (answer);                                                               \
        if (strncmp(a_, (want), strlen(want)) != 0) {                                            \
            fprintf(stderr, "%s:%d: want \"%s...\", got \"%s\"\n", __FILE__, __LINE__, (want), a_); \
            exit(1);                                                                             \
        }                                                                                        \
    } while (0)

/* A new connection of `kind` ("connect" or "raw") and its server socket, opened. */
static C4Socket *open_client(const char *kind, uint16_t port, const char *extra) {
    EXPECT(cmd("%s ws://127.0.0.1:%u/db/_blipsync %s%s", kind, port, LT_PROTOCOL, extra), "OPEN " LT_PROTOCOL);
    C4Socket *sv = lt_server(g_next_server++);
    CHECK(fake_wait_opened(sv, 10000));
    return sv;
}

/* The server socket's next received message must be `want`. */
static void expect_received(C4Socket *sv, const void *want, size_t n) {
    size_t got = 0;
    void *m = fake_socket_next_message(sv, 20000, &got);
    CHECK(m != NULL);
    CHECK_EQ_INT(got, n);
    CHECK(memcmp(m, want, n) == 0);
    free(m);
}

/* A raw connection that sends one bad frame: the client sees Close `code`, the server socket is
 * closed with {WebSocket, code}, and LiteCore received nothing. */
static void bad_frame(uint16_t port, const char *frame_cmd, int code) {
    C4Socket *sv = open_client("raw", port, "");
    int index = g_next_server - 1;
    EXPECT(cmd("%s", frame_cmd), "SENT");
    char want[32];
    snprintf(want, sizeof want, "CLOSED %d", code);
    EXPECT(cmd("recv 10"), want);
    FakeSocketState st = lt_finish_server(index, 10000);
    (void)sv;
    CHECK_ERROR(st, 6, code);
    CHECK_EQ_INT(st.messages_received, 0);
}

int main(int argc, char **argv) {
    CHECK(argc == 3);
    char *peer_argv[] = {argv[1], argv[2], (char *)"--quiet", NULL};
    CHECK(fake_peer_start_piped(&g_client, peer_argv, 20000));
    lt_init();
    lt.echo = false;
    static int db;
    LcwsListenerConfig c = lt_config();
    LcwsListener *l = lt_start(&c);
    lt_share(l, "db", &db);
    uint16_t port = lcws_listener_port(l);

    /* 1. websockets: messages, fragments, ping, the client's Close 1000. */
    C4Socket *sv = open_client("connect", port, "");
    EXPECT(cmd("send binary 100000 5"), "SENT");
    unsigned char *m = lt_message(100000, 5);
    expect_received(sv, m, 100000);
    free(m);
    EXPECT(cmd("send text h\xc3\xa9llo w\xc3\xb6rld"), "SENT");
    expect_received(sv, "h\xc3\xa9llo w\xc3\xb6rld", 13);
    EXPECT(cmd("fragments 5 300000 7"), "SENT");
    m = lt_message(300000, 7);
    expect_received(sv, m, 300000);
    free(m);
    CHECK_EQ_INT(fake_socket_state(sv).messages_received, 3);
    m = lt_message(200000, 9);
    fake_socket_write(sv, m, 200000);
    char want[64];
    snprintf(want, sizeof want, "MSG binary 200000 %08x", lt_fnv1a(m, 200000));
    free(m);
    EXPECT(cmd("recv 10"), want);
    EXPECT(cmd("ping hello there"), "PONG hello there");
    EXPECT(cmd("close 1000 bye"), "CLOSED 1000");
    FakeSocketState st = lt_finish_server(0, 10000);
    CHECK_EQ_INT(st.close_requested_calls, 1);
    CHECK_EQ_INT(st.closed_error.code, 0);

    /* 2. The listener side closes with 4002. */
    sv = open_client("connect", port, "");
    fake_socket_request_close(sv, 4002, "go away");
    EXPECT(cmd("recv 10"), "CLOSED 4002 go away");
    st = lt_finish_server(1, 10000);
    CHECK_EQ_INT(st.closed_error.code, 0);

    /* 3. The client closes with 4001. */
    sv = open_client("connect", port, "");
    EXPECT(cmd("close 4001 later"), "CLOSED 4001");
    st = lt_finish_server(2, 10000);
    CHECK_EQ_INT(st.close_requested_calls, 1);
    CHECK_ERROR(st, 6, 4001);
    CHECK_CONTAINS(st.closed_message, "later");

    /* 4. Raw: masked frames read, server frames unmasked, a Ping inside a fragmented message,
     *    then an unmasked frame → 1002. */
    sv = open_client("raw", port, "");
    fake_socket_write(sv, "abc", 3);
    snprintf(want, sizeof want, "MSG binary 3 %08x", lt_fnv1a("abc", 3));
    EXPECT(cmd("recv 10"), want);
    EXPECT(cmd("frame 1 0 2 1 text:hi"), "SENT");
    expect_received(sv, "hi", 2);
    EXPECT(cmd("frame 0 0 1 1 text:hel"), "SENT");
    EXPECT(cmd("frame 1 0 9 1 text:mid"), "SENT");
    EXPECT(cmd("frame 1 0 0 1 text:lo"), "SENT");
    EXPECT(cmd("recv 10"), "PONG hex:6d6964");
    expect_received(sv, "hello", 5);
    EXPECT(cmd("frame 1 0 2 0 text:unmasked"), "SENT");
    EXPECT(cmd("recv 10"), "CLOSED 1002");
    st = lt_finish_server(3, 10000);
    CHECK_ERROR(st, 6, 1002);
    CHECK_EQ_INT(st.messages_received, 2);

    /* 5. Bad frames. */
    bad_frame(port, "frame 1 4 2 1 text:rsv1", 1002);
    bad_frame(port, "frame 1 0 3 1 text:op3", 1002);
    bad_frame(port, "frame 1 0 11 1 text:opB", 1002);
    bad_frame(port, "frame 1 0 1 1 hex:c328", 1007);
    bad_frame(port, "announce 2 16777217", 1009);

    /* 6. Absolute-form request target. */
    sv = open_client("raw", port, " absolute");
    CHECK(strstr(fake_incoming_state(sv).peer_address, "/db/_blipsync") != NULL);
    EXPECT(cmd("frame 1 0 2 1 text:abs"), "SENT");
    expect_received(sv, "abs", 3);
    EXPECT(cmd("close 1000"), "CLOSED 1000");
    st = lt_finish_server(g_next_server - 1, 10000);
    CHECK_EQ_INT(st.closed_error.code, 0);
    CHECK_EQ_INT(lcws_listener_free(l), LCWS_STATUS_OK);

    /* 7. Heartbeat every second. */
    c = lt_config();
    c.heartbeat_seconds = 1;
    l = lt_start(&c);
    lt_share(l, "db", &db);
    port = lcws_listener_port(l);
    sv = open_client("raw", port, "");
    const char *ping = cmd("recv 10");
    EXPECT(ping, "PING hex:");
    char pong[256];
    snprintf(pong, sizeof pong, "frame 1 0 10 1 %s", strlen(ping + 5) > 4 ? ping + 5 : "-");
    EXPECT(cmd("%s", pong), "SENT");
    EXPECT(cmd("recv 10"), "PING hex:"); /* idle again: another Ping; this one is not answered */
    EXPECT(cmd("recv 10"), "EOF");
    st = lt_finish_server(g_next_server - 1, 10000);
    CHECK_ERROR(st, 5, 3);
    /* websockets answers the Pings: still open after three heartbeats. */
    sv = open_client("connect", port, "");
    EXPECT(cmd("recv 3.5"), "TIMEOUT");
    CHECK_EQ_INT(fake_socket_state(sv).closed_calls, 0);
    EXPECT(cmd("send binary 10 1"), "SENT");
    m = lt_message(10, 1);
    expect_received(sv, m, 10);
    free(m);
    EXPECT(cmd("close 1000"), "CLOSED 1000");
    st = lt_finish_server(g_next_server - 1, 10000);
    CHECK_EQ_INT(st.closed_error.code, 0);
    CHECK_EQ_INT(lcws_listener_free(l), LCWS_STATUS_OK);

    CHECK(fake_peer_send(&g_client, "quit"));
    fake_peer_stop(&g_client);
    lt_check_all_finished();
    CHECK_EQ_INT(fake_outstanding_buffers(), 0);
    puts("listener_frames ok");
    return 0;
}
