#define _POSIX_C_SOURCE 200809L
/* requestClose from several threads at once, racing with LiteCore dropping its reference
 * (dispose), in every state of a socket:
 *   connecting  the TCP connect hangs (a listener whose accept queue is full);
 *   tls         TCP connected, the server never answers the ClientHello;
 *   upgrading   TCP connected, the server never answers the HTTP upgrade;
 *   open        the WebSocket is open (the stand-in);
 *   closing     LiteCore's requestClose was sent and its Close is on the way (a normal peer),
 *               or is never answered (a frozen peer: the 5 s close timeout);
 * Each racing thread holds its own reference while it calls (as LiteCore's threads do), calls
 * requestClose twice, and releases. Every round: exactly one closed with the expected error, no
 * contract violation (nothing after dispose, serialization), dispose once; ASan and valgrind
 * check that nothing is touched after dispose.
 *
 *   test_fault_close_race PYTHON SG_STANDIN FAULT_SERVERS [ROUNDS] */
#include "fault_util.h"

#define RACERS 4

typedef struct Race {
    C4Socket *s;
    int status;
    pthread_barrier_t *go;
} Race;

static void *racer(void *arg) {
    Race *r = (Race *)arg;
    pthread_barrier_wait(r->go);
    fake_socket_request_close(r->s, r->status, "race");
    fake_socket_request_close(r->s, r->status, "race again");
    c4socket_release(r->s); /* this thread's reference */
    return NULL;
}

/* Races RACERS requestClose threads and the drop of LiteCore's reference on `s`. */
static FakeSocketState race(const char *state, C4Socket *s, int status, int timeout_ms) {
    pthread_barrier_t go;
    pthread_barrier_init(&go, NULL, RACERS + 1);
    pthread_t th[RACERS];
    Race r[RACERS];
    for (int i = 0; i < RACERS; i++) {
        c4socket_retain(s);
        r[i] = (Race){s, status, &go};
        CHECK_EQ_INT(pthread_create(&th[i], NULL, racer, &r[i]), 0);
    }
    double t0 = fake_now_s();
    pthread_barrier_wait(&go);
    fake_socket_drop(s); /* LiteCore's own reference, concurrently with the racers */
    for (int i = 0; i < RACERS; i++) pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
    CHECK(fake_wait_disposed(s, timeout_ms));
    double took = fake_now_s() - t0;
    FakeSocketState st = fake_socket_state(s);
    printf("  %-10s requestClose(%d) x%d + dispose -> {%d, %d} \"%s\" in %.3f s\n", state, status, 2 * RACERS,
           st.closed_error.domain, st.closed_error.code, st.closed_message, took);
    CHECK_EQ_INT(st.closed_calls, 1);
    CHECK_EQ_INT(st.disposed, 1);
    CHECK_EQ_INT(st.refcount, 0);
    CHECK_NO_VIOLATIONS(st);
    fake_socket_free(s);
    return st;
}

/* Opens and waits until the attempt is in the wanted stage (no way to observe TLS/upgrading
 * from outside: the peer is silent, so a short wait puts it there). */
static C4Socket *pending(const char *scheme, uint16_t port) {
    C4Socket *s = peer_test_open_nowait(scheme, "127.0.0.1", port, NULL, 0);
    fault_sleep_ms(150);
    CHECK_EQ_INT(fake_socket_state(s).closed_calls, 0);
    return s;
}

int main(int argc, char **argv) {
    CHECK(argc == 4 || argc == 5);
    int rounds = argc == 5 ? atoi(argv[4]) : 3;
    CHECK(rounds >= 1 && rounds <= 1000);
    FakePeer sg, fs;
    peer_test_start_sg(&sg, argv + 1, "--guest", NULL);
    char *fargv[] = {argv[1], argv[3], NULL};
    CHECK(fake_peer_start(&fs, fargv, 20000));
    uint16_t sg_port = (uint16_t)fake_peer_int(&sg, "public");
    uint16_t silent = (uint16_t)fake_peer_int(&fs, "silent");
    int bh[2];
    uint16_t blackhole = fake_blackhole_port(bh);
    CHECK(blackhole != 0);
    peer_test_init();

    for (int round = 0; round < rounds; round++) {
        /* Before opened: a normal status is a clean close, LiteCore's 504 a {Network, 3}. */
        int status = round % 2 ? 504 : 1000;
        int dom = round % 2 ? 5 : 0, code = round % 2 ? 3 : 0;
        FakeSocketState st;
        st = race("connecting", pending("ws", blackhole), status, 3000);
        FAULT_CHECK_ERROR(st, dom, code);
        CHECK_EQ_INT(st.opened_calls, 0);
        st = race("tls", pending("wss", silent), status, 3000);
        FAULT_CHECK_ERROR(st, dom, code);
        CHECK_EQ_INT(st.opened_calls, 0);
        st = race("upgrading", pending("ws", silent), status, 3000);
        FAULT_CHECK_ERROR(st, dom, code);
        CHECK_EQ_INT(st.opened_calls, 0);

        /* Open: the peer answers the Close. */
        C4Socket *s = peer_test_open(sg_port);
        st = race("open", s, 1000, 5000);
        FAULT_CHECK_ERROR(st, 0, 0);
        CHECK_EQ_INT(st.opened_calls, 1);

        /* Closing: LiteCore's requestClose first, then the race while the Close is on the way. */
        s = peer_test_open(sg_port);
        c4socket_retain(s);
        fake_socket_request_close(s, 1000, "first");
        c4socket_release(s);
        st = race("closing", s, 1000, 5000);
        FAULT_CHECK_ERROR(st, 0, 0);
    }

    /* Closing, peer frozen: the Close is never answered; the 5 s timeout ends it. Once. */
    C4Socket *s = peer_test_open(sg_port);
    peer_test_command(s, "!cmd freeze ack");
    size_t size = 0;
    char *ack = (char *)fake_socket_next_message(s, 5000, &size);
    CHECK(ack != NULL);
    free(ack);
    fake_socket_request_close(s, 1000, "first");
    FakeSocketState st = race("closing/frozen", s, 1000, 10000);
    FAULT_CHECK_ERROR(st, 5, 3);

    fault_check_buffers_released(5000);
    close(bh[0]);
    close(bh[1]);
    fake_peer_stop(&fs);
    fake_peer_stop(&sg);
    puts("fault_close_race ok");
    return 0;
}
