#!/bin/sh
# Run inside a minimal Debian 12 root with no Swift (Tests/EndToEndTests/PackageTests.swift): installs
# the package as a server's administrator would, uses it, builds a C plugin against its header,
# unpacks the tarball elsewhere, and removes the package again. Prints one "name: value" line per
# check; the test reads them.
set -u
cd /
echo "swift before: $(find / -xdev \( -name 'libswiftCore.so' -o -name swift -type d -path '*/opt/*' \) 2>/dev/null | wc -l)"
apt-get install -y -q ./inject.deb >/tmp/apt.log 2>&1
echo "apt install: $?"
grep -E '^(Setting up|Unpacking) ' /tmp/apt.log | sed 's/^/apt: /'
echo "version: $(inject --version)"
echo "ldd not found: $(ldd /usr/bin/inject | grep -c 'not found')"
echo "ldd outside: $(ldd /usr/bin/inject | awk '$3 ~ /^\// && $3 !~ /^\/(usr\/)?lib/' | wc -l)"
echo "runtime from: $(ldd /usr/bin/inject | awk '/libswiftCore/ {print $3}')"
echo "list: $(inject list | awk 'NF > 1 {print $1}' | sort | tr '\n' ' ')"
inject info mce >/tmp/info 2>&1
echo "info: $? $(grep -c '^  ' /tmp/info)"
inject doctor >/tmp/doctor 2>&1
echo "doctor: $? $(wc -l </tmp/doctor)"
mkdir -p /tree/sys/kernel/debug/mce-inject
for f in flags cpu status misc addr synd ipid bank; do : >/tree/sys/kernel/debug/mce-inject/$f; done
inject run mce cpu=0 bank=1 --dry-run --root /tree >/tmp/dry 2>&1
echo "dry run: $? $(head -1 /tmp/dry)"
cc $(pkg-config --cflags inject-plugin) -shared -fPIC -Wall -Werror \
    -o /usr/lib/inject/plugins/libexample.so /example_hwpoison.c >/tmp/cc 2>&1
echo "c plugin built: $?"
echo "c plugin listed: $(inject list | grep -c '^example-hwpoison ')"
inject run example-hwpoison pfn=0x1234 --dry-run --root /tree >/tmp/cdry 2>&1
echo "c plugin dry run: $? $(head -1 /tmp/cdry)"
rm /usr/lib/inject/plugins/libexample.so
dpkg -L inject >/tmp/files
echo "files: $(wc -l </tmp/files)"
apt-get remove --purge -y -q inject >/tmp/remove.log 2>&1
echo "apt remove: $?"
left=0
while read -r path; do
    [ -f "$path" ] || [ -L "$path" ] && left=$((left + 1)) && echo "left: $path"
    [ -d "$path" ] && case "$path" in /usr/lib/inject*|/usr/include/inject|/usr/share/doc/inject) left=$((left + 1)); echo "left: $path" ;; esac
done </tmp/files
echo "left behind: $left"
# The tarball, unpacked anywhere once the package is gone: it finds its own runtime and plugins.
mkdir -p /opt/elsewhere && tar -C /opt/elsewhere -xzf /inject.tar.gz
echo "tarball list: $(/opt/elsewhere/usr/bin/inject list | grep -c ' /opt/elsewhere/usr/lib/inject/plugins/libInject')"
echo "tarball version: $(/opt/elsewhere/usr/bin/inject --version)"
