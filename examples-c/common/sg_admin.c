/* See sg_admin.h. */
#define _POSIX_C_SOURCE 200809L
#include "sg_admin.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_RESPONSE (1024 * 1024)

static void set_err(char *err, size_t n, const char *fmt, const char *arg) {
    if (err && n) snprintf(err, n, fmt, arg);
}

/* ---- HTTP ---- */

static int split_base_url(const char *base_url, char *host, size_t host_size, char *port, size_t port_size) {
    if (strncmp(base_url, "http://", 7) != 0) return 0;
    const char *p = base_url + 7;
    size_t n = strcspn(p, "/");
    const char *colon = NULL;
    if (*p == '[') {
        const char *close = memchr(p, ']', n);
        if (!close) return 0;
        if ((size_t)(close + 1 - p) < n && close[1] == ':') colon = close + 1;
        p++; /* getaddrinfo wants the address without brackets */
        n = (size_t)(close - p);
        if (colon) {
            snprintf(port, port_size, "%.*s", (int)strcspn(colon + 1, "/"), colon + 1);
        }
    } else {
        colon = memchr(p, ':', n);
        if (colon) {
            snprintf(port, port_size, "%.*s", (int)(n - (size_t)(colon + 1 - p)), colon + 1);
            n = (size_t)(colon - p);
        }
    }
    if (!colon) snprintf(port, port_size, "80");
    if (n == 0 || n >= host_size) return 0;
    memcpy(host, p, n);
    host[n] = '\0';
    return port[0] != '\0';
}

static int connect_to(const char *host, const char *port, char *err, size_t err_size) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        set_err(err, err_size, "cannot resolve the admin host: %s", gai_strerror(rc));
        return -1;
    }
    int fd = -1, last_errno = 0;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) continue;
        struct timeval tv = {15, 0}; /* an admin call should never take longer */
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            last_errno = errno;
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) set_err(err, err_size, "cannot connect to the admin port: %s", strerror(last_errno));
    return fd;
}

static int send_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return 0;
        p += w;
        n -= (size_t)w;
    }
    return 1;
}

/* The value of header `name` within the head [head, end), or NULL. */
static const char *find_header(const char *head, const char *end, const char *name) {
    size_t name_len = strlen(name);
    for (const char *line = strstr(head, "\r\n"); line && line + 2 < end; line = strstr(line + 2, "\r\n")) {
        const char *l = line + 2;
        if ((size_t)(end - l) > name_len && strncasecmp(l, name, name_len) == 0 && l[name_len] == ':')
            return l + name_len + 1;
    }
    return NULL;
}

char *sg_http(const char *base_url, const char *method, const char *path, const char *json_body, int *status,
              char *err, size_t err_size) {
    *status = 0;
    char host[256], port[16];
    if (!split_base_url(base_url, host, sizeof host, port, sizeof port)) {
        set_err(err, err_size, "the admin URL must look like http://host:4985 (got %s)", base_url);
        return NULL;
    }
    int fd = connect_to(host, port, err, err_size);
    if (fd < 0) return NULL;

    size_t body_len = json_body ? strlen(json_body) : 0;
    int has_body = json_body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0;
    char host_field[300], content[96] = "", head[1024];
    /* An IPv6 address goes back into brackets in Host. */
    snprintf(host_field, sizeof host_field, strchr(host, ':') ? "[%s]" : "%s", host);
    if (has_body)
        snprintf(content, sizeof content, "Content-Type: application/json\r\nContent-Length: %zu\r\n", body_len);
    int head_len = snprintf(head, sizeof head,
                            "%s %s HTTP/1.1\r\nHost: %s:%s\r\nAccept: application/json\r\n%s"
                            "Connection: close\r\n\r\n",
                            method, path, host_field, port, content);
    if (head_len < 0 || (size_t)head_len >= sizeof head) {
        close(fd);
        set_err(err, err_size, "request too long (%s)", path);
        return NULL;
    }
    if (!send_all(fd, head, (size_t)head_len) || (body_len && !send_all(fd, json_body, body_len))) {
        set_err(err, err_size, "cannot send the request: %s", strerror(errno));
        close(fd);
        return NULL;
    }

    /* Read the answer: up to Content-Length when given, else to EOF. */
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    const char *body = NULL;
    long content_length = -1;
    while (buf) {
        if (body && content_length >= 0 && len >= (size_t)(body - buf) + (size_t)content_length) break;
        if (len == cap) {
            /* The body's offset, taken before realloc: the old pointer may not be used after it. */
            size_t body_off = body ? (size_t)(body - buf) : 0;
            char *bigger = cap >= MAX_RESPONSE ? NULL : realloc(buf, cap * 2 + 1);
            if (!bigger) {
                set_err(err, err_size, "%s", "answer too large");
                free(buf);
                buf = NULL;
                break;
            }
            if (body) body = bigger + body_off;
            buf = bigger;
            cap *= 2;
        }
        ssize_t r = recv(fd, buf + len, cap - len, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            set_err(err, err_size, "cannot read the answer: %s", strerror(errno));
            free(buf);
            buf = NULL;
            break;
        }
        if (r == 0) break;
        len += (size_t)r;
        buf[len] = '\0';
        if (!body) {
            char *end = strstr(buf, "\r\n\r\n");
            if (end) {
                body = end + 4;
                const char *cl = find_header(buf, end + 2, "Content-Length");
                if (cl) content_length = strtol(cl, NULL, 10);
            }
        }
    }
    close(fd);
    if (!buf) return NULL;
    buf[len] = '\0';
    int major = 0, minor = 0, code = 0;
    if (!body || sscanf(buf, "HTTP/%d.%d %d", &major, &minor, &code) != 3 || code < 100) {
        set_err(err, err_size, "%s", "not an HTTP answer");
        free(buf);
        return NULL;
    }
    size_t body_size = len - (size_t)(body - buf);
    if (content_length >= 0 && (size_t)content_length < body_size) body_size = (size_t)content_length;
    memmove(buf, body, body_size);
    buf[body_size] = '\0';
    *status = code;
    return buf;
}

/* ---- JSON (just enough for SG's small answers) ---- */

static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
    return p;
}

static void put_utf8(unsigned cp, char *out, size_t out_size, size_t *n, int *ok) {
    char tmp[3];
    size_t k = 0;
    if (cp < 0x80) tmp[k++] = (char)cp;
    else if (cp < 0x800) {
        tmp[k++] = (char)(0xC0 | (cp >> 6));
        tmp[k++] = (char)(0x80 | (cp & 0x3F));
    } else {
        tmp[k++] = (char)(0xE0 | (cp >> 12));
        tmp[k++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[k++] = (char)(0x80 | (cp & 0x3F));
    }
    for (size_t i = 0; i < k; i++) {
        if (out && *n + 1 >= out_size) *ok = 0;
        else if (out) out[*n] = tmp[i];
        (*n)++;
    }
}

/* p at '"'. Unescapes into out (when not NULL); returns the position after the closing quote,
 * or NULL on a malformed string. *ok becomes 0 when out is too small. */
static const char *parse_string(const char *p, char *out, size_t out_size, int *ok) {
    size_t n = 0;
    *ok = 1;
    for (p++; *p && *p != '"'; p++) {
        unsigned c = (unsigned char)*p;
        if (c == '\\') {
            p++;
            switch (*p) {
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case '"': case '\\': case '/': c = (unsigned char)*p; break;
            case 'u': {
                unsigned cp = 0;
                for (int i = 1; i <= 4; i++) {
                    char h = p[i];
                    cp <<= 4;
                    if (h >= '0' && h <= '9') cp |= (unsigned)(h - '0');
                    else if (h >= 'a' && h <= 'f') cp |= (unsigned)(h - 'a' + 10);
                    else if (h >= 'A' && h <= 'F') cp |= (unsigned)(h - 'A' + 10);
                    else return NULL;
                }
                p += 4;
                if (cp >= 0xD800 && cp <= 0xDFFF) cp = '?'; /* no surrogate pairs here */
                put_utf8(cp, out, out_size, &n, ok);
                continue;
            }
            default: return NULL;
            }
        }
        if (out && n + 1 >= out_size) *ok = 0;
        else if (out) out[n] = (char)c;
        n++;
    }
    if (*p != '"') return NULL;
    if (out && out_size) out[n < out_size ? n : out_size - 1] = '\0';
    return p + 1;
}

static const char *skip_value(const char *p) {
    int ok;
    if (*p == '"') return parse_string(p, NULL, 0, &ok);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (*p) {
            if (*p == '"') {
                p = parse_string(p, NULL, 0, &ok);
                if (!p) return NULL;
                continue;
            }
            if (*p == '{' || *p == '[') depth++;
            else if (*p == '}' || *p == ']') {
                if (--depth == 0) return p + 1;
            }
            p++;
        }
        return NULL;
    }
    while (*p && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') p++;
    return p;
}

int sg_json_string(const char *json, const char *key, char *out, size_t out_size) {
    int ok;
    char k[128];
    const char *p = skip_ws(json);
    if (*p != '{') return 0;
    p = skip_ws(p + 1);
    while (*p == '"') {
        p = parse_string(p, k, sizeof k, &ok);
        if (!p) return 0;
        p = skip_ws(p);
        if (*p != ':') return 0;
        p = skip_ws(p + 1);
        if (ok && strcmp(k, key) == 0) {
            if (*p != '"') return 0;
            return parse_string(p, out, out_size, &ok) != NULL && ok;
        }
        p = skip_value(p);
        if (!p) return 0;
        p = skip_ws(p);
        if (*p != ',') return 0;
        p = skip_ws(p + 1);
    }
    return 0;
}

/* ---- the session flow ---- */

/* JSON string literal for `s` (quotes included). */
static void json_quote(const char *s, char *out, size_t out_size) {
    size_t n = 0;
    if (out_size < 3) return;
    out[n++] = '"';
    for (; *s && n + 8 < out_size; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(out + n, out_size - n, "\\u%04x", c);
        } else {
            out[n++] = (char)c;
        }
    }
    out[n++] = '"';
    out[n] = '\0';
}

/* Percent-encodes a path segment. */
static void path_escape(const char *s, char *out, size_t out_size) {
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (; *s && n + 4 < out_size; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '~') {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    out[n] = '\0';
}

/* A random password nobody will ever type: the user logs in through sessions only. */
static int random_password(char *out, size_t out_size) {
    unsigned char raw[18];
    FILE *f = fopen("/dev/urandom", "rb");
    if (!f) return 0;
    size_t got = fread(raw, 1, sizeof raw, f);
    fclose(f);
    if (got != sizeof raw || out_size < 2 * sizeof raw + 1) return 0;
    for (size_t i = 0; i < sizeof raw; i++) snprintf(out + 2 * i, 3, "%02x", raw[i]);
    return 1;
}

static void print_answer(const char *method, const char *path, int status, const char *body) {
    char reason[256] = "";
    if (status >= 300 && body) sg_json_string(body, "reason", reason, sizeof reason);
    printf("admin: %s %s -> %d%s%s\n", method, path, status, reason[0] ? " " : "", reason);
}

int sg_admin_get_session(const char *admin_url, const char *db, const char *user, int ttl_seconds, SgSession *out) {
    char err[256] = "", db_esc[768], user_esc[768], user_json[1024], path[2048], body[1200];
    memset(out, 0, sizeof *out);
    path_escape(db, db_esc, sizeof db_esc);
    path_escape(user, user_esc, sizeof user_esc);
    json_quote(user, user_json, sizeof user_json);

    snprintf(path, sizeof path, "/%s/_session", db_esc);
    snprintf(body, sizeof body, "{\"name\":%s,\"ttl\":%d}", user_json, ttl_seconds);
    for (int attempt = 0; attempt < 2; attempt++) {
        int status = 0;
        char *answer = sg_http(admin_url, "POST", path, body, &status, err, sizeof err);
        if (!answer) {
            fprintf(stderr, "admin: POST %s failed: %s\n", path, err);
            return 0;
        }
        print_answer("POST", path, status, answer);
        if (status == 200) {
            int ok = sg_json_string(answer, "session_id", out->session_id, sizeof out->session_id) &&
                     out->session_id[0];
            /* cookie_name came with SG 2.x; older answers mean the default name. */
            if (!sg_json_string(answer, "cookie_name", out->cookie_name, sizeof out->cookie_name) ||
                !out->cookie_name[0])
                snprintf(out->cookie_name, sizeof out->cookie_name, "SyncGatewaySession");
            sg_json_string(answer, "expires", out->expires, sizeof out->expires);
            free(answer);
            if (!ok) fprintf(stderr, "admin: the answer has no session_id\n");
            return ok;
        }
        free(answer);
        if (status != 404 || attempt > 0) {
            fprintf(stderr, "admin: cannot get a session for %s (HTTP %d)\n", user, status);
            return 0;
        }

        /* 404 "No such user": the app server knows the user (it authenticated them its own way),
           SG does not yet. Create it with a password nobody knows, then ask again. */
        char password[64], user_path[2048], user_body[128];
        if (!random_password(password, sizeof password)) {
            fprintf(stderr, "cannot read /dev/urandom\n");
            return 0;
        }
        snprintf(user_path, sizeof user_path, "/%s/_user/%s", db_esc, user_esc);
        snprintf(user_body, sizeof user_body, "{\"password\":\"%s\"}", password);
        answer = sg_http(admin_url, "PUT", user_path, user_body, &status, err, sizeof err);
        if (!answer) {
            fprintf(stderr, "admin: PUT %s failed: %s\n", user_path, err);
            return 0;
        }
        print_answer("PUT", user_path, status, answer);
        free(answer);
        if (status != 200 && status != 201) {
            fprintf(stderr, "admin: cannot create user %s (HTTP %d)\n", user, status);
            return 0;
        }
    }
    return 0;
}
