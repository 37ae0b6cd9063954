#!/bin/sh
# Builds the Debian package and the relocatable tarball of inject from a release build:
#
#   dist/inject_<version>_amd64.deb          apt install ./inject_*.deb
#   dist/inject-<version>-x86_64-linux.tar.gz tar -C PREFIX -xzf ... (PREFIX/usr/bin/inject)
#
#   Scripts/package.sh [--output DIR] [--build-dir DIR] [--revision N]
#
#   --output DIR     where the two files go (default dist/)
#   --build-dir DIR  package an existing release build (default: build .build/release first)
#   --revision N     the Debian revision (default 1)
#
# Both carry the same tree: /usr/bin/inject, the shipped plugins in /usr/lib/inject/plugins, and
# the Swift runtime the binaries load in /usr/lib/inject/swift, found through RUNPATHs relative to
# $ORIGIN (never /opt/swift or the system's library path), so a server needs no Swift toolchain.
# Beside them: the C plugin header and its pkg-config file, man pages, bash/zsh/fish completions
# and the docs. Depends is computed by dpkg-shlibdeps from what the binaries link.
set -eu
cd "$(dirname "$0")/.."
output=dist
build=""
revision=1
while [ $# -gt 0 ]; do
    case "$1" in
        --output) output=$2; shift 2 ;;
        --build-dir) build=$2; shift 2 ;;
        --revision) revision=$2; shift 2 ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "package.sh: unknown argument '$1' (see --help)" >&2; exit 64 ;;
    esac
done
case "$revision" in ''|*[!0-9]*) echo "package.sh: --revision must be a number, not '$revision'" >&2; exit 64 ;; esac
# dpkg-dev and patchelf: installed when missing as root, named otherwise.
if ! command -v dpkg-shlibdeps >/dev/null || ! command -v patchelf >/dev/null; then
    if [ "$(id -u)" = 0 ]; then
        echo "package.sh: installing dpkg-dev patchelf with apt-get" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dpkg-dev patchelf >/dev/null \
            || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dpkg-dev patchelf >/dev/null; } \
            || { echo "package.sh: installing dpkg-dev patchelf failed: apt-get install dpkg-dev patchelf" >&2; exit 69; }
    fi
fi
for tool in dpkg-deb dpkg-shlibdeps patchelf; do
    command -v "$tool" >/dev/null || { echo "package.sh: $tool is missing: sudo apt-get install dpkg-dev patchelf" >&2; exit 69; }
done
if [ -z "$build" ]; then
    swift build -c release >/dev/null
    build=.build/release
fi
# swift-argument-parser's man page generator (the tool behind `swift package generate-manual`),
# built in a scratch directory of its own: `swift test` holds .build while the suite packages.
swift build --scratch-path .build-tools --product generate-manual >/dev/null
manual=$(swift build --scratch-path .build-tools --show-bin-path)/generate-manual
[ -x "$build/inject" ] || { echo "package.sh: no inject executable in $build (build first)" >&2; exit 1; }

upstream=$(sed -n 's/^ *version: "\([0-9.]*\)",$/\1/p' Sources/inject/Inject.swift)
[ -n "$upstream" ] || { echo "package.sh: no version in Sources/inject/Inject.swift" >&2; exit 1; }
version="$upstream-$revision"
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
header=Sources/InjectPluginABI/include/inject_plugin.h
abi=$(sed -n 's/^#define INJECT_ABI_MAJOR \([0-9]*\)/\1/p' $header).$(sed -n 's/^#define INJECT_ABI_MINOR \([0-9]*\)/\1/p' $header)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/inject_${version}_amd64"
install -d -m 755 "$root/usr/bin" "$root/usr/lib/inject/plugins" "$root/usr/lib/inject/swift" \
    "$root/usr/include/inject" "$root/usr/lib/$multiarch/pkgconfig" "$root/usr/share/doc/inject" \
    "$root/usr/share/man/man1" "$root/usr/share/bash-completion/completions" \
    "$root/usr/share/zsh/vendor-completions" "$root/usr/share/fish/vendor_completions.d" "$root/DEBIAN"

# The binaries, stripped, each finding the runtime relative to itself.
install -m 755 "$build/inject" "$root/usr/bin/inject"
for plugin in "$build"/libInject*.so; do install -m 644 "$plugin" "$root/usr/lib/inject/plugins/"; done
strip --strip-unneeded "$root/usr/bin/inject" "$root"/usr/lib/inject/plugins/*.so
patchelf --set-rpath '$ORIGIN/../lib/inject/swift' "$root/usr/bin/inject"
for plugin in "$root"/usr/lib/inject/plugins/*.so; do patchelf --set-rpath '$ORIGIN/../swift' "$plugin"; done

# The Swift runtime: every library the binaries load from outside the system's directories.
for elf in "$build/inject" "$build"/libInject*.so; do ldd "$elf"; done |
    awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u |
    while read -r library; do
        case "$library" in
            /lib/* | /usr/lib/* | /lib64/*) ;;
            *) install -m 644 "$library" "$root/usr/lib/inject/swift/" ;;
        esac
    done
for library in "$root"/usr/lib/inject/swift/*.so*; do
    strip --strip-unneeded "$library"
    patchelf --set-rpath '$ORIGIN' "$library"
done
printf 'version=%s\ncommit=%s\nabi=%s\n' "$version" "$commit" "$abi" >"$root/usr/lib/inject/build-info"
chmod 644 "$root/usr/lib/inject/build-info"

# For plugin authors.
install -m 644 $header "$root/usr/include/inject/inject_plugin.h"
cat >"$root/usr/lib/$multiarch/pkgconfig/inject-plugin.pc" <<PC
prefix=/usr
includedir=\${prefix}/include
plugindir=\${prefix}/lib/inject/plugins

Name: inject-plugin
Description: The C ABI for inject backend plugins (inject_plugin.h)
Version: $abi
Cflags: -I\${includedir}/inject
PC
chmod 644 "$root/usr/lib/$multiarch/pkgconfig/inject-plugin.pc"

# Man pages and completions, from swift-argument-parser, made by the packaged binary itself.
# (bash-completion sources its files: no #! line.)
"$root/usr/bin/inject" --generate-completion-script bash | sed '1{/^#!/d}' >"$root/usr/share/bash-completion/completions/inject"
"$root/usr/bin/inject" --generate-completion-script zsh >"$root/usr/share/zsh/vendor-completions/_inject"
"$root/usr/bin/inject" --generate-completion-script fish >"$root/usr/share/fish/vendor_completions.d/inject.fish"
chmod 644 "$root"/usr/share/*/completions/inject "$root"/usr/share/zsh/vendor-completions/_inject \
    "$root"/usr/share/fish/vendor_completions.d/inject.fish
date=$(date -u -d @"${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}" +%Y-%m-%d)
"$manual" "$root/usr/bin/inject" --multi-page --date "$date" --authors "inject authors<inject-ras@users.noreply.github.com>" \
    --output-directory "$root/usr/share/man/man1" >/dev/null
gzip -9n "$root"/usr/share/man/man1/*.1
chmod 644 "$root"/usr/share/man/man1/*

# Docs, as Debian wants them.
install -m 644 README.md docs/*.md "$root/usr/share/doc/inject/"
gzip -9n "$root"/usr/share/doc/inject/*.md
cat >"$root/usr/share/doc/inject/copyright" <<'COPYRIGHT'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: inject
Comment: The Swift runtime libraries in /usr/lib/inject/swift come from the Swift toolchain
 (swift.org) and are distributed under the Apache License 2.0 with the Runtime Library Exception.

Files: *
Copyright: 2026 the inject authors
License: Apache-2.0
 On Debian systems, the full text of the Apache License 2.0 is in
 /usr/share/common-licenses/Apache-2.0.
COPYRIGHT
printf 'inject (%s) unstable; urgency=medium\n\n  * Built from commit %s.\n\n -- inject authors <inject-ras@users.noreply.github.com>  %s\n' \
    "$version" "$commit" "$(date -R -u -d @"${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")" |
    gzip -9n >"$root/usr/share/doc/inject/changelog.Debian.gz"
chmod 644 "$root"/usr/share/doc/inject/*

# Depends, from what the binaries link (the private runtime is ours, not a dependency).
mkdir -p "$work/shlibs/debian"
printf 'Source: inject\n\nPackage: inject\nArchitecture: amd64\n' >"$work/shlibs/debian/control"
depends=$(cd "$work/shlibs" && dpkg-shlibdeps -O -l"$root/usr/lib/inject/swift" \
    "$root/usr/bin/inject" "$root"/usr/lib/inject/plugins/*.so "$root"/usr/lib/inject/swift/*.so* 2>/dev/null |
    sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "package.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: inject
Version: $version
Architecture: amd64
Maintainer: inject authors <inject-ras@users.noreply.github.com>
Installed-Size: $size
Depends: $depends
Section: admin
Priority: optional
Homepage: https://github.com/inject-ras/inject
Description: hardware error injection for Linux, through backend plugins
 inject injects machine checks, memory-controller errors, firmware-first
 APEI/GHES/EINJ records, PCIe AER and CXL errors, and the notifications that
 deliver them, through backend plugins, and checks that the kernel and its
 consumers saw them. It carries its own Swift runtime in /usr/lib/inject/swift.
CONTROL
(cd "$root" && find usr -type f -exec md5sum {} + | sort -k2) >"$root/DEBIAN/md5sums"
chmod 644 "$root/DEBIAN/control" "$root/DEBIAN/md5sums"

mkdir -p "$output"
dpkg-deb --root-owner-group -Zxz --build "$root" "$output/inject_${version}_amd64.deb" >/dev/null
tar -C "$root" --owner=0 --group=0 --numeric-owner --exclude=DEBIAN -czf \
    "$output/inject-$version-x86_64-linux.tar.gz" usr
echo "$output/inject_${version}_amd64.deb"
echo "$output/inject-$version-x86_64-linux.tar.gz"
echo "Depends: $depends"
echo "installed size: $size KiB"
