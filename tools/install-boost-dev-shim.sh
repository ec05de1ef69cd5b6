#!/usr/bin/env bash
# Debian 12 ships Boost.JSON only with Boost 1.81 (libboost-json1.81-dev), while python3-scipy
# (needed by python3-sklearn) depends, through python3-pythran, on libboost-dev, which is Boost
# 1.74 and conflicts with 1.81. This installs a small local package named libboost-dev that
# depends on libboost1.81-dev instead, so both can be installed. Idempotent.
set -euo pipefail
if dpkg -s libboost-dev >/dev/null 2>&1; then exit 0; fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/pkg/DEBIAN"
cat >"$dir/pkg/DEBIAN/control" <<'CONTROL'
Package: libboost-dev
Version: 1.81.0.1~zflow1
Architecture: all
Maintainer: zflow <zflow@localhost>
Depends: libboost1.81-dev
Section: libdevel
Priority: optional
Description: Boost 1.81 headers under the libboost-dev name (zflow build shim)
 Satisfies packages that depend on libboost-dev (python3-pythran, via python3-scipy) with the
 Boost 1.81 development files that Boost.JSON needs on Debian 12.
CONTROL
dpkg-deb --build "$dir/pkg" "$dir/libboost-dev.deb" >/dev/null
if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
$SUDO dpkg -i "$dir/libboost-dev.deb"
