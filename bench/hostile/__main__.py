"""`python -m bench.hostile DEST [--no-large]`: write the hostile corpus and DEST.manifest.json beside it."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from bench.hostile import generate, manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dest", type=Path, help="an empty or new folder")
    parser.add_argument("--no-large", action="store_true", help="leave out the 100 MB files")
    parser.add_argument("--corpora", type=Path, default=None, help="the shared sample corpora (PST and .msg seeds)")
    args = parser.parse_args()
    cases = generate(args.dest, large=not args.no_large, corpora=args.corpora)
    target = args.dest.with_name(args.dest.name + ".manifest.json")
    target.write_text(json.dumps(manifest(cases), indent=1, ensure_ascii=True) + "\n", encoding="utf-8")
    groups = Counter(case.name.split("/", 1)[0] for case in cases)
    print(f"{len(cases)} hostile files in {args.dest} ({', '.join(f'{g} {n}' for g, n in sorted(groups.items()))}); "
          f"expectations in {target}")


if __name__ == "__main__":
    main()
