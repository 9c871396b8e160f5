#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Fail when a lib/ file includes a header of a stage that comes after its
own (docs/ARCHITECTURE.md has the stages and why). Each line printed names
the file, the line, the include and the rule it breaks.

Usage: tests/check-includes.py [TOP]   (TOP: the checkout, default: ..)
"""
import os
import re
import sys

# Each stage and the stages its files may include (its own included). The
# order is the data flow: nothing may point back up it.
ALLOWED = {
    "core":     {"core"},
    "model":    {"core", "model"},
    "pcdev":    {"core", "pcdev"},
    "sources":  {"core", "pcdev", "sources"},
    "knobs":    {"core", "pcdev", "sources", "knobs"},
    "analyze":  {"core", "model", "pcdev", "sources", "knobs", "analyze"},
    "diagnose": {"core", "model", "pcdev", "sources", "knobs", "analyze", "diagnose"},
    "tune":     {"core", "model", "pcdev", "sources", "knobs", "analyze", "diagnose",
                 "tune"},
    "output":   {"core", "model", "pcdev", "sources", "knobs", "analyze", "diagnose",
                 "tune", "output"},
}
# Files outside the stages that lib/ may include: the BPF probe's shared
# header and the skeleton generated from it.
EXTERNAL = {"bpf/vsprobe.h", "vsprobe.skel.h"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def stage_of(lib, path):
    rel = os.path.relpath(path, lib)
    first = rel.split(os.sep)[0]
    return first if first != rel else None


def main():
    top = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                          os.path.join(os.path.dirname(__file__), ".."))
    lib = os.path.join(top, "lib")
    bad = 0
    checked = 0
    for root, dirs, files in os.walk(lib):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(root, name)
            stage = stage_of(lib, path)
            if stage is None:
                print("%s: a file directly in lib/, outside every stage"
                      % os.path.relpath(path, top))
                bad += 1
                continue
            if stage not in ALLOWED:
                print("%s: lib/%s/ is not a stage (add it to ALLOWED and to "
                      "docs/ARCHITECTURE.md)" % (os.path.relpath(path, top), stage))
                bad += 1
                continue
            # The guest payload is freestanding code with its own build.
            if os.path.relpath(path, lib).startswith("pcdev/guest" + os.sep):
                continue
            checked += 1
            with open(path, encoding="utf-8") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    inc = m.group(1)
                    if inc in EXTERNAL:
                        continue
                    local = os.path.normpath(os.path.join(root, inc))
                    target = local if os.path.exists(local) else \
                        os.path.normpath(os.path.join(lib, inc))
                    if not os.path.exists(target):
                        print("%s:%d: \"%s\" is neither beside the file nor under lib/"
                              % (os.path.relpath(path, top), lineno, inc))
                        bad += 1
                        continue
                    to = stage_of(lib, target)
                    if to not in ALLOWED[stage]:
                        print("%s:%d: \"%s\": %s/ may not include %s/ (it may include %s)"
                              % (os.path.relpath(path, top), lineno, inc, stage, to,
                                 ", ".join(sorted(ALLOWED[stage]))))
                        bad += 1
    print("%d lib/ files checked, %d include(s) against the stages" % (checked, bad))
    return 1 if bad or not checked else 0


if __name__ == "__main__":
    sys.exit(main())
