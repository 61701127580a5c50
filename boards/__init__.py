"""Board descriptions as data: one TOML file per board, validated against `schema.py`.

`list_boards()` names the shipped boards; `load_board(name_or_path)` returns a typed
`Board` for a shipped name or a user's own .toml file. A file may `inherit` another board
(by name, or by a path relative to itself) and override any field; tables merge, lists
replace. A file with `detect = true` (the shipped `host`) has its compute and cache fields
read from this machine at load time.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

from sedge.boards import host
from sedge.boards.board import Board, Compute, MemoryLevel
from sedge.boards.validate import check_board
from sedge.errors import SedgeError

BOARDS_DIR = Path(__file__).parent

__all__ = ["Board", "Compute", "MemoryLevel", "board_for_target", "list_boards", "load_board"]


def list_boards() -> list[str]:
    return sorted(path.stem for path in BOARDS_DIR.glob("*.toml"))


def load_board(name_or_path: str) -> Board:
    path = _locate(name_or_path, BOARDS_DIR)
    data = _resolve(path, chain=[])
    if data.pop("detect", False):
        data = host.detect(data)
    check_board(data, str(name_or_path))
    return Board.from_dict(path.stem, data, str(path))


def board_for_target(target: dict) -> Board | None:
    """The board a (TVM JSON) target is compiled for: the one its `tag` names (`sedge compile
    --board` sets it), else the shipped board whose own target has the same kind and -mcpu;
    None when neither tells."""
    if target.get("tag"):
        return load_board(target["tag"])
    mcpu = target.get("mcpu")
    for name in list_boards() if mcpu else []:
        words = tomllib.loads((BOARDS_DIR / f"{name}.toml").read_text()).get("compute", {}).get("target", "").split()
        if words[:1] == [target.get("kind")] and f"-mcpu={mcpu}" in words:
            return load_board(name)
    return None


def _locate(name_or_path: str, relative_to: Path) -> Path:
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        path = Path(name_or_path)
        path = path if path.is_absolute() or path.exists() else relative_to / path
        if not path.is_file():
            raise SedgeError(f"board file {name_or_path} not found")
        return path
    path = BOARDS_DIR / f"{name_or_path}.toml"
    if not path.is_file():
        raise SedgeError(f"unknown board '{name_or_path}'; available: {', '.join(list_boards())}, "
                         f"or a path to a .toml board file")
    return path


def _resolve(path: Path, chain: list[Path]) -> dict:
    """The file's fields over those of the board it inherits, recursively."""
    if path.resolve() in chain:
        names = " -> ".join(p.stem for p in chain + [path.resolve()])
        raise SedgeError(f"board {chain[0].stem}: field inherit forms a cycle ({names}); "
                         f"allowed: a chain of boards that ends in a board without inherit")
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as err:
        raise SedgeError(f"board file {path} cannot be read as TOML ({err})") from None
    parent = data.pop("inherit", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise SedgeError(f"board {path.stem}: field inherit is {parent!r}; allowed: a board name or a .toml path")
    return _merge(_resolve(_locate(parent, path.parent), chain + [path.resolve()]), data)


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        both_tables = isinstance(value, dict) and isinstance(base.get(key), dict)
        merged[key] = _merge(base[key], value) if both_tables else value
    return merged
