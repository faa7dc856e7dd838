#!/bin/sh
# The one place that knows which Debian 12 packages kasa needs to build,
# test, fuzz and benchmark.  Installs only what is missing; prints nothing
# when everything is already there.  Safe to run any number of times.
set -eu

PACKAGES="
build-essential
cmake
pkg-config
clang
libclang-rt-14-dev
libjansson-dev
libpcre2-dev
libutf8proc-dev
libcmocka-dev
libssl-dev
libsqlite3-dev
libpq-dev
libmicrohttpd-dev
libgnutls28-dev
libargon2-dev
libcurl4-openssl-dev
libxxhash-dev
curl
wrk
ripgrep
postgresql
time
"
# Hyperscan (LIKE and MATCHES in the engine) is built for x86 only; on
# other machines kasa builds without it and finds those indicators by type
case "$(dpkg --print-architecture 2>/dev/null)" in
amd64 | i386) PACKAGES="$PACKAGES libhyperscan-dev" ;;
esac

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing" >&2
    echo "install-deps: run as root (or: sudo apt-get install$missing)" >&2
    exit 1
fi

echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
