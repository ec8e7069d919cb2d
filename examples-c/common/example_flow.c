/* See example_flow.h. */
#define _POSIX_C_SOURCE 200809L
#include "example_flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_err(char *err, size_t n, const char *msg) {
    if (err && n) snprintf(err, n, "%s", msg);
}

int example_parse_url(const char *url, ExampleUrl *out, char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    size_t len = strlen(url);
    while (len > 0 && url[len - 1] == '/') len--; /* "ws://h/db/" is the same database */
    if (len >= sizeof out->text) {
        set_err(err, err_size, "URL too long");
        return 0;
    }
    memcpy(out->text, url, len);
    out->text[len] = '\0';

    const char *p = out->text;
    if (strncmp(p, "wss://", 6) == 0) {
        strcpy(out->scheme, "wss");
        out->port = 443;
        p += 6;
    } else if (strncmp(p, "ws://", 5) == 0) {
        strcpy(out->scheme, "ws");
        out->port = 80;
        p += 5;
    } else {
        set_err(err, err_size, "the URL must start with ws:// or wss://");
        return 0;
    }
    const char *slash = strchr(p, '/');
    if (!slash) {
        set_err(err, err_size, "the URL has no database name (ws://host:4984/db)");
        return 0;
    }
    /* host[:port] (an IPv6 literal in brackets keeps its colons) */
    const char *host_end = slash, *colon = NULL;
    if (*p == '[') {
        const char *close = memchr(p, ']', (size_t)(slash - p));
        if (!close) {
            set_err(err, err_size, "unterminated IPv6 address in the URL");
            return 0;
        }
        if (close + 1 < slash && close[1] == ':') colon = close + 1;
        else if (close + 1 != slash) {
            set_err(err, err_size, "bad host in the URL");
            return 0;
        }
        host_end = colon ? colon : slash;
    } else {
        colon = memchr(p, ':', (size_t)(slash - p));
        if (colon) host_end = colon;
    }
    size_t host_len = (size_t)(host_end - p);
    if (host_len == 0 || host_len >= sizeof out->host) {
        set_err(err, err_size, "bad host in the URL");
        return 0;
    }
    memcpy(out->host, p, host_len);
    if (colon) {
        char *end = NULL;
        long port = strtol(colon + 1, &end, 10);
        if (end != slash || port < 1 || port > 65535) {
            set_err(err, err_size, "bad port in the URL");
            return 0;
        }
        out->port = (uint16_t)port;
    }
    if (strlen(slash) >= sizeof out->path) {
        set_err(err, err_size, "URL path too long");
        return 0;
    }
    strcpy(out->path, slash);
    const char *db = strrchr(out->path, '/') + 1;
    if (*db == '\0' || strchr(db, '?') || strchr(db, '#')) {
        set_err(err, err_size, "the URL has no database name (ws://host:4984/db)");
        return 0;
    }
    strcpy(out->db, db);
    return 1;
}

ExampleAuth example_auth_basic(const char *username, const char *password) {
    ExampleAuth a;
    memset(&a, 0, sizeof a);
    a.type = "Basic";
    a.username = username;
    a.password = password;
    return a;
}

ExampleAuth example_auth_session(const char *session_id, const char *cookie_name) {
    ExampleAuth a;
    memset(&a, 0, sizeof a);
    /* LiteCore itself ignores type "Session" with a custom transport (only the `cookies` string
       would reach the wire); litecore-ws turns `token` into the Cookie header, under the name
       given in `cookieName` (SG's `cookie_name`; "SyncGatewaySession" when absent). */
    a.type = "Session";
    a.token = session_id;
    a.cookie_name = cookie_name;
    return a;
}

const char *example_error_domain_name(int domain) {
    static const char *const names[] = {"0",       "LiteCore", "POSIX",     "SQLite",
                                        "Fleece",  "Network",  "WebSocket", "MbedTLS"};
    if (domain >= 0 && domain < (int)(sizeof names / sizeof names[0])) return names[domain];
    return "?";
}

static void *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) break;
        if (len == cap) {
            unsigned char *bigger = realloc(buf, cap * 2);
            if (!bigger) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (bad || !buf || len == 0) {
        free(buf);
        return NULL;
    }
    *size = len;
    return buf;
}

int example_parse_options(int argc, char **argv, ExampleOptions *out) {
    memset(out, 0, sizeof *out);
    int i = 1;
    while (i < argc && strncmp(argv[i], "--", 2) == 0) {
        if (strcmp(argv[i], "--") == 0) return i + 1;
        if (strcmp(argv[i], "--ca") == 0 && i + 1 < argc) {
            free(out->root_certs);
            out->root_certs = read_file(argv[i + 1], &out->root_certs_size);
            if (!out->root_certs) {
                fprintf(stderr, "cannot read the CA file %s\n", argv[i + 1]);
                return -1;
            }
            i += 2;
        } else {
            fprintf(stderr, "unknown option %s\n", argv[i]);
            example_free_options(out);
            return -1;
        }
    }
    return i;
}

void example_free_options(ExampleOptions *o) {
    free(o->root_certs);
    o->root_certs = NULL;
    o->root_certs_size = 0;
}

void example_mask(const char *secret, size_t keep, char *out, size_t out_size) {
    size_t len = secret ? strlen(secret) : 0;
    if (keep > len / 4) keep = len / 4; /* never more than a quarter of it */
    snprintf(out, out_size, "%.*s**** (%zu characters, masked)", (int)keep, secret ? secret : "", len);
}
