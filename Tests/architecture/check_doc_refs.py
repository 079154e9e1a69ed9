#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Every Markdown document a tracked file names (README.md, docs/PROTOCOL.md, NT-SEMANTICS.md §4,
…) exists in the repository: next to the file that names it, under docs/, or at the top.
Prints one line per dangling reference; exits 1 if any.

    python3 Tests/architecture/check_doc_refs.py [REPO]
"""
import pathlib
import re
import subprocess
import sys

REFERENCE = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[A-Z][\w-]*\.md)\b")


def main():
    repo = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    tracked = subprocess.run(["git", "ls-files"], cwd=repo, check=True, capture_output=True, text=True).stdout.split()
    problems = []
    for name in tracked:
        path = repo / name
        try:
            text = path.read_text()
        except (UnicodeDecodeError, OSError):
            continue
        for ref in sorted(set(REFERENCE.findall(text))):
            if not any(candidate.exists() for candidate in (path.parent / ref, repo / "docs" / ref, repo / ref)):
                problems.append(f"{name}: names {ref}, which is not in the repository")
    for line in problems:
        print(line)
    print(f"document references: {len(tracked)} files, {len(problems)} dangling")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
