#!/bin/sh
# Installs the inject SDK under a prefix: the tool, the shipped plugins, the C plugin header, a
# pkg-config file for plugin authors, and the docs.
#
#   Scripts/install.sh [--prefix DIR] [--build-dir DIR] [--destdir DIR]
#
#   --prefix DIR     where it will live (default /usr/local)
#   --build-dir DIR  install an existing build (e.g. .build/debug) instead of building release
#   --destdir DIR    stage under DIR; paths inside stay relative to the prefix
#
# This is the developer's install: the binaries load the Swift runtime of the toolchain that built
# them. For a server (no Swift toolchain), use Scripts/package.sh: a .deb and a relocatable tarball
# that carry the runtime.
#
# Layout: bin/inject, lib/inject/plugins/*.so (found by inject through <prefix>/lib/inject/plugins),
# include/inject/inject_plugin.h, lib/pkgconfig/inject-plugin.pc, share/doc/inject/.
set -eu
cd "$(dirname "$0")/.."
prefix=/usr/local
build=""
destdir=""
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix=$2; shift 2 ;;
        --build-dir) build=$2; shift 2 ;;
        --destdir) destdir=$2; shift 2 ;;
        --tarball) echo "install.sh: --tarball is gone: its tarball needed the build machine's Swift toolchain; Scripts/package.sh makes a .deb and a tarball that run on any Debian server" >&2; exit 64 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown argument '$1' (see --help)" >&2; exit 64 ;;
    esac
done
case "$prefix" in /*) ;; *) echo "install.sh: --prefix must be absolute, not '$prefix'" >&2; exit 64 ;; esac
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
echo "installed inject (plugin ABI $abi) under $root"
echo "plugin authors: cc \$(pkg-config --cflags inject-plugin) -shared -fPIC -o libmine.so mine.c; install it in \$(pkg-config --variable=plugindir inject-plugin)"
