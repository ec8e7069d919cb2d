/* replicate: one push+pull replication of a local LiteCore database with Sync Gateway, over
 * litecore-ws, with Basic credentials.
 *
 *   replicate [--ca CA.pem] DBPATH ws[s]://host:4984/db USER PASSWORD
 *
 * DBPATH is created when missing (e.g. ./todo.cblite2). --ca trusts that certificate (PEM or DER)
 * instead of the default roots, for an SG with a private CA. Exit status: 0 when the replication
 * finished without error, 1 when it failed (the error is printed), 2 for bad arguments.
 *
 * Everything that needs LiteCore is behind example_replicate() (common/replicate_litecore.c);
 * CI links this same file with the C tests' fake LiteCore instead (tests/c/examples). */
#include "common/example_flow.h"

#include <stdio.h>
#include <string.h>

static int usage(const char *argv0) {
    fprintf(stderr, "usage: %s [--ca CA.pem] DBPATH ws[s]://host:4984/db USER PASSWORD\n", argv0);
    return EXAMPLE_USAGE;
}

int main(int argc, char **argv) {
    ExampleOptions opts;
    int i = example_parse_options(argc, argv, &opts);
    if (i < 0) return usage(argv[0]);
    if (argc - i != 4) {
        example_free_options(&opts);
        return usage(argv[0]);
    }
    ExampleReplication r;
    memset(&r, 0, sizeof r);
    char err[256];
    if (!example_parse_url(argv[i + 1], &r.remote, err, sizeof err)) {
        fprintf(stderr, "%s: %s\n", argv[i + 1], err);
        example_free_options(&opts);
        return usage(argv[0]);
    }
    r.db_path = argv[i];
    r.auth = example_auth_basic(argv[i + 2], argv[i + 3]);
    r.root_certs = opts.root_certs;
    r.root_certs_size = opts.root_certs_size;

    printf("replicating %s <-> %s as %s (Basic)\n", r.db_path, r.remote.text, r.auth.username);
    int rc = example_replicate(&r);
    example_free_options(&opts);
    return rc;
}
