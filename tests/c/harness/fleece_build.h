/* A small Fleece writer for the C tests' replicator options: a root dict whose values are
 * strings, data, integers, booleans or nested dicts of the same. Keys are sorted as Fleece
 * requires; every collection is narrow (total size below 32 KiB). */
#ifndef LCWS_FLEECE_BUILD_H
#define LCWS_FLEECE_BUILD_H
#include <stddef.h>
#include <stdint.h>

enum { FL_STR, FL_DATA, FL_INT, FL_BOOL, FL_DICT };

typedef struct FlEntry {
    const char *key;
    int type;
    const void *bytes; /* FL_STR (NUL-terminated unless len set) / FL_DATA */
    size_t len;        /* FL_DATA length; FL_STR: 0 = strlen */
    long long num;     /* FL_INT, FL_BOOL */
    const struct FlEntry *dict; /* FL_DICT */
    size_t dict_count;
} FlEntry;

/* Convenience initializers. */
#define FL_S(k, v) {(k), FL_STR, (v), 0, 0, NULL, 0}
#define FL_D(k, p, n) {(k), FL_DATA, (p), (n), 0, NULL, 0}
#define FL_I(k, v) {(k), FL_INT, NULL, 0, (v), NULL, 0}
#define FL_B(k, v) {(k), FL_BOOL, NULL, 0, (v), NULL, 0}
#define FL_DICT_OF(k, arr) {(k), FL_DICT, NULL, 0, 0, (arr), sizeof(arr) / sizeof((arr)[0])}

/* Encodes the root dict; returns a malloc'd buffer (caller frees) and its size in *size. */
unsigned char *fl_encode(const FlEntry *entries, size_t count, size_t *size);
#endif
