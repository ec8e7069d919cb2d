/* Link check only: the database, replicator and Fleece-encoder functions of LiteCore's API that
 * examples-c/common/replicate_litecore.c calls, as a shared library exports them (declared in
 * litecore_api/). Together with tests/c/glue/mock_litecore_impl.c (the socket, error, log and
 * cookie functions the glue header calls) it stands in for libLiteCore.so so that the LiteCore
 * variant of the examples is *linked* in every build, at -O0 and at -O2.
 *
 * Like the real library it exports no definition of the headers' C99 inline functions (FLStr,
 * FLSliceResult_Release, c4db_release, ...): a program that calls them without emitting their
 * external definition (examples-c/common/litecore_inline.c) fails to link here at -O0, as it does
 * against a real LiteCore 4.x.
 *
 * Nothing here replicates: every function reports that it was called and aborts. The examples are
 * run against a real LiteCore by the litecore_real_* tests (tests/c/real_litecore). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "c4.h"

static void not_for_running(const char *fn) {
    fprintf(stderr, "%s: this libLiteCore is a link-check stub (tests/c/examples/litecore_link_stub.c)\n", fn);
    fflush(stderr);
    abort();
}

C4Database *c4db_openNamed(C4String name, const C4DatabaseConfig2 *config, C4Error *outError) {
    (void)name;
    (void)config;
    (void)outError;
    not_for_running(__func__);
    return NULL;
}

bool c4db_close(C4Database *database, C4Error *outError) {
    (void)database;
    (void)outError;
    not_for_running(__func__);
    return false;
}

bool c4address_fromURL(C4String url, C4Address *address, C4String *dbName) {
    (void)url;
    (void)address;
    (void)dbName;
    not_for_running(__func__);
    return false;
}

C4Replicator *c4repl_new(C4Database *db, C4Address remoteAddress, C4String remoteDatabaseName,
                         C4ReplicatorParameters params, C4String logPrefix, C4Error *outError) {
    (void)db;
    (void)remoteAddress;
    (void)remoteDatabaseName;
    (void)params;
    (void)logPrefix;
    (void)outError;
    not_for_running(__func__);
    return NULL;
}

void c4repl_start(C4Replicator *repl, bool reset) {
    (void)repl;
    (void)reset;
    not_for_running(__func__);
}

void c4repl_stop(C4Replicator *repl) {
    (void)repl;
    not_for_running(__func__);
}

C4ReplicatorStatus c4repl_getStatus(C4Replicator *repl) {
    C4ReplicatorStatus s;
    (void)repl;
    not_for_running(__func__);
    memset(&s, 0, sizeof s);
    return s;
}

bool c4repl_setProgressLevel(C4Replicator *repl, C4ReplicatorProgressLevel level, C4Error *outErr) {
    (void)repl;
    (void)level;
    (void)outErr;
    not_for_running(__func__);
    return false;
}

void c4repl_free(C4Replicator *repl) {
    (void)repl;
    not_for_running(__func__);
}

FLEncoder FLEncoder_New(void) {
    not_for_running(__func__);
    return NULL;
}

void FLEncoder_Free(FLEncoder enc) {
    (void)enc;
    not_for_running(__func__);
}

bool FLEncoder_BeginDict(FLEncoder enc, size_t reserveCount) {
    (void)enc;
    (void)reserveCount;
    not_for_running(__func__);
    return false;
}

bool FLEncoder_WriteKey(FLEncoder enc, FLString key) {
    (void)enc;
    (void)key;
    not_for_running(__func__);
    return false;
}

bool FLEncoder_EndDict(FLEncoder enc) {
    (void)enc;
    not_for_running(__func__);
    return false;
}

bool FLEncoder_WriteString(FLEncoder enc, FLString s) {
    (void)enc;
    (void)s;
    not_for_running(__func__);
    return false;
}

bool FLEncoder_WriteData(FLEncoder enc, FLSlice data) {
    (void)enc;
    (void)data;
    not_for_running(__func__);
    return false;
}

FLSliceResult FLEncoder_Finish(FLEncoder enc, FLError *outError) {
    FLSliceResult r;
    (void)enc;
    (void)outError;
    not_for_running(__func__);
    r.buf = NULL;
    r.size = 0;
    return r;
}

/* ---- what examples-c/p2p_sync.c calls besides the above (the listener glue's LiteCore calls,
   c4socket_fromNative, c4repl_newWithSocket, c4coll_getSpec, Fleece arrays, ..., are the mock's) ---- */

bool c4db_exists(C4String name, C4String inDirectory) {
    (void)name;
    (void)inDirectory;
    not_for_running(__func__);
    return false;
}

bool c4db_delete(C4Database *database, C4Error *outError) {
    (void)database;
    (void)outError;
    not_for_running(__func__);
    return false;
}

bool c4db_deleteNamed(C4String dbName, C4String inDirectory, C4Error *outError) {
    (void)dbName;
    (void)inDirectory;
    (void)outError;
    not_for_running(__func__);
    return false;
}

bool c4db_beginTransaction(C4Database *database, C4Error *outError) {
    (void)database;
    (void)outError;
    not_for_running(__func__);
    return false;
}

bool c4db_endTransaction(C4Database *database, bool commit, C4Error *outError) {
    (void)database;
    (void)commit;
    (void)outError;
    not_for_running(__func__);
    return false;
}

C4Collection *c4db_getDefaultCollection(C4Database *db, C4Error *outError) {
    (void)db;
    (void)outError;
    not_for_running(__func__);
    return NULL;
}

uint64_t c4coll_getDocumentCount(C4Collection *collection) {
    (void)collection;
    not_for_running(__func__);
    return 0;
}

C4Document *c4coll_getDoc(C4Collection *collection, C4String docID, bool mustExist, C4DocContentLevel content,
                          C4Error *outError) {
    (void)collection;
    (void)docID;
    (void)mustExist;
    (void)content;
    (void)outError;
    not_for_running(__func__);
    return NULL;
}

C4Document *c4coll_createDoc(C4Collection *collection, C4String docID, C4Slice body, C4RevisionFlags revisionFlags,
                             C4Error *error) {
    (void)collection;
    (void)docID;
    (void)body;
    (void)revisionFlags;
    (void)error;
    not_for_running(__func__);
    return NULL;
}

void c4doc_release(C4Document *doc) {
    (void)doc;
    not_for_running(__func__);
}

FLDict c4doc_getProperties(C4Document *doc) {
    (void)doc;
    not_for_running(__func__);
    return NULL;
}

FLValue FLDict_Get(FLDict dict, FLSlice key) {
    (void)dict;
    (void)key;
    not_for_running(__func__);
    return NULL;
}

bool FLEncoder_WriteInt(FLEncoder enc, int64_t i) {
    (void)enc;
    (void)i;
    not_for_running(__func__);
    return false;
}
