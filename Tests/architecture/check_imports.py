#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The module rule and the one Linux edge of docs/ARCHITECTURE.md, checked: every Swift target under Sources/ imports
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
    "LinuxEdge": {"CLinuxShims", "GuardABI", "SystemPackage"},
    "ProcessTable": {"NTModel", "GuardABI", "LinuxEdge", "SystemPackage"},
    "KernelGuard": {"GuardABI", "GuardSkeleton", "CLibbpf", "LinuxEdge", "SystemPackage"},
    "NTSession": {"NTModel", "ProcessTable"},
    "IUMProtocol": {"NTModel", "IUMWire"},
    "IUMDaemon": {"NTModel", "ProcessTable", "NTSession", "KernelGuard", "IUMProtocol", "GuardABI", "LinuxEdge", "SystemPackage",
                  "Logging", "ServiceLifecycle", "UnixSignals", "GRDB", "Prometheus"},
    "IUMClient": {"NTModel", "IUMProtocol", "GuardABI", "LinuxEdge", "SystemPackage"},
    "IUMCommands": {"NTModel", "IUMProtocol", "IUMClient", "LinuxEdge", "ArgumentParser"},
    "ium": {"IUMCommands", "ArgumentParser"},
    "iumd": {"IUMDaemon"},
    "ium-keyd": {"IUMClient", "NTModel", "LinuxEdge", "SystemPackage", "Crypto", "ArgumentParser"},
}
SYSTEM = {"Glibc", "Musl", "Synchronization"}
# docs/ARCHITECTURE.md, "One Linux edge": memory handled by address only in LinuxEdge, and in
# these files, where a C library's own API hands out pointers.
UNSAFE = re.compile(r"\bUnsafe\w*|\bwithUnsafe\w*|\.baseAddress\b|\bOpaquePointer\b|\bUnmanaged\b")
UNSAFE_ALLOWED = {
    "Sources/KernelGuard/KernelGuard.swift": "libbpf object, program and link handles",
    "Sources/KernelGuard/GuardEvent.swift": "libbpf's ring buffer callback and its context",
    "Sources/KernelGuard/KernelGuard+Stats.swift": "bpf_obj_get_info_by_fd's info struct",
    "Sources/KernelGuard/LibBPF.swift": "libbpf's print callback",
    "Sources/ium-keyd/SigningKey.swift": "the secret read in place by swift-crypto",
}
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
    for path in sorted((repo / "Sources").glob("**/*.swift")):
        relative = str(path.relative_to(repo))
        if relative.startswith("Sources/LinuxEdge/") or relative in UNSAFE_ALLOWED:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if UNSAFE.search(line.split("//")[0]):
                problems.append(f"{relative}:{number}: memory by address outside the Linux edge (docs/ARCHITECTURE.md)")
    for relative in sorted(UNSAFE_ALLOWED):
        if not (repo / relative).exists():
            problems.append(f"{relative}: allowed unsafe code, but the file is gone (Tests/architecture/check_imports.py)")
    for target in sorted(set(ALLOWED) - set(sources)):
        problems.append(f"{target}: in the module table but not under Sources/")
    for line in problems:
        print(line)
    print(f"module rule: {len(sources)} targets, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
