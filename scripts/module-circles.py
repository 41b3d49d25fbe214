#!/usr/bin/env python3
"""Module circles in a crate: `scripts/module-circles.py crates/logql/src [-v]`.

Collects the `crate::`, `super::` and `self::` paths of every file (code under `#[cfg(test)]`
counted apart), resolves each to the module file that defines what it names (following `pub use`
re-exports), and reports every pair of modules that use each other (file level, with and without
tests, and between top-level modules/folders) and every circle of any length. `-v` lists the
edges. Exits 1 when there is a circle. A regex-level reading of Rust, not a compiler: good
enough for this workspace's plain `use` style."""
import os, re, sys, collections

src = os.path.abspath(sys.argv[1])

def modpath(f):
    rel = os.path.relpath(f, src)[:-3]
    parts = rel.split(os.sep)
    if parts[-1] in ('mod', 'lib'):
        parts = parts[:-1]
    return tuple(parts)

files = {}
for d, _, fs in os.walk(src):
    for f in fs:
        if f.endswith('.rs'):
            p = os.path.join(d, f)
            files[modpath(p)] = p
mods = set(files)

REEXPORTS = {}  # module -> {name: full path it re-exports}

def resolve(path, seen=0):
    """The module that defines what `path` names: its longest module prefix, followed through
    that module's `pub use` re-exports."""
    for n in range(len(path), -1, -1):
        if tuple(path[:n]) in mods:
            t = tuple(path[:n])
            rest = path[n:]
            if rest and rest[0] in REEXPORTS.get(t, {}) and seen < 10:
                return resolve(list(REEXPORTS[t][rest[0]]) + list(rest[1:]), seen + 1)
            return t
    return ()

def absolute(p, me):
    if p[0] == 'crate':
        return p[1:]
    if p[0] in ('super', 'self'):
        base = list(me); i = 0
        while i < len(p) and p[i] in ('super', 'self'):
            if p[i] == 'super': base = base[:-1]
            i += 1
        return base + p[i:]
    if tuple(list(me) + [p[0]]) in mods:
        return list(me) + p
    return None

def expand_use(text):
    """Expands `a::{b, c::{d}}` groups into flat paths."""
    out = []
    def rec(prefix, s):
        s = s.strip()
        m = re.match(r'^([\w:]*?)::\{(.*)\}$', s, re.S)
        if m:
            base = prefix + [p for p in m.group(1).split('::') if p]
            depth, cur, items = 0, '', []
            for ch in m.group(2):
                if ch == '{': depth += 1
                if ch == '}': depth -= 1
                if ch == ',' and depth == 0:
                    items.append(cur); cur = ''
                else:
                    cur += ch
            items.append(cur)
            for it in items:
                if it.strip():
                    rec(base, it)
        else:
            s = re.sub(r'\s+as\s+\w+$', '', s)
            out.append(prefix + [p for p in s.split('::') if p])
    rec([], text)
    return out

def refs(code, me, in_test_mod=False):
    """Module paths referenced from module `me`."""
    paths = []
    for m in re.finditer(r'\buse\s+([^;]+);', code):
        paths += expand_use(m.group(1))
    for m in re.finditer(r'\b((?:crate|super|self)(?:::\w+)+)', code):
        paths.append(m.group(1).split('::'))
    out = set()
    is_dir_mod = os.path.basename(files[me]) in ('mod.rs', 'lib.rs')
    for p in paths:
        if not p: continue
        if in_test_mod and p[0] == 'super':
            p = ['self'] + p[1:]  # `super` of a `mod tests` inside the file is the file's module
        if p[0] == 'crate':
            full = p[1:]
        elif p[0] in ('super', 'self'):
            base = list(me)
            i = 0
            while i < len(p) and p[i] in ('super', 'self'):
                if p[i] == 'super': base = base[:-1]
                i += 1
            full = base + p[i:]
        else:
            # a path relative to the module itself: a child module (`use child::X`)
            if tuple(list(me) + [p[0]]) in mods:
                full = list(me) + p
            else:
                continue
        t = resolve(full)
        if t != me and not (len(t) < len(me) and me[:len(t)] == t and t == resolve(full[:len(t)]) and len(full) == len(t)):
            out.add(t)
    return out

def split_tests(text):
    """(non-test code, test code): `#[cfg(test)]` items at column 0 up to the end of their block."""
    lines = text.split('\n')
    main, test = [], []
    i = 0
    while i < len(lines):
        if lines[i].startswith('#[cfg(test)]'):
            j = i + 1
            depth = 0; started = False
            while j < len(lines):
                depth += lines[j].count('{') - lines[j].count('}')
                if '{' in lines[j]: started = True
                if (started and depth <= 0) or (not started and lines[j].rstrip().endswith(';')):
                    break
                j += 1
            test += lines[i:j+1]; i = j + 1
        else:
            main.append(lines[i]); i += 1
    return '\n'.join(main), '\n'.join(test)

def strip_comments(t):
    t = re.sub(r'//[^\n]*', '', t)
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', t)

for me, f in files.items():
    for m in re.finditer(r'^pub(?:\([\w ]+\))?\s+use\s+([^;]+);', strip_comments(open(f).read()), re.M):
        for p in expand_use(m.group(1)):
            full = absolute(p, me)
            if full:
                REEXPORTS.setdefault(me, {})[p[-1]] = full

edges, test_edges = collections.defaultdict(set), collections.defaultdict(set)
for me, f in files.items():
    main, test = split_tests(open(f).read())
    for t in refs(strip_comments(main), me):
        edges[me].add(t)
    for t in refs(strip_comments(test), me, True):
        if t not in edges[me]:
            test_edges[me].add(t)

def name(m): return '::'.join(m) or 'lib'
def is_ancestor(a, b): return len(a) < len(b) and b[:len(a)] == a

def mutual(E, label):
    bad = []
    for a in sorted(E):
        for b in sorted(E[a]):
            if a < b and a in E.get(b, ()):
                bad.append((a, b))
    print(f'{label}: {len(bad)} pair(s) of modules that use each other')
    for a, b in bad:
        print(f'  {name(a)} <-> {name(b)}')
    return bad

def folder(m): return m[:1]

n_edges = sum(len(v) for v in edges.values())
print(f'{len(files)} modules, {n_edges} `use` edges in non-test code, {sum(len(v) for v in test_edges.values())} more in tests')
bad = mutual(edges, 'file level (non-test code)')
both = collections.defaultdict(set)
for E in (edges, test_edges):
    for a, bs in E.items():
        both[a] |= bs
bad_t = mutual(both, 'file level (tests included)')
F = collections.defaultdict(set)
for a, bs in edges.items():
    for b in bs:
        if folder(a) != folder(b):
            F[folder(a)].add(folder(b))
bad_f = mutual(F, 'top-level module/folder level (non-test code)')
def sccs(E):
    """Strongly connected components with more than one module (longer circles too)."""
    index, low, on, stack, out, n = {}, {}, set(), [], [], [0]
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
        for w in E.get(v, ()):
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: out.append(comp)
    sys.setrecursionlimit(10000)
    for v in list(E):
        if v not in index: visit(v)
    return out

# circles of any length (a `mod child;` declaration is not a use; `pub use child::X` is)
circles = sccs(edges)
print(f'circles of any length (non-test code): {len(circles)}')
for c in circles:
    print('  ' + ' -> '.join(name(m) for m in sorted(c)))
if '-v' in sys.argv:
    for a in sorted(edges):
        print(f'{name(a)} -> {", ".join(sorted(name(b) for b in edges[a]))}')
sys.exit(1 if bad or bad_f or circles else 0)
