"""The README's code map is true: every path it names exists, LiveKit is imported only where
it says, and imports run one way, so a newcomer can trust the map."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLING = ("tests", "bench", "scripts", "testkit", "fakes")
LIVEKIT_ALLOWED = ("main.py", "agents/", "conversation/", "worker/", "telephony/",
                   "services/call_watch.py", "services/dialer.py")


def code_map() -> str:
    text = (ROOT / "README.md").read_text()
    return text[text.index("## Code map"):text.index("## Configuration")]


def production_modules() -> dict[str, ast.Module]:
    out = {}
    for f in ROOT.rglob("*.py"):
        rel = f.relative_to(ROOT).as_posix()
        if rel.split("/")[0] in (*TOOLING, ".venv", "mutants") or "/." in rel:
            continue
        out[rel] = ast.parse(f.read_text())
    return out


def imported(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_every_path_the_code_map_names_exists() -> None:
    named = 0
    for row in re.findall(r"^\| `(.+?)` \| (.+) \|$", code_map(), re.M):
        first, rest = row
        heads = re.findall(r"[\w./-]+", first.replace("`", " "))
        for head in heads:
            assert (ROOT / head).exists(), f"the code map names {head}, which does not exist"
            named += 1
        base = ROOT / heads[0] if len(heads) == 1 and heads[0].endswith("/") else ROOT
        for token in re.findall(r"`([\w./-]+\.(?:py|yaml|sh)|[\w-]+/)`", rest):
            where = [base / token, ROOT / token]
            assert any(p.exists() for p in where), f"{first}: {token} does not exist"
            named += 1
    assert named > 60  # the map is a real map, not a stub


def test_livekit_is_imported_only_where_the_map_says() -> None:
    strays = [path for path, tree in production_modules().items()
              if any(n.split(".")[0] == "livekit" for n in imported(tree))
              and not path.startswith(LIVEKIT_ALLOWED)]
    assert strays == []


def test_production_imports_no_tooling() -> None:
    strays = [f"{path} -> {n}" for path, tree in production_modules().items()
              for n in imported(tree) if n.split(".")[0] in TOOLING]
    assert strays == []


def test_imports_run_one_way() -> None:
    """Each layer imports only layers below it (README's code map): no loop, nothing upward."""
    layers = [("main", 0), ("services", 0), ("worker", 1), ("telephony", 1), ("agents", 2),
              ("conversation", 3), ("actions", 4), ("store", 5), ("domain", 6), ("models", 6),
              ("config", 7)]

    def rank(module: str) -> int | None:
        return next((r for p, r in layers if module == p or module.startswith(p + ".")), None)

    upward = []
    for path, tree in production_modules().items():
        me = rank(path.removesuffix(".py").replace("/", "."))
        for n in imported(tree):
            them = rank(n)
            if me is not None and them is not None and them < me:
                upward.append(f"{path} -> {n}")
    assert upward == []
