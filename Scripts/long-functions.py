#!/usr/bin/env python3
"""Lists functions, initializers and closures-bodied computed properties longer than a limit.

Usage: Scripts/long-functions.py [--limit 80] DIR...
A body is counted from the line of its declaration to its closing brace. Exit status 1 when one
is longer than the limit.
"""
import os
import re
import sys

DECLARATION = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|fileprivate|internal|package|static|final|override|"
                         r"mutating|nonmutating|nonisolated(?:\(unsafe\))?|class|convenience|required|@discardableResult)\s+)*"
                         r"(?:func\s+[^\s(<]+|init[?!]?|deinit)\b")


def strip(line):
    """The line without string literals and comments (good enough for counting braces)."""
    line = re.sub(r'"(?:\\.|[^"\\])*"', '""', line)
    return line.split("//", 1)[0]


def functions(path):
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    in_block_string = False
    for index, line in enumerate(lines):
        if line.count('"""') % 2 == 1:
            in_block_string = not in_block_string
            continue
        if in_block_string or not DECLARATION.match(line):
            continue
        depth, started = 0, False
        for end in range(index, len(lines)):
            text = strip(lines[end])
            if '"""' in lines[end] and end != index:
                # Skip multi-line strings inside the body.
                pass
            depth += text.count("{") - text.count("}")
            if "{" in text:
                started = True
            if started and depth <= 0:
                name = re.sub(r"\s+", " ", line.strip())[:100]
                yield index + 1, end - index + 1, name
                break
            if not started and end > index + 8:
                break


def main(arguments):
    limit = 80
    if arguments[:1] == ["--limit"]:
        limit, arguments = int(arguments[1]), arguments[2:]
    long = []
    for root in arguments:
        for directory, _, names in os.walk(root):
            for name in sorted(names):
                if name.endswith(".swift"):
                    path = os.path.join(directory, name)
                    for line, length, declaration in functions(path):
                        if length > limit:
                            long.append((length, f"{path}:{line}", declaration))
    for length, where, declaration in sorted(long, reverse=True):
        print(f"{length:4d}  {where}  {declaration}")
    return 1 if long else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
