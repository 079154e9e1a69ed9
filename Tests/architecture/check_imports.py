#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The module rule of docs/ARCHITECTURE.md, checked: every Swift target under Sources/ imports
exactly the modules its row allows, and Package.swift declares exactly the dependencies its
sources import (`swift package describe`). Prints one line per violation; exits 1 if any.

    python3 Tests/architecture/check_imports.py [REPO]
"""
import json
import pathlib
import re
import subprocess
import sys

# docs/ARCHITECTURE.md, "The modules" (change both together). System modules are always allowed.
ALLOWED = {
    "NTModel": set(),
    "ProcessTable": {"NTModel", "GuardABI", "CLinuxShims"},
    "KernelGuard": {"GuardABI", "GuardSkeleton", "CLibbpf", "CLinuxShims"},
    "NTSession": {"NTModel", "ProcessTable"},
    "IUMProtocol": {"NTModel", "IUMWire"},
    "IUMDaemon": {"NTModel", "ProcessTable", "NTSession", "KernelGuard", "IUMProtocol", "GuardABI", "CLinuxShims",
                  "Logging", "ServiceLifecycle", "UnixSignals", "GRDB", "Prometheus"},
    "IUMClient": {"NTModel", "IUMProtocol", "GuardABI", "CLinuxShims"},
    "IUMCommands": {"NTModel", "IUMProtocol", "IUMClient", "CLinuxShims", "ArgumentParser"},
    "ium": {"IUMCommands", "ArgumentParser"},
    "iumd": {"IUMDaemon"},
    "ium-keyd": {"IUMClient", "NTModel", "CLinuxShims", "Crypto", "ArgumentParser"},
}
SYSTEM = {"Glibc", "Musl", "Synchronization"}
IMPORT = re.compile(r"^[ \t]*(?:@\w+[ \t]+)*(?:(?:public|internal|package|private|fileprivate)[ \t]+)?import[ \t]+"
                    r"(?:(?:struct|class|enum|protocol|func|var|let|typealias)[ \t]+)?([A-Za-z_]\w*)", re.M)


def imports(directory):
    found = set()
    for path in directory.glob("**/*.swift"):
        found |= set(IMPORT.findall(path.read_text()))
    return found - SYSTEM


def main():
    repo = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    described = json.loads(subprocess.run(["swift", "package", "describe", "--type", "json"], cwd=repo,
                                          check=True, capture_output=True, text=True).stdout)
    declared = {t["name"]: set(t.get("target_dependencies", [])) | set(t.get("product_dependencies", []))
                for t in described["targets"]}
    problems = []
    sources = sorted(p.name for p in (repo / "Sources").iterdir() if p.is_dir())
    for target in sources:
        if target not in ALLOWED:
            problems.append(f"{target}: not in docs/ARCHITECTURE.md's module table")
            continue
        used = imports(repo / "Sources" / target)
        for module in sorted(used - ALLOWED[target]):
            problems.append(f"{target} imports {module}, which the module rule does not allow")
        for module in sorted(used - declared.get(target, set())):
            problems.append(f"{target} imports {module}, which Package.swift does not declare")
        for module in sorted(declared.get(target, set()) - used):
            problems.append(f"{target}: Package.swift declares {module}, which it never imports")
    for target in sorted(set(ALLOWED) - set(sources)):
        problems.append(f"{target}: in the module table but not under Sources/")
    for line in problems:
        print(line)
    print(f"module rule: {len(sources)} targets, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
