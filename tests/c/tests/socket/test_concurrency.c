/* LiteCore drives a socket from several threads: a BLIP thread writes (keeping at most 64 KiB
 * unacknowledged, LiteCore's send window, which only completedWrite opens), another thread
 * processes received messages and acknowledges them (completedReceive). Eight sockets at once,
 * each echoing 200 messages of varied sizes byte-exact and in order. */
#include "peer_test.h"
#include <pthread.h>

#define SOCKETS 8
#define MESSAGES 200
#define WINDOW (64 * 1024)

typedef struct {
    C4Socket *s;
    int index;
    size_t written;
    int ok;
} Job;

static size_t msg_size(int socket, int k) { return 1 + (size_t)((socket * 7919 + k * 104729) % 20000); }
static unsigned char msg_byte(int socket, int k, size_t i) { return (unsigned char)((socket + k * 3 + i) % 251); }

static void *writer(void *arg) {
    Job *j = (Job *)arg;
    unsigned char *buf = (unsigned char *)malloc(20001);
    for (int k = 0; k < MESSAGES; k++) {
        size_t n = msg_size(j->index, k);
        /* LiteCore stops writing while more than 64 KiB are unacknowledged. */
        if (j->written > WINDOW) CHECK(fake_wait_written(j->s, j->written - WINDOW, 10000));
        for (size_t i = 0; i < n; i++) buf[i] = msg_byte(j->index, k, i);
        fake_socket_write(j->s, buf, n);
        j->written += n;
    }
    free(buf);
    return NULL;
}

static void *reader(void *arg) {
    Job *j = (Job *)arg;
    for (int k = 0; k < MESSAGES; k++) {
        size_t size = 0;
        unsigned char *m = (unsigned char *)fake_socket_next_message(j->s, 10000, &size);
        if (!m || size != msg_size(j->index, k)) {
            fprintf(stderr, "socket %d message %d: %s\n", j->index, k, m ? "wrong size" : "missing");
            return NULL;
        }
        for (size_t i = 0; i < size; i++)
            if (m[i] != msg_byte(j->index, k, i)) {
                fprintf(stderr, "socket %d message %d byte %zu differs\n", j->index, k, i);
                return NULL;
            }
        free(m);
        fake_socket_completed_receive(j->s, size); /* BLIP processed it, on this thread */
    }
    j->ok = 1;
    return NULL;
}

int main(int argc, char **argv) {
    FakePeer sg;
    uint16_t port = peer_test_start_guest(&sg, argc, argv);
    Job jobs[SOCKETS];
    pthread_t w[SOCKETS], r[SOCKETS];
    for (int i = 0; i < SOCKETS; i++) {
        jobs[i].s = peer_test_open(port);
        jobs[i].index = i;
        jobs[i].written = 0;
        jobs[i].ok = 0;
        fake_socket_set_ack_mode(jobs[i].s, FAKE_ACK_MANUAL);
    }
    for (int i = 0; i < SOCKETS; i++) {
        CHECK(pthread_create(&r[i], NULL, reader, &jobs[i]) == 0);
        CHECK(pthread_create(&w[i], NULL, writer, &jobs[i]) == 0);
    }
    size_t total = 0;
    for (int i = 0; i < SOCKETS; i++) {
        pthread_join(w[i], NULL);
        pthread_join(r[i], NULL);
        CHECK(jobs[i].ok);
        CHECK(fake_wait_written(jobs[i].s, jobs[i].written, 5000));
        total += jobs[i].written;
    }
    for (int i = 0; i < SOCKETS; i++) fake_socket_request_close(jobs[i].s, 1000, "");
    for (int i = 0; i < SOCKETS; i++) CHECK_EQ_INT(peer_test_finish(jobs[i].s, 10000).closed_error.code, 0);
    printf("  %d sockets echoed %zu bytes in %d messages each\n", SOCKETS, total, MESSAGES);
    CHECK_EQ_INT(fake_outstanding_buffers(), 0);
    fake_peer_stop(&sg);
    puts("concurrency ok");
    return 0;
}
