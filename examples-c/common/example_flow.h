/* The LiteCore-independent part of the C examples: command-line parsing, the Sync Gateway URL,
 * the `auth` dict each example asks for, and the one step that needs a replicator
 * (`example_replicate`), which has two implementations:
 *   - replicate_litecore.c: LiteCore's real replicator (c4repl_*), built with -DLITECORE_ROOT;
 *   - tests/c/examples/replicate_harness.c: the C tests' fake LiteCore playing the replicator's
 *     part of the socket (CI, where LiteCore is not available).
 * Both print progress on stdout and the final error as "{Domain, code} message". */
#ifndef LCWS_EXAMPLE_FLOW_H
#define LCWS_EXAMPLE_FLOW_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Exit codes of the examples. */
enum { EXAMPLE_OK = 0, EXAMPLE_FAILED = 1, EXAMPLE_USAGE = 2 };

/* A Sync Gateway database URL, ws[s]://host[:port]/[prefix/]db, split as LiteCore's
 * c4address_fromURL does: `path` is everything up to and including the database name
 * ("/db"), `db` the last path component. */
typedef struct ExampleUrl {
    char text[1024];  /* the URL as given, without a trailing '/' */
    char scheme[4];   /* "ws" or "wss" */
    char host[256];
    uint16_t port;    /* default 80 (ws) / 443 (wss) */
    char path[512];   /* "/db" */
    char db[256];     /* "db" */
} ExampleUrl;

/* Parses `url`; on failure writes a reason into `err` and returns 0. */
int example_parse_url(const char *url, ExampleUrl *out, char *err, size_t err_size);

/* The replicator's `auth` dict (kC4ReplicatorOptionAuthentication), as strings; NULL members are
 * left out of the dict. */
typedef struct ExampleAuth {
    const char *type;        /* "Basic" or "Session" (kC4AuthTypeBasic / kC4AuthTypeSession) */
    const char *username;    /* Basic */
    const char *password;    /* Basic */
    const char *token;       /* Session: the SG session id */
    const char *cookie_name; /* Session: litecore-ws's `cookieName` extension */
} ExampleAuth;

ExampleAuth example_auth_basic(const char *username, const char *password);
ExampleAuth example_auth_session(const char *session_id, const char *cookie_name);

/* What one replication needs. */
typedef struct ExampleReplication {
    const char *db_path;      /* local database, e.g. "./todo.cblite2" */
    ExampleUrl remote;
    ExampleAuth auth;
    const void *root_certs;   /* `rootCerts` (PEM or DER) or NULL for the default trust store */
    size_t root_certs_size;
} ExampleReplication;

/* Runs one push+pull one-shot replication; prints progress and the outcome. Returns EXAMPLE_OK
 * when it finished without error, else EXAMPLE_FAILED. */
int example_replicate(const ExampleReplication *r);

/* "LiteCore", "POSIX", "Network", "WebSocket", ... for a C4ErrorDomain value. */
const char *example_error_domain_name(int domain);

/* Common options before the positional arguments: "--ca FILE" (read into root_certs).
 * Returns the index of the first positional argument, or -1 after printing why. The buffer is
 * freed with example_free_options. */
typedef struct ExampleOptions {
    void *root_certs;
    size_t root_certs_size;
} ExampleOptions;
int example_parse_options(int argc, char **argv, ExampleOptions *out);
void example_free_options(ExampleOptions *o);

/* Masks a secret for printing: "****…**** (40 chars)"; never any of its characters beyond the
 * first `keep` (0 = none). */
void example_mask(const char *secret, size_t keep, char *out, size_t out_size);

#ifdef __cplusplus
}
#endif
#endif
