#!/bin/sh
# Installs the inject SDK under a prefix: the tool, the shipped plugins, the C plugin header, a
# pkg-config file for plugin authors, and the docs.
#
#   Scripts/install.sh [--prefix DIR] [--build-dir DIR] [--destdir DIR | --tarball FILE]
#
#   --prefix DIR     where it will live (default /usr/local)
#   --build-dir DIR  install an existing build (e.g. .build/debug) instead of building release
#   --destdir DIR    stage under DIR (for packaging); paths inside stay relative to the prefix
#   --tarball FILE   write a release tarball instead (.tar.gz, paths from /: `tar -C / -xzf FILE`,
#                    or the Ansible role inject.ras.install)
#
# Layout: bin/inject, lib/inject/plugins/*.so (found by inject through <prefix>/lib/inject/plugins),
# include/inject/inject_plugin.h, lib/pkgconfig/inject-plugin.pc, share/doc/inject/.
set -eu
cd "$(dirname "$0")/.."
prefix=/usr/local
build=""
destdir=""
tarball=""
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix=$2; shift 2 ;;
        --build-dir) build=$2; shift 2 ;;
        --destdir) destdir=$2; shift 2 ;;
        --tarball) tarball=$2; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 64 ;;
    esac
done
case "$prefix" in /*) ;; *) echo "install.sh: --prefix must be absolute, not '$prefix'" >&2; exit 64 ;; esac
if [ -n "$tarball" ]; then
    [ -z "$destdir" ] || { echo "install.sh: give --destdir or --tarball, not both" >&2; exit 64; }
    case "$tarball" in /*) ;; *) tarball=$(pwd)/$tarball ;; esac
    staging=$(mktemp -d)
    trap 'rm -rf "$staging"' EXIT
    destdir=$staging
fi
if [ -z "$build" ]; then
    swift build -c release >/dev/null
    build=.build/release
fi
[ -x "$build/inject" ] || { echo "install.sh: no inject executable in $build (build first)" >&2; exit 1; }
root="$destdir$prefix"
abi=$(sed -n 's/^#define INJECT_ABI_MAJOR \([0-9]*\)/\1/p' Sources/InjectPluginABI/include/inject_plugin.h).$(sed -n 's/^#define INJECT_ABI_MINOR \([0-9]*\)/\1/p' Sources/InjectPluginABI/include/inject_plugin.h)

install -d -m 755 "$root/bin" "$root/lib/inject/plugins" "$root/include/inject" "$root/lib/pkgconfig" "$root/share/doc/inject"
install -m 755 "$build/inject" "$root/bin/inject"
for plugin in "$build"/libInject*.so; do install -m 644 "$plugin" "$root/lib/inject/plugins/"; done
install -m 644 Sources/InjectPluginABI/include/inject_plugin.h "$root/include/inject/inject_plugin.h"
install -m 644 README.md docs/*.md "$root/share/doc/inject/"
cat > "$root/lib/pkgconfig/inject-plugin.pc" <<PC
prefix=$prefix
includedir=\${prefix}/include
libdir=\${prefix}/lib
plugindir=\${libdir}/inject/plugins

Name: inject-plugin
Description: The C ABI for inject backend plugins (inject_plugin.h)
Version: $abi
Cflags: -I\${includedir}/inject
PC
chmod 644 "$root/lib/pkgconfig/inject-plugin.pc"
if [ -n "$tarball" ]; then
    # Only the prefix's own tree: no entry for / or its parents, whose modes unpacking would change.
    tar -C "$staging" --owner=0 --group=0 -czf "$tarball" "${prefix#/}"
    echo "wrote $tarball (inject, plugin ABI $abi, for $prefix)"
    exit 0
fi
echo "installed inject (plugin ABI $abi) under $root"
echo "plugin authors: cc \$(pkg-config --cflags inject-plugin) -shared -fPIC -o libmine.so mine.c; install it in \$(pkg-config --variable=plugindir inject-plugin)"
