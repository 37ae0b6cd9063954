#!/bin/sh
# Prints the path of a virtual environment holding ansible-core and ansible-lint (pinned versions),
# creating it under the lab cache when missing (pip, from PyPI; python3-venv from Debian).
#
#   ansible/tests/ansible-venv.sh
set -eu
cache=${INJECT_LAB_CACHE:-/var/cache/inject/lab}
venv=$cache/ansible-venv
version=2.19.14
lint=26.10.1
if [ ! -x "$venv/bin/ansible-lint" ] || [ "$("$venv/bin/python" -c 'import ansible.release; print(ansible.release.__version__)' 2>/dev/null)" != "$version" ]; then
    rm -rf "$venv"
    mkdir -p "$cache"
    /usr/bin/python3 -m venv "$venv" >&2
    "$venv/bin/pip" install -q "ansible-core==$version" "ansible-lint==$lint" >&2
fi
echo "$venv"
