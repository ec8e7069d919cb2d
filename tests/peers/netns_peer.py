#!/usr/bin/env python3
"""Runs the SG stand-in inside a network namespace of its own, reachable over a veth pair.

    netns_peer.py SG_STANDIN.py [stand-in options...]

For the fault tests (tests/c/tests/faults/test_fault_netns.c): faults are made with real tools inside
that namespace (iptables DROP / REJECT, tc qdiscs on the namespace's end of the veth, SIGKILL of
the stand-in), never on the host's own interfaces or rules.

- Names are unique per run: namespace `lcws-fault-<pid>`, veth `lwh<pid>` (host end) and
  `lwn<pid>` (namespace end), a 10.200.X.Y/30 no interface uses yet, searched from one derived
  from the pid (host .1, namespace .2). Only addresses inside that /30 are ever used.
- Prints one line: `READY {"public", "admin" (the stand-in's ports), "addr" (the stand-in's
  address, in the namespace), "host_addr", "ns", "ns_if", "pid" (the stand-in's pid)}`; or,
  when `ip netns add` is refused here (not root, no CAP_NET_ADMIN), `READY {"skip": "why"}`
  and exits. A failure after the namespace exists (veth, addresses) exits 1 without READY:
  the test fails.
- Stops when stdin reaches EOF (the test closed it or died) or on SIGTERM/SIGINT; the namespace
  (with its iptables rules and qdiscs) and the veth pair are deleted on every one of these
  paths. (A stand-in that dies is noticed by the test, not here.)
"""
import atexit
import json
import os
import signal
import subprocess
import sys

sys.dont_write_bytecode = True  # importing peer_util leaves no __pycache__ in tests/peers
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # also under python3 -P / -I
import peer_util  # noqa: E402

PID = os.getpid()
NS = f"lcws-fault-{PID}"
HOST_IF = f"lwh{PID}"
NS_IF = f"lwn{PID}"


def pick_subnet():
    """A 10.200.x.y/30 no interface of this host uses yet, starting from one derived from the
    pid (so runs at the same time start far apart). Returns (host address, namespace address)."""
    used = set()
    r = subprocess.run(["ip", "-4", "-o", "addr", "show"], stdout=subprocess.PIPE, text=True)
    for word in r.stdout.split():
        if word.startswith("10.200."):
            a = word.split("/")[0].split(".")
            used.add((int(a[2]), int(a[3]) // 4))
    for i in range(16384):
        k = (PID + i) % 16384
        if (k // 64, k % 64) not in used:
            return f"10.200.{k // 64}.{(k % 64) * 4 + 1}", f"10.200.{k // 64}.{(k % 64) * 4 + 2}"
    raise RuntimeError("no free /30 in 10.200.0.0/16")


HOST_ADDR = NS_ADDR = None

child = None
made = False


def run(*cmd, check=True):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip() or r.returncode}")
    return r


def cleanup():
    global child, made
    if child is not None and child.poll() is None:
        try:
            child.kill()
            child.wait(5)
        except Exception:
            pass
    child = None
    if made:
        run("ip", "link", "del", HOST_IF, check=False)  # usually gone with the namespace
        run("ip", "netns", "del", NS, check=False)
        made = False


def on_signal(signum, frame):
    cleanup()
    os._exit(0)


def main(argv):
    global child, made, HOST_ADDR, NS_ADDR
    if len(argv) < 1:
        print("usage: netns_peer.py SG_STANDIN.py [options]", file=sys.stderr)
        return 2
    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    r = run("ip", "netns", "add", NS, check=False)
    if r.returncode != 0:
        peer_util.print_ready({"skip": f"ip netns add: {r.stderr.strip() or r.returncode}"})
        return 0
    made = True
    try:
        HOST_ADDR, NS_ADDR = pick_subnet()
        run("ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", NS_IF)
        run("ip", "link", "set", NS_IF, "netns", NS)
        run("ip", "addr", "add", f"{HOST_ADDR}/30", "dev", HOST_IF)
        run("ip", "link", "set", HOST_IF, "up")
        run("ip", "netns", "exec", NS, "ip", "addr", "add", f"{NS_ADDR}/30", "dev", NS_IF)
        run("ip", "netns", "exec", NS, "ip", "link", "set", NS_IF, "up")
        run("ip", "netns", "exec", NS, "ip", "link", "set", "lo", "up")
    except (RuntimeError, FileNotFoundError) as e:
        # The namespace could be made: anything failing after that is an error, not a skip.
        print(f"netns_peer: {e}", file=sys.stderr)
        cleanup()
        return 1
    # `ip netns exec` enters the namespace and execs the stand-in: same pid.
    child = subprocess.Popen(["ip", "netns", "exec", NS, sys.executable, argv[0], "--host", NS_ADDR]
                             + argv[1:], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    line = child.stdout.readline().decode()
    if not line.startswith("READY "):
        print(f"netns_peer: the stand-in did not start: {line!r}", file=sys.stderr)
        cleanup()
        return 1
    info = json.loads(line[6:])
    info.update({"addr": NS_ADDR, "host_addr": HOST_ADDR, "ns": NS, "ns_if": NS_IF, "pid": child.pid})
    peer_util.print_ready(info)
    peer_util.read_stdin_to_eof()  # until the test closes our stdin (or dies)
    cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
