#!/usr/bin/env python3
"""Finds import circles between the modules of each crate of the workspace.

Every `crate::a::b` and `super::x` path in a module's source (use lines and inline paths)
is an edge to the module file that path names. Crate roots, and `mod.rs` files that only
declare modules and re-export, are followed: a path through one of them goes to the module
that defines the name (`pub use x::Name` or `pub use x::*`); a `mod.rs` with items of its
own is a module like any other. Prints every circle and exits 1 if there is
one, 0 otherwise. Usage: `python3 tools/import_cycles.py [crate src dirs...]`.
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PATH = re.compile(r"\b(crate|super)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
USE_GROUP = re.compile(r"\b(crate|super)::((?:[A-Za-z_][A-Za-z0-9_]*::)*)\{([^}]*)\}", re.S)
REEXPORT = re.compile(r"^\s*pub use (?:self::)?([A-Za-z_][A-Za-z0-9_]*)::(\*|\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)", re.M)


DEFINES = re.compile(
    r"^\s*(?:pub(?:\([a-z]+\))?\s+)?(?:async\s+)?(?:fn|struct|enum|const|static|impl|trait|type)\b", re.M
)


def strip_comments(text):
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


class Crate:
    def __init__(self, src):
        self.src = src
        self.files = {}  # module path tuple -> file
        for f in src.rglob("*.rs"):
            rel = f.relative_to(src).with_suffix("")
            parts = list(rel.parts)
            if parts in (["lib"], ["main"]):
                parts = []
            elif parts[-1] == "mod":
                parts = parts[:-1]
            self.files[tuple(parts)] = f
        self.text = {m: strip_comments(f.read_text()) for m, f in self.files.items()}

    def is_container(self, module):
        """A crate root, or a `mod.rs` that only declares and re-exports modules. A
        `mod.rs` that defines items of its own is a module like any other file."""
        f = self.files[module]
        if f.name in ("lib.rs", "main.rs"):
            return True
        return f.name == "mod.rs" and not DEFINES.search(self.text[module])

    def resolve(self, module_of_file, kind, segments):
        """The module file a path from `module_of_file` names."""
        if kind == "crate":
            base = []
        else:
            # `super` from module a::b (file a/b.rs or a/b/mod.rs) is module a.
            base = list(module_of_file[:-1])
            while segments and segments[0] == "super":
                base = base[:-1]
                segments = segments[1:]
        current = tuple(base)
        for seg in segments:
            nxt = current + (seg,)
            if nxt in self.files:
                current = nxt
                continue
            if current in self.files and self.files[current].name in ("lib.rs", "main.rs", "mod.rs"):
                target = self.reexported(current, seg)
                if target is not None:
                    return target
            break
        return current if current in self.files else None

    def reexported(self, container, name):
        for m in REEXPORT.finditer(self.text[container]):
            module, what = m.group(1), m.group(2)
            names = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", what)
            if what == "*" or name in names:
                target = container + (module,)
                if target in self.files:
                    return target
        return None

    def edges(self):
        out = {m: set() for m in self.files}
        for module, text in self.text.items():
            if self.is_container(module):
                continue
            targets = []
            for m in PATH.finditer(text):
                segs = [s for s in m.group(2).split("::") if s]
                targets.append((m.group(1), segs))
            for m in USE_GROUP.finditer(text):
                prefix = [s for s in m.group(2).split("::") if s]
                for item in m.group(3).split(","):
                    first = item.strip().split("::")[0].split(" ")[0]
                    if first and first != "self":
                        targets.append((m.group(1), prefix + [first]))
                    elif first == "self":
                        targets.append((m.group(1), prefix))
            for kind, segs in targets:
                target = self.resolve(module, kind, segs)
                if target is not None and target != module and not self.is_container(target):
                    out[module].add(target)
        return out


def circles(graph):
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(comp)

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return found


def main():
    dirs = [pathlib.Path(d) for d in sys.argv[1:]] or [
        p.relative_to(ROOT) for p in sorted(ROOT.glob("*/*/src")) + sorted(ROOT.glob("*/src"))
    ]
    bad = 0
    for src in dirs:
        crate = Crate(src)
        for comp in circles(crate.edges()):
            bad += 1
            names = ", ".join(str(crate.files[m].relative_to(src)) for m in sorted(comp))
            print(f"import circle in {src}: {names}")
    checked = len(dirs)
    print(f"{checked} crates checked, {bad} import circles")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
