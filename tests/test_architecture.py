"""Edges translate, the core decides: each SDK stays behind its edge (STYLE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _modules(*folders: str) -> list[Path]:
    return [p for folder in folders for p in (ROOT / folder).rglob("*.py")]


def _offenders(library: str, allowed_prefixes: tuple[str, ...]) -> list[str]:
    offenders = []
    for path in _modules("bot", "storage"):
        relative = path.relative_to(ROOT).as_posix()
        if library in _imports(path) and not relative.startswith(allowed_prefixes):
            offenders.append(relative)
    return offenders


def test_only_storage_imports_tortoise():
    assert _offenders("tortoise", ("storage/",)) == []


def test_only_the_slack_edge_imports_the_slack_sdks():
    assert _offenders("slack_bolt", ("bot/slack/",)) == []
    # slack_sdk is also allowed nowhere else: cards are plain dicts validated by the tests.
    assert _offenders("slack_sdk", ("bot/slack/",)) == []


def test_only_the_teams_edge_imports_botbuilder():
    assert _offenders("botbuilder", ("bot/teams/",)) == []
    assert _offenders("botframework", ("bot/teams/",)) == []


def test_the_core_and_the_cards_import_no_web_framework():
    for path in _modules("bot/core", "bot/cards", "bot/commands"):
        assert "aiohttp" not in _imports(path), path


def test_cards_do_no_io():
    forbidden = {"aiohttp", "storage", "asyncio", "random", "time", "uuid", "os"}
    for path in _modules("bot/cards"):
        assert not (_imports(path) & forbidden), path
        source = path.read_text("utf-8")
        assert ".now(" not in source and "utcnow" not in source, f"{path} reads the clock"


def test_outside_storage_nothing_touches_the_orm_models():
    for path in _modules("bot"):
        source = path.read_text("utf-8")
        assert "storage.models" not in source, path


# --------------------------------------------------------------------------- layers and cycles

# Edges translate; they reach the core, never storage/ or the composition root (docs/architecture.md).
EDGE_PACKAGES = ("bot.slack", "bot.teams", "bot.intake", "bot.webchat", "bot.sms", "bot.email", "bot.channels")
FORBIDDEN_FOR_EDGES = ("storage", "bot.web.app")


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def import_graph(root: Path, packages: tuple[str, ...] = ("bot", "storage")) -> dict[str, set[str]]:
    """Every module of `packages` under `root` → the modules of `packages` it imports, anywhere in the file
    (function-level "lazy" imports included: they are still a dependency)."""
    files = {_module_name(root, p): p for package in packages for p in (root / package).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join(anchor + ([base] if base else []))
                # `from bot.teams import activities` depends on that submodule; `from bot.x import name` on bot.x.
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base for alias in node.names]
            for target in targets:
                # The longest known module the name points into (`from bot.core import actions` → bot.core.actions).
                while target and target not in files:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    found.add(target)
        graph[name] = found
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _is_edge(module: str) -> bool:
    in_edge_package = any(module == p or module.startswith(p + ".") for p in EDGE_PACKAGES)
    return in_edge_package or (module.startswith("bot.web.") and module.endswith("_routes"))


def edge_violations(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{module} -> {target}"
        for module, targets in graph.items() if _is_edge(module)
        for target in targets
        if any(target == f or target.startswith(f + ".") for f in FORBIDDEN_FOR_EDGES)
    )


def test_there_is_no_import_cycle_in_bot_and_storage_lazy_imports_included():
    assert cycles(import_graph(ROOT)) == []


def test_edges_import_neither_storage_nor_the_composition_root():
    assert edge_violations(import_graph(ROOT)) == []


def test_nothing_but_the_cli_imports_the_composition_root():
    importers = {m for m, targets in import_graph(ROOT).items() if "bot.web.app" in targets}
    assert importers <= {"bot.cli", "bot.demo"}


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for relative, source in files.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, "utf-8")
    for package in ("bot", "storage"):
        (tmp_path / package).mkdir(exist_ok=True)
    return tmp_path


def test_the_checks_catch_a_cycle_made_by_a_lazy_import(tmp_path):
    root = _tree(tmp_path, {
        "bot/__init__.py": "",
        "bot/web/__init__.py": "",
        "bot/web/app.py": "from bot.slack import handlers\n",
        "bot/slack/__init__.py": "",
        "bot/slack/handlers.py": "def f():\n    from bot.web.app import SERVICES\n",
        "storage/__init__.py": "",
    })
    graph = import_graph(root)
    assert cycles(graph) == [["bot.slack.handlers", "bot.web.app"]]
    assert edge_violations(graph) == ["bot.slack.handlers -> bot.web.app"]


def test_the_checks_catch_an_edge_reading_storage(tmp_path):
    root = _tree(tmp_path, {
        "bot/__init__.py": "",
        "bot/web/__init__.py": "",
        "bot/web/chat_routes.py": "from storage import posts\n",
        "bot/sms/__init__.py": "from ..core import x\nfrom storage.models import Message\n",
        "bot/core/__init__.py": "",
        "bot/core/x.py": "import storage.posts\n",
        "storage/__init__.py": "",
        "storage/posts.py": "",
        "storage/models.py": "",
    })
    graph = import_graph(root)
    assert edge_violations(graph) == ["bot.sms -> storage.models", "bot.web.chat_routes -> storage.posts"]
    assert "bot.core.x" in graph["bot.sms"]  # a relative import resolves to the core, which may use storage


def test_each_channel_sdk_stays_in_its_channel_package():
    assert _offenders("twilio", ("bot/sms/",)) == []
    assert _offenders("aiosmtplib", ("bot/email/",)) == []
    assert _offenders("mailparser_reply", ("bot/email/",)) == []
