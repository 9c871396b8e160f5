#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# lib/ is laid out by pipeline stage (docs/ARCHITECTURE.md): no file may
# include a header of a stage its own may not depend on.
. "$(dirname "$0")/../lib.sh"
python3 "$TOP/tests/check-includes.py" "$TOP" || die "an include points against the stages"
# The check must see a violation when there is one: plant one in a copy.
mkdir -p "$TMP/t/lib/core" "$TMP/t/lib/tune"
echo '#include "tune/x.h"' >"$TMP/t/lib/core/a.c"
: >"$TMP/t/lib/tune/x.h"
python3 "$TOP/tests/check-includes.py" "$TMP/t" >"$TMP/out" && die "a core -> tune include passed the check"
grep -q 'core/a.c:1: "tune/x.h": core/ may not include tune/' "$TMP/out" || { cat "$TMP/out"; die "the violation is not named"; }
echo ok
