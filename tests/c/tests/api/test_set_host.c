/* lcws_set_host validates the table, accepts older (smaller) tables, is set-once, and the
 * factory callbacks refuse garbage instead of crashing. */
#include "check.h"
#include "fake_litecore.h"
#include <stddef.h>

int main(void) {
    lcws_set_log_level(5); /* the refusals below log errors on purpose */
    fake_use_lcws_factory(NULL);
    /* Before any host table: calls with NULL or unknown sockets are refused, not crashes. */
    lcws_socket_open(NULL, NULL, (LcwsSlice){NULL, 0}, NULL);
    C4Socket *early = fake_socket_new();
    lcws_socket_open(early, NULL, (LcwsSlice){NULL, 0}, NULL);
    CHECK_EQ_INT(fake_socket_state(early).refcount, 1); /* not retained: no host to call */

    CHECK_EQ_INT(lcws_set_host(NULL), LCWS_STATUS_INVALID_ARGUMENT);
    LcwsHostTable t;
    fake_fill_host_table(&t, true);
    t.struct_size = 8;
    CHECK_EQ_INT(lcws_set_host(&t), LCWS_STATUS_INVALID_ARGUMENT);
    fake_fill_host_table(&t, true);
    t.closed = NULL;
    CHECK_EQ_INT(lcws_set_host(&t), LCWS_STATUS_INVALID_ARGUMENT);
    fake_fill_host_table(&t, true);
    t.release_buffer = NULL;
    CHECK_EQ_INT(lcws_set_host(&t), LCWS_STATUS_INVALID_ARGUMENT);

    /* A table from an older release: it ends after release_buffer. Entries past it are NULL
     * even though the memory beyond holds garbage. */
    fake_fill_host_table(&t, true);
    t.struct_size = offsetof(LcwsHostTable, got_peer_certificate);
    CHECK_EQ_INT(lcws_set_host(&t), LCWS_STATUS_OK);
    CHECK_EQ_INT(lcws_set_host(&t), LCWS_STATUS_OK); /* identical again: fine */
    LcwsHostTable other;
    fake_fill_host_table(&other, true);
    CHECK_EQ_INT(lcws_set_host(&other), LCWS_STATUS_ALREADY_SET);

    /* With a host: writes on NULL or foreign sockets release their buffer. */
    fake_socket_write(early, "abc", 3); /* early has no native handle from us */
    CHECK_EQ_INT(fake_outstanding_buffers(), 0);
    lcws_socket_completed_receive(NULL, 10);
    lcws_socket_request_close(NULL, 1000, (LcwsSlice){NULL, 0});
    lcws_socket_request_close(early, 1000, (LcwsSlice){NULL, 5}); /* bad slice, unknown socket */
    lcws_socket_dispose(NULL);
    lcws_socket_dispose(early); /* not ours: nothing freed */
    lcws_socket_close(early);
    CHECK_NO_VIOLATIONS(fake_socket_state(early));
    fake_socket_free(early);

    CHECK_EQ_INT(lcws_set_worker_threads(0), LCWS_STATUS_INVALID_ARGUMENT);
    CHECK_EQ_INT(lcws_set_worker_threads(65), LCWS_STATUS_INVALID_ARGUMENT);
    CHECK_EQ_INT(lcws_set_worker_threads(3), LCWS_STATUS_OK);
    puts("set_host ok");
    return 0;
}
