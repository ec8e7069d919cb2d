/* What an app server does for Sync Gateway's custom authentication: ask SG's admin REST API
 * (port 4985, never exposed to clients) for a session on behalf of a user it has authenticated
 * itself. Plain HTTP/1.1 over POSIX sockets; no LiteCore involved. */
#ifndef LCWS_EXAMPLE_SG_ADMIN_H
#define LCWS_EXAMPLE_SG_ADMIN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An SG session, as `POST /{db}/_session` on the admin port answers it. */
typedef struct SgSession {
    char session_id[256];  /* secret: whoever holds it is the user until it expires */
    char cookie_name[128]; /* "SyncGatewaySession" unless the database configures another */
    char expires[64];      /* RFC 3339, UTC */
} SgSession;

/* Gets a session for `user` in database `db` from the admin API at `admin_url`
 * (http://host:port). When SG answers 404 (no such user), creates the user with
 * `PUT /{db}/_user/{user}` and a random password (it only ever logs in through sessions), then
 * asks again. Prints each request and its status (never the session id). Returns 1 on success;
 * else prints why and returns 0. */
int sg_admin_get_session(const char *admin_url, const char *db, const char *user, int ttl_seconds,
                         SgSession *out);

/* One HTTP/1.1 request to http://host:port (`base_url`), `Connection: close`. `json_body` may be
 * NULL. Returns the body (malloc'd, NUL-terminated, caller frees) and the status in *status, or
 * NULL on a connection or protocol failure (then *status is 0 and `err` says why). */
char *sg_http(const char *base_url, const char *method, const char *path, const char *json_body,
              int *status, char *err, size_t err_size);

/* A top-level string member of a small JSON object, unescaped into `out` (1), or 0 when absent,
 * not a string, or too long. */
int sg_json_string(const char *json, const char *key, char *out, size_t out_size);

#ifdef __cplusplus
}
#endif
#endif
