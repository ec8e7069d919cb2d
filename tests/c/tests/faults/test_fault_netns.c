#define _POSIX_C_SOURCE 200809L
/* Network faults made with real tools: the SG stand-in runs in a network namespace of its own
 * (tests/peers/netns_peer.py: veth pair, 10.200.x.y addresses derived from its pid), and the
 * faults are iptables rules and tc qdiscs inside that namespace, which disappear with it.
 *
 *   test_fault_netns PYTHON NETNS_PEER SG_STANDIN MODE
 *
 *   shaping  netem delay/loss/reorder/rate on both ends of the veth when the kernel has
 *            sch_netem, else an htb rate limit whose random slow lane reorders 15 % of the
 *            stand-in's packets (checked: the sender detects reordering) plus 2 % random
 *            packet loss (iptables statistic) both ways: 300 messages echoed in order and
 *            byte-exact, never more than LiteCore's 64 KiB send window outstanding; then a
 *            clean close.
 *   drop     iptables DROP of everything to and from the stand-in while open (a half-open
 *            connection): the heartbeat (2 s) ends it with {Network, 3 Timeout}.
 *   reset    iptables REJECT --reject-with tcp-reset, then a write: {WebSocket, 1006}.
 *   connect  a port whose SYNs are DROPped: the connect hangs; requestClose(504) aborts it at
 *            once with {Network, 3}, requestClose(1000) with a clean close, and LiteCore dropping
 *            its reference right after requestClose still gives one closed, then dispose.
 *
 * Without permission to make namespaces (not root), it exits 77: ctest reports it skipped. */
#include "fault_util.h"

static FakePeer g_peer;
static char g_ns[64], g_addr[32];
static uint16_t g_port;

static void ns_sh_ok(const char *what) {
    CHECK_EQ_INT(fault_sh("ip netns exec %s %s", g_ns, what), 0);
}

static void mode_shaping(void) {
    char if_ns[32], if_host[32], cmd[320];
    fake_peer_str(&g_peer, "ns_if", if_ns, sizeof if_ns);
    /* The host end of the veth: lwh<n> for the namespace end lwn<n> (netns_peer.py). */
    snprintf(if_host, sizeof if_host, "lwh%s", if_ns + 3);
    /* netem (delay, loss, reordering, rate) when the kernel has sch_netem. Otherwise the same
     * faults from what the kernel has: an htb bandwidth limit with a slow lane that 15 % of the
     * stand-in's packets take at random (iptables statistic + CLASSIFY), so they arrive after
     * later ones (reordering, and a queueing delay for those), plus 2 % random loss each way
     * (iptables statistic DROP), which TCP repairs with retransmissions. */
    const char *netem = "netem delay 20ms 10ms loss 1% reorder 5% 50% rate 8mbit";
    double rate_bytes_s;
    int with_netem = 0, with_slow_lane = 1;
    snprintf(cmd, sizeof cmd, "tc qdisc add dev %s root %s 2>/dev/null", if_ns, netem);
    if (fault_sh("ip netns exec %s %s", g_ns, cmd) == 0) {
        snprintf(cmd, sizeof cmd, "tc qdisc add dev %s root %s", if_host, netem);
        CHECK_EQ_INT(fault_sh("%s", cmd), 0);
        rate_bytes_s = 8e6 / 8;
        with_netem = 1;
    } else {
        /* htb with two lanes and an iptables CLASSIFY rule; a kernel without htb or the CLASSIFY
         * target gets a plain tbf rate limit instead (and no reordering check). */
        const char *slow_lane[] = {
            "tc qdisc add dev %1$s root handle 1: htb default 10",
            "tc class add dev %1$s parent 1: classid 1:10 htb rate 4mbit ceil 4mbit burst 16k",
            "tc class add dev %1$s parent 1: classid 1:20 htb rate 1mbit ceil 1mbit burst 2k",
            ("iptables -t mangle -A POSTROUTING -o %1$s -p tcp --sport %2$u -m statistic --mode random "
             "--probability 0.15 -j CLASSIFY --set-class 1:20"),
        };
        for (size_t i = 0; i < sizeof slow_lane / sizeof *slow_lane && with_slow_lane; i++) {
            snprintf(cmd, sizeof cmd, slow_lane[i], if_ns, (unsigned)g_port);
            with_slow_lane = fault_sh("ip netns exec %s %s", g_ns, cmd) == 0;
        }
        if (with_slow_lane) {
            printf("  no sch_netem in this kernel: htb rate limit with a random slow lane (reordering), iptables loss\n");
        } else {
            printf("  no sch_netem, no htb slow lane here: tbf rate limit and iptables loss only\n");
            fault_sh("ip netns exec %s tc qdisc del dev %s root 2>/dev/null", g_ns, if_ns);
            snprintf(cmd, sizeof cmd, "tc qdisc add dev %s root tbf rate 4mbit burst 16kb latency 200ms", if_ns);
            ns_sh_ok(cmd);
        }
        CHECK_EQ_INT(fault_sh("tc qdisc add dev %s root tbf rate 4mbit burst 16kb latency 200ms", if_host), 0);
        snprintf(cmd, sizeof cmd, "iptables -A INPUT -p tcp --dport %u -m statistic --mode random --probability 0.02 -j DROP",
                 g_port);
        ns_sh_ok(cmd);
        snprintf(cmd, sizeof cmd, "iptables -A OUTPUT -p tcp --sport %u -m statistic --mode random --probability 0.02 -j DROP",
                 g_port);
        ns_sh_ok(cmd);
        rate_bytes_s = 4e6 / 8;
    }
    C4Socket *s = peer_test_open_nowait("ws", g_addr, g_port, NULL, 0);
    CHECK(fake_wait_opened(s, 15000));
    double t0 = fake_now_s();
    size_t bytes = fault_echo_exact(s, 300, 8000, 30000);
    double took = fake_now_s() - t0;
    printf("  %zu bytes echoed byte-exact in order over the shaped link in %.2f s\n", bytes, took);
    /* The shaping was in effect: the echo cannot beat the link's rate (with margin). */
    CHECK(took > 0.5 * (double)bytes / rate_bytes_s);
    if (!with_netem) {
        /* Packets were really lost (the DROP rules' counters) and really took the slow lane
         * (the CLASSIFY rule's counter). */
        ns_sh_ok("iptables -L -v -x -n | awk '/statistic/ && $1 > 0 {n++} END {exit n < 1}'");
        if (with_slow_lane)
            ns_sh_ok("iptables -t mangle -L -v -x -n | awk '/CLASSIFY/ && $1 > 0 {n++} END {exit n < 1}'");
        /* The proof of reordering: what the stand-in's TCP (the namespace's counters, fresh with
         * it) detected as such from our SACKs, TcpExt *Reorder events. (Our own out-of-order
         * queue fills after a loss too, so it proves nothing.) */
        if (with_slow_lane)
            ns_sh_ok("awk '/^TcpExt:/ { if (!h) { for (i = 1; i <= NF; i++) n[i] = $i; h = 1 } "
                 "else for (i = 1; i <= NF; i++) if (n[i] ~ /Reorder$/) r += $i } "
                 "END { print \"  reordering detected by the sender: \" r + 0; exit r < 1 }' /proc/net/netstat");
    }
    fake_socket_request_close(s, 1000, "done");
    FakeSocketState st = peer_test_finish(s, 15000);
    FAULT_CHECK_ERROR(st, 0, 0);
}

static void mode_drop(void) {
    const FlEntry hb[] = {FL_I("heartbeat", 2)};
    C4Socket *s = peer_test_open_nowait("ws", g_addr, g_port, hb, 1);
    CHECK(fake_wait_opened(s, 10000));
    fault_echo_exact(s, 5, 1000, 5000);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "iptables -A INPUT -p tcp --dport %u -j DROP", g_port);
    ns_sh_ok(cmd);
    snprintf(cmd, sizeof cmd, "iptables -A OUTPUT -p tcp --sport %u -j DROP", g_port);
    ns_sh_ok(cmd);
    double t0 = fake_now_s();
    fake_socket_write(s, "into the void", 13);
    FakeSocketState st = peer_test_finish(s, 15000);
    double took = fake_now_s() - t0;
    printf("  half-open connection ended after %.2f s\n", took);
    FAULT_CHECK_ERROR(st, 5, 3);
    CHECK(took > 1.5 && took < 8.0); /* ping after 2 s of silence, no pong within 1 s */
}

static void mode_reset(void) {
    C4Socket *s = peer_test_open_nowait("ws", g_addr, g_port, NULL, 0);
    CHECK(fake_wait_opened(s, 10000));
    fault_echo_exact(s, 5, 1000, 5000);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "iptables -A INPUT -p tcp --dport %u -j REJECT --reject-with tcp-reset", g_port);
    ns_sh_ok(cmd);
    fake_socket_write(s, "reset me", 8);
    FakeSocketState st = peer_test_finish(s, 10000);
    FAULT_CHECK_ERROR(st, 6, 1006);
    CHECK_EQ_INT(st.close_requested_calls, 0);
}

static void connect_case(int status, int drop_right_away, int domain, int code) {
    const uint16_t port = 9; /* nothing listens; its SYNs are dropped */
    C4Socket *s = peer_test_open_nowait("ws", g_addr, port, NULL, 0);
    fault_sleep_ms(300); /* the connect is under way */
    CHECK_EQ_INT(fake_socket_state(s).closed_calls, 0);
    double t0 = fake_now_s();
    fake_socket_request_close(s, status, "stop");
    if (drop_right_away) {
        fake_socket_drop(s);
        CHECK(fake_wait_disposed(s, 3000));
    } else {
        CHECK(fake_wait_closed(s, 3000));
        CHECK(fake_wait_refcount(s, 1, 2000));
        fake_socket_drop(s);
        CHECK(fake_wait_disposed(s, 2000));
    }
    double took = fake_now_s() - t0;
    FakeSocketState st = fake_socket_state(s);
    printf("  requestClose(%d) while connecting -> {%d, %d} \"%s\" after %.3f s\n", status, st.closed_error.domain,
           st.closed_error.code, st.closed_message, took);
    CHECK_EQ_INT(st.closed_calls, 1);
    CHECK_EQ_INT(st.opened_calls, 0);
    CHECK_NO_VIOLATIONS(st);
    FAULT_CHECK_ERROR(st, domain, code);
    CHECK(took < 1.5);
    fake_socket_free(s);
}

static void mode_connect(void) {
    ns_sh_ok("iptables -A INPUT -p tcp --dport 9 -j DROP");
    connect_case(504, 0, 5, 3);
    connect_case(1000, 0, 0, 0);
    connect_case(504, 1, 5, 3);
}

int main(int argc, char **argv) {
    CHECK(argc == 5);
    char *pargv[] = {argv[1], argv[2], argv[3], (char *)"--guest", (char *)"--quiet", NULL};
    CHECK(fake_peer_start(&g_peer, pargv, 30000));
    char skip[512];
    fake_peer_str(&g_peer, "skip", skip, sizeof skip);
    if (skip[0]) {
        printf("SKIP: no network namespace: %s\n", skip);
        fake_peer_stop(&g_peer);
        return FAULT_SKIP;
    }
    fake_peer_str(&g_peer, "ns", g_ns, sizeof g_ns);
    fake_peer_str(&g_peer, "addr", g_addr, sizeof g_addr);
    g_port = (uint16_t)fake_peer_int(&g_peer, "public");
    CHECK(g_ns[0] && g_addr[0] && g_port);
    CHECK(strncmp(g_addr, "10.200.", 7) == 0); /* only our own namespace's addresses */
    printf("  stand-in at %s:%u in namespace %s\n", g_addr, g_port, g_ns);
    peer_test_init();

    const char *mode = argv[4];
    if (strcmp(mode, "shaping") == 0) mode_shaping();
    else if (strcmp(mode, "drop") == 0) mode_drop();
    else if (strcmp(mode, "reset") == 0) mode_reset();
    else if (strcmp(mode, "connect") == 0) mode_connect();
    else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    fault_check_buffers_released(5000);
    fake_peer_stop(&g_peer); /* netns_peer.py deletes the namespace, its rules and the veth */
    printf("fault_netns %s ok\n", mode);
    return 0;
}
