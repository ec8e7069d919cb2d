#!/usr/bin/env bash
# Installs what the demo or the tests need, when it is missing (Debian/Ubuntu, as root or via
# sudo). Called by demo.sh ("demo") and test.sh ("test"); safe to run repeatedly.
#   demo: cmake, a C/C++ compiler, python3 with websockets, nginx, openssl
#   test: the above plus curl, clang + its sanitizer runtime, valgrind, binutils, tinyproxy, kosoku,
#         python3's cryptography (tests/peers/tls_zoo.py makes its certificates with it),
#         qt6-base-dev (the Qt example, ctest example_qt), pkgconf (the install test), and
#         iproute2 + iptables (the fault tests' network namespaces, tc qdiscs and rules)
# The Rust toolchain (cargo) must already be installed (https://rustup.rs).
set -euo pipefail
what=${1:-test}
export PATH="$HOME/.cargo/bin:$PATH"

command -v cargo >/dev/null || { echo "setup: cargo not found; install Rust (rustup) first" >&2; exit 1; }

apt_pkgs=()
need() { command -v "$1" >/dev/null || apt_pkgs+=("$2"); }
need cmake cmake
need make make
need cc gcc
need c++ g++
need python3 python3
need nginx nginx-light
need openssl openssl
if [ "$what" = test ]; then
  need curl curl                # the listener's HTTP refusals as curl sees them (listener_curl)
  need clang clang
  need valgrind valgrind
  need nm binutils
  need readelf binutils
  need pkg-config pkgconf        # the install test builds a consumer with pkg-config
  need ip iproute2              # fault_netns_*: ip netns, veth, tc
  need tc iproute2
  need iptables iptables
  need tinyproxy tinyproxy-bin   # the proxy test (tinyproxy-bin: the binary, without the system service)
  ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.asan-*.a >/dev/null 2>&1 || apt_pkgs+=(libclang-rt-14-dev)
  # Qt6 Core's CMake package: the Qt example (examples-c/qt, ctest example_qt)
  ls /usr/lib/*/cmake/Qt6Core/Qt6CoreConfig.cmake >/dev/null 2>&1 || apt_pkgs+=(qt6-base-dev)
fi
if [ ${#apt_pkgs[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  command -v apt-get >/dev/null || { echo "setup: please install: ${apt_pkgs[*]}" >&2; exit 1; }
  echo "setup: installing ${apt_pkgs[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    ca-certificates "${apt_pkgs[@]}" >/dev/null
fi

py_pkgs=()
python3 -c 'import websockets, sys; sys.exit(int(websockets.__version__.split(".")[0]) < 15)' 2>/dev/null \
  || py_pkgs+=('websockets>=15,<18')
if [ "$what" = test ]; then
  command -v kosoku >/dev/null || py_pkgs+=('kosoku==0.1.0')
  python3 -c 'import cryptography, sys; sys.exit(int(cryptography.__version__.split(".")[0]) < 38)' 2>/dev/null \
    || py_pkgs+=('cryptography>=38')
fi
if [ ${#py_pkgs[@]} -gt 0 ]; then
  python3 -m pip --version >/dev/null 2>&1 || { echo "setup: pip is missing (apt-get install python3-pip)" >&2; exit 1; }
  echo "setup: pip installing ${py_pkgs[*]}"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "${py_pkgs[@]}" \
    || python3 -m pip install -q --disable-pip-version-check --break-system-packages "${py_pkgs[@]}"
fi
