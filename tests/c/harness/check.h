/* Minimal assertions for the C tests: print where and why, then exit non-zero. */
#ifndef LCWS_TEST_CHECK_H
#define LCWS_TEST_CHECK_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                          \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);         \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                                   \
    do {                                                                                     \
        long long va_ = (long long)(a), vb_ = (long long)(b);                                \
        if (va_ != vb_) {                                                                    \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (%lld != %lld)\n", __FILE__,      \
                    __LINE__, #a, #b, va_, vb_);                                             \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

#define CHECK_CONTAINS(haystack, needle)                                                     \
    do {                                                                                     \
        const char *h_ = (haystack), *n_ = (needle);                                         \
        if (!h_ || !strstr(h_, n_)) {                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: \"%s\" does not contain \"%s\"\n",         \
                    __FILE__, __LINE__, h_ ? h_ : "(null)", n_);                             \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

/* The socket's record must show no contract violation. */
#define CHECK_NO_VIOLATIONS(st)                                                              \
    do {                                                                                     \
        if ((st).violations) {                                                               \
            fprintf(stderr, "%s:%d: %d contract violation(s), first: %s\n", __FILE__,        \
                    __LINE__, (st).violations, (st).first_violation);                        \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)
#endif
