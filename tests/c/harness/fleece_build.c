/* See fleece_build.h. Layout follows the Fleece format notes: values are written bottom-up,
 * each at an even offset; a collection's slots hold 2-byte inline values or narrow pointers
 * (0x8000 | distance/2, big-endian) back to values written before it; a 2-byte trailer points
 * to the root. */
#include "fleece_build.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    unsigned char *buf;
    size_t len, cap;
} Out;

typedef struct {
    int inline_value; /* 1: `bytes` are the slot itself */
    unsigned char bytes[2];
    size_t offset; /* else: where the value starts */
} Slot;

static void put(Out *o, const void *p, size_t n) {
    if (o->len + n > o->cap) {
        o->cap = (o->len + n) * 2 + 64;
        o->buf = (unsigned char *)realloc(o->buf, o->cap);
        if (!o->buf) abort();
    }
    memcpy(o->buf + o->len, p, n);
    o->len += n;
}

static void pad(Out *o) {
    if (o->len & 1) put(o, "\0", 1);
}

static Slot out_of_line(Out *o, const unsigned char *p, size_t n) {
    pad(o);
    Slot s;
    s.inline_value = 0;
    s.offset = o->len;
    put(o, p, n);
    return s;
}

static Slot bytes_value(Out *o, int tag, const void *p, size_t n) {
    Slot s;
    if (n <= 1) { /* 0- and 1-byte strings/data are 2-byte values: inline */
        s.inline_value = 1;
        s.bytes[0] = (unsigned char)(tag << 4 | n);
        s.bytes[1] = n ? *(const unsigned char *)p : 0;
        return s;
    }
    unsigned char head[12];
    size_t h = 0;
    if (n < 15) {
        head[h++] = (unsigned char)(tag << 4 | n);
    } else {
        head[h++] = (unsigned char)(tag << 4 | 15);
        size_t v = n;
        do {
            unsigned char b = v & 0x7f;
            v >>= 7;
            head[h++] = (unsigned char)(b | (v ? 0x80 : 0));
        } while (v);
    }
    pad(o);
    s.inline_value = 0;
    s.offset = o->len;
    put(o, head, h);
    put(o, p, n);
    return s;
}

static Slot int_value(Out *o, long long v) {
    Slot s;
    if (v >= -2048 && v <= 2047) {
        s.inline_value = 1;
        s.bytes[0] = (unsigned char)(((unsigned long long)v >> 8) & 0x0f);
        s.bytes[1] = (unsigned char)(v & 0xff);
        return s;
    }
    unsigned char b[10];
    int n = 8;
    /* Fewest bytes that keep the sign. */
    while (n > 1) {
        long long top = v >> ((n - 1) * 8 - 1);
        if (top == 0 || top == -1) n--;
        else break;
    }
    b[0] = (unsigned char)(0x10 | (n - 1));
    for (int i = 0; i < n; i++) b[1 + i] = (unsigned char)((unsigned long long)v >> (8 * i));
    return out_of_line(o, b, (size_t)n + 1);
}

static int key_cmp(const void *a, const void *b) {
    const FlEntry *x = (const FlEntry *)a, *y = (const FlEntry *)b;
    size_t lx = strlen(x->key), ly = strlen(y->key);
    int c = memcmp(x->key, y->key, lx < ly ? lx : ly);
    return c ? c : (lx < ly ? -1 : lx > ly);
}

static Slot dict_value(Out *o, const FlEntry *entries, size_t count);

static Slot value(Out *o, const FlEntry *e) {
    switch (e->type) {
    case FL_STR: return bytes_value(o, 4, e->bytes, e->len ? e->len : strlen((const char *)e->bytes));
    case FL_DATA: return bytes_value(o, 5, e->bytes, e->len);
    case FL_INT: return int_value(o, e->num);
    case FL_BOOL: {
        Slot s;
        s.inline_value = 1;
        s.bytes[0] = e->num ? 0x38 : 0x34;
        s.bytes[1] = 0;
        return s;
    }
    default: return dict_value(o, e->dict, e->dict_count);
    }
}

static void write_slot(Out *o, Slot s) {
    if (s.inline_value) {
        put(o, s.bytes, 2);
        return;
    }
    size_t distance = o->len - s.offset;
    if (distance > 0x7FFE) {
        fprintf(stderr, "fleece_build: options too large for narrow pointers\n");
        abort();
    }
    unsigned char p[2] = {(unsigned char)(0x80 | (distance >> 9)), (unsigned char)((distance >> 1) & 0xff)};
    put(o, p, 2);
}

static Slot dict_value(Out *o, const FlEntry *entries, size_t count) {
    if (count > 2047) abort();
    FlEntry *sorted = (FlEntry *)malloc(sizeof(FlEntry) * (count ? count : 1));
    if (!sorted) abort();
    memcpy(sorted, entries, sizeof(FlEntry) * count);
    qsort(sorted, count, sizeof(FlEntry), key_cmp);
    Slot *keys = (Slot *)malloc(sizeof(Slot) * (count ? count : 1));
    Slot *vals = (Slot *)malloc(sizeof(Slot) * (count ? count : 1));
    if (!keys || !vals) abort();
    for (size_t i = 0; i < count; i++) {
        keys[i] = bytes_value(o, 4, sorted[i].key, strlen(sorted[i].key));
        vals[i] = value(o, &sorted[i]);
    }
    pad(o);
    Slot d;
    d.inline_value = 0;
    d.offset = o->len;
    unsigned char head[2] = {(unsigned char)(0x70 | (count >> 8)), (unsigned char)(count & 0xff)};
    put(o, head, 2);
    for (size_t i = 0; i < count; i++) {
        write_slot(o, keys[i]);
        write_slot(o, vals[i]);
    }
    free(sorted);
    free(keys);
    free(vals);
    return d;
}

unsigned char *fl_encode(const FlEntry *entries, size_t count, size_t *size) {
    Out o = {NULL, 0, 0};
    Slot root = dict_value(&o, entries, count);
    if (count == 0) { /* {} is the 2-byte document 70 00 */
        o.len = 0;
        put(&o, "\x70\x00", 2);
    } else {
        write_slot(&o, root); /* the trailer */
    }
    *size = o.len;
    return o.buf;
}
