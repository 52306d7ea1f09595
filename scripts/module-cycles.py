#!/usr/bin/env python3
"""Fails when a module imports a sibling that imports it back, directly or through others.

Reads every `.rs` file under the given crate source roots, records which module each path
(`crate::a::b`, `super::x`, `app::a::b`) names, and checks, for every parent module, the graph
of its children: an edge A -> B when any file inside A names something inside B. A cycle among
siblings is reported with its path. Test modules (`#[cfg(test)]` onwards) are left out: they may
look anywhere.

Usage: scripts/module-cycles.py app/src:app server/src:server
"""
import os
import re
import sys
from collections import defaultdict

PATH = re.compile(r"\b(crate|super|self|app|server)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
GROUP = re.compile(r"\b(crate|super|app|server)((?:::[a-z_][a-z0-9_]*)*)::\{([^;]*?)\}\s*;", re.S)


def module_of(root, path):
    rel = os.path.relpath(path, root)[:-3].split(os.sep)
    if rel[-1] in ("mod", "lib", "main"):
        rel = rel[:-1]
    return rel


def names(text, here, crate):
    """Absolute module paths (lists) that the text names, from the file's module `here`."""
    found = []

    def resolve(head, tail):
        parts = [p for p in tail.split("::") if p]
        if head in ("crate", crate):
            return parts
        if head in ("app", "server"):
            return None if head != crate else parts
        base = list(here)
        if head == "super":
            base = base[:-1]
            while parts and parts[0] == "super":
                parts = parts[1:]
                base = base[:-1]
        return base + parts

    for m in GROUP.finditer(text):
        prefix = resolve(m.group(1), m.group(2))
        if prefix is None:
            continue
        for item in re.split(r"[,{}]", m.group(3)):
            item = item.strip().split(" as ")[0]
            if item and item != "self" and re.match(r"[A-Za-z_]", item):
                found.append(prefix + item.split("::"))
    for m in PATH.finditer(text):
        p = resolve(m.group(1), m.group(2))
        if p is not None:
            found.append(p)
    return found


def main(specs):
    problems = []
    for spec in specs:
        root, crate = spec.split(":")
        modules = set()
        files = []
        for dirpath, _, filenames in os.walk(root):
            for f in filenames:
                if f.endswith(".rs"):
                    path = os.path.join(dirpath, f)
                    files.append(path)
                    modules.add(tuple(module_of(root, path)))
        # `pub use a::b::Name;` in module M: naming M::Name names module M::a::b.
        aliases = {}
        for path in files:
            here = module_of(root, path)
            text = open(path, encoding="utf-8").read()
            for m in re.finditer(r"^pub use ([a-z_][a-z0-9_:]*)::(\{[^}]*\}|\w+);", text, re.M):
                items = re.split(r"[,{}\s]+", m.group(2))
                for item in filter(None, items):
                    aliases[(tuple(here), item)] = here + m.group(1).split("::")
        edges = defaultdict(set)  # parent -> {(child_a, child_b)}
        for path in files:
            here = module_of(root, path)
            text = open(path, encoding="utf-8").read()
            cut = text.find("#[cfg(test)]")
            if cut >= 0:
                text = text[:cut]
            for target in names(text, here, crate):
                for k in range(len(target)):
                    alias = aliases.get((tuple(target[:k]), target[k]))
                    if alias:
                        target = alias + target[k + 1:]
                        break
                # the longest known module that the target lies in
                while target and tuple(target) not in modules:
                    target = target[:-1]
                common = 0
                while common < min(len(here), len(target)) and here[common] == target[common]:
                    common += 1
                if common < len(here) and common < len(target):
                    parent = tuple(here[:common])
                    edges[parent].add((here[common], target[common]))
        for parent, pairs in sorted(edges.items()):
            graph = defaultdict(set)
            for a, b in pairs:
                graph[a].add(b)
            cycle = find_cycle(graph)
            if cycle:
                where = "::".join((crate,) + parent)
                problems.append(f"{where}: {' -> '.join(cycle)}")
    for p in problems:
        print("import cycle in", p)
    if not problems:
        print("no import cycles between sibling modules")
    return 1 if problems else 0


def find_cycle(graph):
    state = {}

    def visit(node, stack):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, stack)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node, [])
            if found:
                return found
    return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["app/src:app", "server/src:server"]))
