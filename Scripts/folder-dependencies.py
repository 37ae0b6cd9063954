#!/usr/bin/env python3
"""Prints which folders of a Swift target use types declared in which other folders.

Usage: Scripts/folder-dependencies.py [--layers] Sources/InjectHost
A folder uses another when one of its files names a type (struct, enum, class, protocol, actor,
typealias) declared at the top level of a file in the other. Pairs that use each other both ways
are listed last as cycles; the exit status is 1 when there is one. With --layers, prints the
folders by layer instead, each using only folders of the layers below it (the README's graph).
"""
import os
import re
import sys

DECLARATION = re.compile(r"^(?:public |internal |package |final |@\w+ )*(?:struct|enum|class|protocol|actor|typealias)\s+(\w+)", re.M)
COMMENT = re.compile(r"//.*?$|/\*.*?\*/", re.S | re.M)
STRING = re.compile(r'"(?:\\.|[^"\\\n])*"')


def folder_of(root, path):
    relative = os.path.relpath(path, root)
    return relative.split(os.sep)[0] if os.sep in relative else "."


def layers(uses, folders):
    """Each folder's layer: one above the highest layer of the folders it uses."""
    level = {}

    def of(folder, seen=()):
        if folder not in level:
            if folder in seen:
                raise SystemExit(f"cycle through {folder}")
            level[folder] = 1 + max((of(other, seen + (folder,)) for other in uses.get(folder, {})), default=-1)
        return level[folder]

    for folder in folders:
        of(folder)
    for number in range(max(level.values()), -1, -1):
        names = sorted(f for f in level if level[f] == number)
        used = sorted({o for f in names for o in uses.get(f, {})})
        print(f"{number}  {'  '.join(names):<40} uses {', '.join(used) if used else '(the system layer only)'}")


def main(root, show_layers=False):
    files = {}
    for directory, _, names in os.walk(root):
        for name in names:
            if name.endswith(".swift"):
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8") as handle:
                    files[path] = handle.read()
    owner = {}
    for path, text in files.items():
        for name in DECLARATION.findall(text):
            owner.setdefault(name, folder_of(root, path))
    uses = {}
    for path, text in files.items():
        folder = folder_of(root, path)
        code = STRING.sub('""', COMMENT.sub("", text))
        words = set(re.findall(r"\b[A-Z]\w*\b", code))
        for word in words:
            other = owner.get(word)
            if other and other != folder:
                uses.setdefault(folder, {}).setdefault(other, set()).add(word)
    if show_layers:
        layers(uses, {folder_of(root, path) for path in files})
        return 0
    for folder in sorted(uses):
        for other in sorted(uses[folder]):
            print(f"{folder} -> {other}: {', '.join(sorted(uses[folder][other]))}")
    cycles = sorted({tuple(sorted((a, b))) for a in uses for b in uses[a] if a in uses.get(b, {})})
    for a, b in cycles:
        print(f"cycle: {a} <-> {b}")
    return 1 if cycles else 0


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--layers"]
    sys.exit(main(arguments[0] if arguments else "Sources/InjectHost", "--layers" in sys.argv))
