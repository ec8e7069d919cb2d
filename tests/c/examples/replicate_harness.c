/* example_replicate() for CI, where LiteCore is not available: the C tests' fake LiteCore
 * (tests/c/harness) plays LiteCore's replicator on one socket, through litecore-ws's exported
 * factory callbacks, exactly as libLiteCore would call them:
 *
 *   - the options dict is the Fleece dict LiteCore hands the factory's `open`: the replicator's
 *     options (auth, rootCerts) plus `WS-Protocols`, which LiteCore adds;
 *   - the address is what LiteCore derives from ws[s]://host:port/db: path "/db/_blipsync";
 *   - the factory's context is a database handle, as with lcws_c4_factory(db), so litecore-ws
 *     consults (the fake's) cookie store;
 *   - after `opened`, instead of BLIP, one binary message goes out and must come back (the SG
 *     stand-in echoes); then LiteCore's requestClose(1000) and exactly one `closed`.
 * Output and exit status follow replicate_litecore.c: progress lines, then the final error as
 * "{Domain, code} message". The fake checks LiteCore's socket contract on every call. */
#define _POSIX_C_SOURCE 200809L
#include "example_flow.h"
#include "fake_litecore.h"
#include "fleece_build.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* LiteCore 3.x/4.x offers this subprotocol to SG. */
#define HARNESS_WS_PROTOCOLS "BLIP_3+CBMobile_3"
#define HARNESS_TIMEOUT_MS 20000

/* Stands in for the C4Database* that lcws_c4_factory(db) puts in the factory's context. */
static int g_fake_database;

/* The auth dict: only the members the example set, as the LiteCore variant encodes it. */
static size_t auth_entries(const ExampleAuth *a, FlEntry out[5]) {
    size_t n = 0;
    const char *keys[5] = {"type", "username", "password", "token", "cookieName"};
    const char *values[5] = {a->type, a->username, a->password, a->token, a->cookie_name};
    for (size_t i = 0; i < 5; i++) {
        if (!values[i]) continue;
        FlEntry e = FL_S(keys[i], values[i]);
        out[n++] = e;
    }
    return n;
}

static int finish(C4Socket *s, FakeSocketState *st) {
    int ok = fake_wait_refcount(s, 1, 5000);
    fake_socket_drop(s); /* LiteCore's own reference: dispose follows */
    ok = ok && fake_wait_disposed(s, 5000);
    *st = fake_socket_state(s);
    fake_socket_free(s);
    if (!ok) fprintf(stderr, "harness: the socket was not disposed\n");
    if (st->violations) {
        fprintf(stderr, "harness: %d socket contract violation(s), first: %s\n", st->violations,
                st->first_violation);
        ok = 0;
    }
    if (st->closed_calls != 1) {
        fprintf(stderr, "harness: closed was called %d times\n", st->closed_calls);
        ok = 0;
    }
    return ok;
}

static void print_error(const FakeSocketState *st) {
    printf("replication failed: {%s, %d} %s\n", example_error_domain_name(st->closed_error.domain),
           st->closed_error.code, st->closed_message[0] ? st->closed_message : "(no message)");
}

int example_replicate(const ExampleReplication *r) {
    printf("database: %s (the harness opens no database: LiteCore is played by the fake)\n", r->db_path);

    LcwsHostTable t;
    fake_fill_host_table(&t, true);
    LcwsStatus hs = lcws_set_host(&t);
    if (hs != LCWS_STATUS_OK && hs != LCWS_STATUS_ALREADY_SET) {
        fprintf(stderr, "harness: lcws_set_host failed (%d)\n", (int)hs);
        return EXAMPLE_FAILED;
    }
    fake_use_lcws_factory(&g_fake_database);

    FlEntry auth[5];
    size_t n_auth = auth_entries(&r->auth, auth);
    FlEntry opts[3];
    size_t n = 0;
    FlEntry protocols = FL_S("WS-Protocols", HARNESS_WS_PROTOCOLS);
    FlEntry auth_dict = {"auth", FL_DICT, NULL, 0, 0, auth, n_auth};
    opts[n++] = protocols;
    opts[n++] = auth_dict;
    if (r->root_certs) {
        FlEntry roots = FL_D("rootCerts", r->root_certs, r->root_certs_size);
        opts[n++] = roots;
    }
    size_t opts_size = 0;
    unsigned char *encoded = fl_encode(opts, n, &opts_size);

    char path[600];
    snprintf(path, sizeof path, "%s/_blipsync", r->remote.path);
    printf("status: connecting to %s://%s:%u%s\n", r->remote.scheme, r->remote.host, (unsigned)r->remote.port, path);
    C4Socket *s = fake_socket_new();
    fake_socket_open(s, r->remote.scheme, r->remote.host, r->remote.port, path, encoded, opts_size);
    free(encoded);

    FakeSocketState st;
    if (!fake_wait_opened(s, HARNESS_TIMEOUT_MS)) {
        if (!fake_wait_closed(s, HARNESS_TIMEOUT_MS)) {
            fprintf(stderr, "harness: neither opened nor closed within %d ms\n", HARNESS_TIMEOUT_MS);
            return EXAMPLE_FAILED; /* the socket is left to the process exit */
        }
        finish(s, &st); /* prints any contract violation */
        printf("status: stopped (HTTP %d)\n", st.http_status);
        print_error(&st); /* a socket closed before opening always ends the replication */
        return EXAMPLE_FAILED;
    }
    st = fake_socket_state(s);
    printf("status: busy (HTTP %d, subprotocol %s)\n", st.http_status,
           fake_socket_headers_contain(s, HARNESS_WS_PROTOCOLS) ? HARNESS_WS_PROTOCOLS : "?");

    /* One binary message through SG's echo, in place of the BLIP conversation. */
    unsigned char msg[1024];
    for (size_t i = 0; i < sizeof msg; i++) msg[i] = (unsigned char)((i * 131 + 7) % 251);
    msg[0] = 0x01; /* never looks like a stand-in "!cmd " */
    fake_socket_write(s, msg, sizeof msg);
    size_t got_size = 0;
    unsigned char *got = fake_socket_next_message(s, HARNESS_TIMEOUT_MS, &got_size);
    int echoed = got && got_size == sizeof msg && memcmp(got, msg, sizeof msg) == 0;
    free(got);
    int written = fake_wait_written(s, sizeof msg, HARNESS_TIMEOUT_MS);
    printf("progress: %s (%zu bytes out, %zu back)\n", echoed ? "message echoed byte-exact" : "ECHO MISMATCH",
           sizeof msg, got_size);

    fake_socket_request_close(s, 1000, "");
    if (!fake_wait_closed(s, HARNESS_TIMEOUT_MS)) {
        fprintf(stderr, "harness: not closed within %d ms after requestClose(1000)\n", HARNESS_TIMEOUT_MS);
        return EXAMPLE_FAILED;
    }
    int clean = finish(s, &st);
    long outstanding = fake_outstanding_buffers();
    if (outstanding != 0) fprintf(stderr, "harness: %ld write buffers never released\n", outstanding);
    printf("status: stopped\n");
    if (st.closed_error.code != 0) {
        print_error(&st);
        return EXAMPLE_FAILED;
    }
    if (!clean || !echoed || !written || outstanding != 0) {
        printf("replication failed: the harness saw the problems above\n");
        return EXAMPLE_FAILED;
    }
    printf("replication finished without error\n");
    return EXAMPLE_OK;
}
