#!/bin/sh
# Prints the path of a minimal Debian 12 root: a server stand-in with no Swift in it, built by
# Debian's mmdebstrap (--variant=apt) with PACKAGE... added, and cached under the lab cache (one
# tar per package set; built once, then reused).
#
#   Scripts/server-root.sh [--unpacked] [PACKAGE...]      default packages: gcc libc6-dev pkg-config
#
#   --unpacked   print a cached directory holding the root unpacked instead of the tar; treat it
#                as read-only (the fleet test mounts it as the lower layer of an overlay per node)
#
# Enter an unpacked copy with: unshare -m -p -f --mount-proc=ROOT/proc chroot ROOT
set -eu
unpacked=0
if [ "${1:-}" = --unpacked ]; then unpacked=1; shift; fi
case "${1:-}" in -*) echo "server-root.sh: unknown option '$1' (usage: server-root.sh [--unpacked] [PACKAGE...])" >&2; exit 64 ;; esac
packages=${*:-gcc libc6-dev pkg-config}
command -v mmdebstrap >/dev/null || { echo "server-root.sh: mmdebstrap is missing: apt-get install mmdebstrap" >&2; exit 69; }
if [ "$(id -u)" = 0 ]; then cache=/var/cache/inject/lab/server-root; else cache=${XDG_CACHE_HOME:-$HOME/.cache}/inject/lab/server-root; fi
mkdir -p "$cache"
chmod 700 "$cache"
key=$(printf 'bookworm apt %s\n' "$packages" | sha256sum | cut -c1-16)
tar="$cache/bookworm-$key.tar"
directory="$cache/bookworm-$key.root"
(
    flock 9
    if [ ! -f "$tar" ] || [ ! -s "$tar" ]; then
        # mmdebstrap picks its output format from the name: the partial file must end in .tar.
        rm -rf "$tar" "$directory" "$cache/partial-$key.tar"
        mmdebstrap --quiet --variant=apt --include="$(echo "$packages" | tr ' ' ',')" bookworm "$cache/partial-$key.tar" >&2
        mv "$cache/partial-$key.tar" "$tar"
    fi
    if [ $unpacked = 1 ] && [ ! -d "$directory" ]; then
        rm -rf "$cache/partial-$key.root"
        mkdir "$cache/partial-$key.root"
        tar -C "$cache/partial-$key.root" -xf "$tar"
        mv "$cache/partial-$key.root" "$directory"
    fi
) 9>"$cache/.lock"
if [ $unpacked = 1 ]; then echo "$directory"; else echo "$tar"; fi
