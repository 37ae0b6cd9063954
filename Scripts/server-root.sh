#!/bin/sh
# Prints the path of a minimal Debian 12 root as a tar: a server stand-in with no Swift in it,
# built by Debian's mmdebstrap (--variant=apt) with PACKAGE... added, and cached under the lab
# cache (one file per package set; built once, then reused).
#
#   Scripts/server-root.sh [PACKAGE...]      default: gcc libc6-dev pkg-config
#
# Enter an unpacked copy with: unshare -m -p -f --mount-proc=ROOT/proc chroot ROOT
set -eu
packages=${*:-gcc libc6-dev pkg-config}
command -v mmdebstrap >/dev/null || { echo "server-root.sh: mmdebstrap is missing: apt-get install mmdebstrap" >&2; exit 69; }
if [ "$(id -u)" = 0 ]; then cache=/var/cache/inject/lab/server-root; else cache=${XDG_CACHE_HOME:-$HOME/.cache}/inject/lab/server-root; fi
mkdir -p "$cache"
chmod 700 "$cache"
key=$(printf 'bookworm apt %s\n' "$packages" | sha256sum | cut -c1-16)
tar="$cache/bookworm-$key.tar"
(
    flock 9
    if [ ! -s "$tar" ]; then
        mmdebstrap --quiet --variant=apt --include="$(echo "$packages" | tr ' ' ',')" bookworm "$tar.part" >&2
        mv "$tar.part" "$tar"
    fi
) 9>"$cache/.lock"
echo "$tar"
