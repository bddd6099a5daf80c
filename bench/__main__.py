"""`python -m bench` lists the benchmarks; `python -m bench NAME [--quick]` runs one."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from pathlib import Path

from bench.common import emit

HERE = Path(__file__).parent
NOT_BENCHMARKS = {"common", "__main__"}


def names() -> list[str]:
    return sorted(
        m.name
        for m in pkgutil.iter_modules([str(HERE)])
        if m.name not in NOT_BENCHMARKS and not m.name.startswith("_")
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("name", nargs="?", help="benchmark to run")
    parser.add_argument("--quick", action="store_true", help="small size, under a minute")
    args = parser.parse_args()
    if not args.name:
        for name in names():
            module = importlib.import_module(f"bench.{name}")
            print(f"{name:<20} {(module.__doc__ or '').strip().splitlines()[0]}")
        return
    if args.name not in names():
        parser.error(f"unknown benchmark {args.name!r}; choose from: {', '.join(names())}")
    module = importlib.import_module(f"bench.{args.name}")
    emit(module.main(quick=args.quick))


if __name__ == "__main__":
    main()
