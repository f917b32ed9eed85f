#!/usr/bin/env python3
"""Checks that libgau's sources can share a unity translation unit (cmake/unity.cmake).

    python3 scripts/unity-check.py [ROOT]

The build compiles the .cpp (and the .cu) files of one folder in batches, each batch as one
translation unit. Two files of a batch must then not both define the same internal name: a
function, type, variable or alias in an anonymous namespace, a file-static function or variable,
or a macro. Same-signature clashes fail to compile, but two overloads of one name would compile
and let a call in one file pick the other file's function. Nor may a source file put a
using-directive at namespace scope or #define a macro that it does not #undef, which would reach
the files after it. Batch boundaries move when files are added, so the check is per folder and
language: every such name must be unique among the folder's files. It reads the source text
(comments and strings removed); it is a guard, not a parser, and errs towards reporting.
Exit status 1 lists the clashes.
"""
import collections
import os
import re
import sys

COMPONENTS = ["core", "autograd", "layers", "optim", "distributed", "trainers"]  # as CMakeLists.txt
NOT_NAMES = {"if", "for", "while", "switch", "return", "sizeof", "alignof", "decltype", "alignas",
             "operator", "const", "constexpr", "static", "inline", "noexcept", "__launch_bounds__",
             "static_assert", "requires", "GAU_HD"}


def strip_comments_and_strings(s):
    s = re.sub(r"//[^\n]*", "", s)
    s = re.sub(r"/\*.*?\*/", "", s, flags=re.S)
    s = re.sub(r"'(\\.|[^'\\])'", "' '", s)
    return re.sub(r'"(\\.|[^"\\\n])*"', '""', s)


def block_end(s, i):
    """Index just past the brace that closes the block whose body starts at s[i]."""
    depth = 1
    while depth and i < len(s):
        if s[i] == "{":
            depth += 1
        elif s[i] == "}":
            depth -= 1
        i += 1
    return i


def top_level(body):
    """The text of `body` outside nested braces, parentheses and template parameter lists."""
    out, depth = [], 0
    for ch in body:
        if ch == "{":
            depth += 1
            if depth == 1:
                out.append("{")
        elif ch == "}":
            depth -= 1
            if depth == 0:
                out.append("}")
        elif depth == 0:
            out.append(ch)
    text = "".join(out)
    while True:  # innermost parentheses first
        shorter = re.sub(r"\([^()]*\)", "\0", text)
        if shorter == text:
            break
        text = shorter
    text = text.replace("\0", "()")
    while True:
        shorter = re.sub(r"template\s*<[^<>]*>", "template", text)
        shorter = re.sub(r"<[^<>;{}]*>", "", shorter)
        if shorter == text:
            break
        text = shorter
    return text


def internal_names(text):
    s = strip_comments_and_strings(text)
    names = set()
    for m in re.finditer(r"\bnamespace\s*\{", s):
        top = top_level(s[m.end():block_end(s, m.end()) - 1])
        top = re.sub(r"\b((?:struct|class)\s+\w+)\s*(?:final\s*)?:[^{;]*\{", r"\1 {", top)  # base clauses
        for mm in re.finditer(r"\b(?:struct|class|union|enum(?:\s+class|\s+struct)?)\s+(\w+)", top):
            names.add(mm.group(1))
        for mm in re.finditer(r"\busing\s+(\w+)\s*=", top):
            names.add(mm.group(1))
        for mm in re.finditer(r"(\w+)\s*\(\)", top):  # functions and function-like declarations
            names.add(mm.group(1))
        for mm in re.finditer(r"(\w+)\s*(?:\[[^\]]*\])*\s*(?:=(?!=)|\{\}\s*;)", top):  # variables
            names.add(mm.group(1))
    for mm in re.finditer(r"^static\s+[^;({=]*?(\w+)\s*[(=;{\[]", s, flags=re.M):
        names.add(mm.group(1))
    defined = set(re.findall(r"^\s*#\s*define\s+(\w+)", s, flags=re.M))
    undefined = set(re.findall(r"^\s*#\s*undef\s+(\w+)", s, flags=re.M))
    names |= {"#define " + d for d in defined}
    leaks = ["macro " + d + " is not #undef'd" for d in sorted(defined - undefined)]
    for mm in re.finditer(r"^\s*using\s+namespace\s+([\w:]+)\s*;", s, flags=re.M):
        # At namespace scope only: a using-directive inside a function body stays there.
        before = s[:mm.start()]
        if not re.search(r"\)\s*(?:const\s*)?(?:noexcept\s*)?\{[^}]*$", before):
            leaks.append("using namespace " + mm.group(1) + " at namespace scope")
    return names - NOT_NAMES, leaks


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))
    groups = collections.defaultdict(list)
    for component in COMPONENTS:
        for dirpath, _, files in os.walk(os.path.join(root, component)):
            for f in sorted(files):
                if f.endswith((".cpp", ".cu")):
                    groups[(os.path.relpath(dirpath, root), os.path.splitext(f)[1])].append(f)
    problems = []
    for (folder, _), files in sorted(groups.items()):
        owners = collections.defaultdict(list)
        for f in files:
            with open(os.path.join(root, folder, f), encoding="utf-8") as fh:
                names, leaks = internal_names(fh.read())
            for n in names:
                owners[n].append(f)
            if len(files) > 1:
                problems += [f"{folder}/{f}: {leak}" for leak in leaks]
        for n, fs in sorted(owners.items()):
            if len(fs) > 1:
                problems.append(f"{folder}: '{n}' is defined in {', '.join(fs)}")
    if problems:
        print("scripts/unity-check.py: these sources share a unity translation unit (cmake/unity.cmake);")
        print("give each internal name one owner per folder (rename it, or move a shared helper to a header):")
        for p in problems:
            print("  " + p)
        return 1
    print(f"scripts/unity-check.py: {sum(len(f) for f in groups.values())} sources in {len(groups)} "
          "folder groups, no internal name defined twice")
    return 0


if __name__ == "__main__":
    sys.exit(main())
