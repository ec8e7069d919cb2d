/* session_login: Sync Gateway's custom authentication, end to end.
 *
 *   session_login [--ca CA.pem] DBPATH ws[s]://host:4984/db http://host:4985 USER
 *
 * An app whose users log in through its own server (SSO, a legacy account system, ...) does not
 * give them SG passwords. Its server, after authenticating a user its own way, asks SG's admin
 * port for a session on their behalf:
 *
 *   POST /{db}/_session {"name": USER, "ttl": ...}  ->  {"session_id", "expires", "cookie_name"}
 *
 * (creating the SG user first, with PUT /{db}/_user/{name} and a random password, when SG answers
 * 404 "No such user"), and hands the session id to the client, which replicates with
 *
 *   auth = {type: "Session", token: <session_id>, cookieName: <cookie_name>}
 *
 * Here one program plays both parts: the app server (common/sg_admin.c) and the client.
 *
 * Why a cookie and not a header: SG accepts a session only as the cookie named by the
 * database's `session_cookie_name` (SyncGatewaySession by default), matched case-sensitively;
 * there is no Authorization scheme for it. LiteCore itself ignores auth type "Session" when the
 * transport is a custom socket factory (only the `cookies` option would reach the wire), so
 * litecore-ws turns the token into `Cookie: <cookie_name>=<session_id>`. `cookieName` is
 * litecore-ws's extension for databases that renamed the cookie; without it SG would see no
 * session cookie and answer 401 "Login required".
 *
 * The session id is a bearer secret: it is never printed (only masked). */
#include "common/example_flow.h"
#include "common/sg_admin.h"

#include <stdio.h>
#include <string.h>

#define SESSION_TTL_SECONDS 3600

static int usage(const char *argv0) {
    fprintf(stderr, "usage: %s [--ca CA.pem] DBPATH ws[s]://host:4984/db http://host:4985 USER\n", argv0);
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
    const char *admin_url = argv[i + 2], *user = argv[i + 3];

    /* 1. The app server's part: a session for `user` from SG's admin API. */
    SgSession session;
    if (!sg_admin_get_session(admin_url, r.remote.db, user, SESSION_TTL_SECONDS, &session)) {
        example_free_options(&opts);
        return EXAMPLE_FAILED;
    }
    char masked[64];
    example_mask(session.session_id, 4, masked, sizeof masked);
    printf("session for %s: %s=%s, expires %s\n", user, session.cookie_name, masked,
           session.expires[0] ? session.expires : "(not given)");

    /* 2. The client's part: replicate with the session. */
    r.db_path = argv[i];
    r.auth = example_auth_session(session.session_id, session.cookie_name);
    r.root_certs = opts.root_certs;
    r.root_certs_size = opts.root_certs_size;
    printf("replicating %s <-> %s as %s (Session)\n", r.db_path, r.remote.text, user);
    int rc = example_replicate(&r);

    memset(&session, 0, sizeof session); /* don't leave the secret lying around */
    example_free_options(&opts);
    return rc;
}
