#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Fuzz the files virtsync reads, through the whole binary built with ASan and
# UBSan (.output-san/virtsync): profiles and plans through apply --dry-run
# and every export format, journals through verify and rollback on a --root
# fixture tree, saved runs through report --from in every format. Inputs are
# mutations of real seeds (the shipped profiles, a diagnose plan, a journal
# written by apply, the report fixtures): JSON-aware ones (hostile values,
# wrong types, deleted keys, deep nesting, huge strings) and byte-level ones
# (flips, truncation, insertion). A crash is a sanitizer report, a signal,
# a timeout or an exit status other than 0, 1 or 2; a crashing input is kept
# in KEEP for replay. Nothing outside the fixture tree may change: the
# fixture copy is checked against the pristine tree after every dry run.
#
# usage: flock /tmp/vs-test.lock bench/fuzz-files.sh [N-PER-KIND] [SEED]
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
VS=${VIRTSYNC_SAN_BIN:-$TOP/.output-san/virtsync}
N=${1:-150}
SEED=${2:-12}
KEEP=${KEEP:-/tmp/vs-fuzz-crashes}
[ "$(id -u)" = 0 ] || { echo "fuzz-files: needs root (rollback on the fixture tree)" >&2; exit 1; }
if [ ! -x "$VS" ]; then
	echo "fuzz-files: building $VS (make SAN=1 OUTPUT=.output-san)" >&2
	make -C "$TOP" -j2 --no-print-directory SAN=1 OUTPUT=.output-san .output-san/virtsync >/dev/null ||
		{ echo "fuzz-files: the sanitizer build failed" >&2; exit 1; }
fi
TMP=$(mktemp -d /tmp/vs-fuzz.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$KEEP"
PRISTINE=$TOP/tests/fixtures/host1
R=$TMP/root
fresh() { rm -rf "$R"; cp -a "$PRISTINE" "$R"; }
export ASAN_OPTIONS=detect_leaks=0:exitcode=86:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87

# --- seeds -----------------------------------------------------------------
mkdir -p "$TMP/seed/profile" "$TMP/seed/plan" "$TMP/seed/journal" "$TMP/seed/report"
cp "$TOP"/profiles/*.json "$TOP/tests/fixtures/profiles/multi.json" "$TMP/seed/profile/"
cat >"$TMP/seed/plan/diagnose.json" <<'EOT'
{ "format": "virtsync-plan", "version": 1, "objective": "throughput",
  "source": "diagnose", "regime": "nFC", "confidence": 0.7, "dmax_ns": 120000,
  "variables": { "pid": 4242, "qmp": "/run/qmp.sock", "iothread": "io0" },
  "predicted": { "throughput": 3.3e6 },
  "steps": [
    { "knob": "pcdev.consumer_sleep_ns", "target": { "pid": "${pid}" }, "value": "${dmax}" },
    { "knob": "thread.timerslack_ns", "target": { "pid": "${pid}", "role": "consumer" }, "value": 1 },
    { "knob": "guest.halt_poll_ns", "value": 200000, "why": "poll across the gap" },
    { "knob": "iothread.poll_max_ns", "target": { "qmp": "${qmp}", "iothread": "${iothread}" }, "value": 777 } ] }
EOT
fresh
"$TOP/.output/virtsync" --root "$R" apply "$PRISTINE/../profiles/multi.json" >/dev/null 2>&1 ||
	{ echo "fuzz-files: the seed apply failed" >&2; exit 1; }
cp "$R/run/virtsync/journal.json" "$TMP/seed/journal/multi.json"
"$TOP/.output/virtsync" --root "$R" rollback --last >/dev/null 2>&1
cp "$R/run/virtsync/journal.json" "$TMP/seed/journal/rolled-back.json"
cp "$TOP"/tests/fixtures/report/*.json "$TMP/seed/report/"

# --- the mutator: python, seeded, one input per call ----------------------
cat >"$TMP/mutate.py" <<'PY'
import json, random, sys
sys.setrecursionlimit(50000)
seed_file, out, rs = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(rs)
raw = open(seed_file, "rb").read()
HOSTILE = [None, True, False, 0, -1, 1, 2**31, 2**32 + 1, 2**63 - 1, 2**63, -2**63 - 1,
           2**64, 1e308, -1e308, 1e-320, 0.5, -0.0, "", " ", "0x10", "1e3", "-5", "007",
           "A" * 5000, "\n", "a\nb", "$(touch /tmp/vs-fuzz-pwned)", "`id`", "'\"", "\\",
           "${", "${x", "${dmax}", "${pid}${pid}", "${undefined}", "../../../etc/passwd",
           "/etc/shadow", "\u0000", "\u202e", "\ud7ff", "%s%s%n", "<!-- -->", "]]>",
           "0-9999999", "1,2,,3", "-1-3", "all", [], {}, [1, "a", None], {"": ""}]
def deep(n):
    v = 1
    for _ in range(n):
        v = [v] if rng.random() < 0.5 else {"a": v}
    return v
def nodes(v, path=()):
    yield path, v
    if isinstance(v, dict):
        for k in list(v):
            yield from nodes(v[k], path + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from nodes(x, path + (i,))
def setp(root, path, val):
    if not path:
        return val
    c = root
    for p in path[:-1]:
        c = c[p]
    c[path[-1]] = val
    return root
def getp(root, path):
    for p in path:
        root = root[p]
    return root
def json_mutate(doc):
    for _ in range(rng.randint(1, 4)):
        ns = list(nodes(doc))
        path, v = rng.choice(ns)
        op = rng.randrange(8)
        if op <= 2:
            doc = setp(doc, path, rng.choice(HOSTILE + [deep(rng.randint(50, 3000))]))
        elif op == 3 and path:
            parent = getp(doc, path[:-1])
            del parent[path[-1]]
        elif op == 4 and isinstance(v, list) and v:
            v.extend(rng.choice(v) for _ in range(rng.randint(1, 300)))
        elif op == 5 and isinstance(v, dict):
            v[rng.choice(["format", "version", "steps", "entries", "knob", "target", "value",
                          "old", "new", "state", "x" * rng.randint(1, 300)])] = rng.choice(HOSTILE)
        elif op == 6 and isinstance(v, (int, float)) and not isinstance(v, bool):
            doc = setp(doc, path, rng.choice([v * -1, v + 1, v * 10**rng.randint(1, 30), str(v)]))
        elif op == 7 and isinstance(v, str):
            doc = setp(doc, path, v * rng.randint(2, 200) if rng.random() < 0.5 else v[: rng.randint(0, len(v))])
    return json.dumps(doc, ensure_ascii=rng.random() < 0.5).encode()
def byte_mutate(b):
    b = bytearray(b)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(4)
        if not b:
            b = bytearray(b"{")
        i = rng.randrange(len(b))
        if op == 0:
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            del b[i:]
        elif op == 2:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
        else:
            j = min(len(b), i + rng.randint(1, 64))
            b[i:i] = b[i:j] * rng.randint(1, 50)
    return bytes(b)
try:
    doc = json.loads(raw)
except ValueError:
    doc = None
data = json_mutate(doc) if doc is not None and rng.random() < 0.7 else byte_mutate(raw)
open(out, "wb").write(data)
PY

runs=0 crashes=0 asan=0 ubsan=0 signals=0 timeouts=0 changed=0 inputs=0
declare -A rcs=()
# run KIND INPUT CMD...: one sanitized run, judged
run() {
	local kind=$1 input=$2 rc
	shift 2
	timeout -s KILL 30 "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
	rc=$?
	runs=$((runs + 1))
	rcs[$rc]=$((${rcs[$rc]:-0} + 1))
	local why=
	grep -q 'ERROR: AddressSanitizer' "$TMP/err" && { why=asan; asan=$((asan + 1)); }
	grep -q 'runtime error:' "$TMP/err" && { why=${why:-ubsan}; ubsan=$((ubsan + 1)); }
	if [ -z "$why" ]; then
		case $rc in
		0|1|2) ;;
		137) why=timeout; timeouts=$((timeouts + 1)) ;;
		86|87) why=sanitizer ;;
		*) why="exit $rc"; [ $rc -gt 128 ] && signals=$((signals + 1)) ;;
		esac
	fi
	if [ -n "$why" ]; then
		crashes=$((crashes + 1))
		local k="$KEEP/$kind-$runs.json"
		cp "$input" "$k"
		echo "CRASH ($why): $* (input kept as $k)"
		grep -m3 -E 'ERROR|runtime error|SUMMARY' "$TMP/err" | sed 's/^/    /'
	fi
}
same_tree() {
	diff -r -q -x run "$PRISTINE" "$R" >/dev/null 2>&1 || { changed=$((changed + 1)); echo "CHANGED: $1 wrote into the tree"; }
}

fresh
i=0
for kind in profile plan journal report; do
	seeds=("$TMP/seed/$kind"/*.json)
	for n in $(seq 1 "$N"); do
		i=$((i + 1))
		s=${seeds[$((RANDOM % ${#seeds[@]}))]}
		f=$TMP/in-$kind.json
		python3 "$TMP/mutate.py" "$s" "$f" $((SEED * 100003 + i)) || continue
		chmod 644 "$f"
		inputs=$((inputs + 1))
		case $kind in
		profile)
			run $kind "$f" "$VS" --root "$R" apply "$f" --dry-run
			same_tree "apply --dry-run"
			run $kind "$f" "$VS" export "$f" --qemu
			run $kind "$f" "$VS" export "$f" --libvirt --vcpus 2
			rm -rf "$TMP/tuned"; mkdir "$TMP/tuned"
			run $kind "$f" "$VS" export "$f" --tuned "$TMP/tuned"
			;;
		plan)
			run $kind "$f" "$VS" --root "$R" apply --plan "$f" --dry-run
			same_tree "apply --plan --dry-run"
			run $kind "$f" "$VS" export --plan "$f" --qemu
			run $kind "$f" "$VS" export --plan "$f" --libvirt
			rm -rf "$TMP/tuned"; mkdir "$TMP/tuned"
			run $kind "$f" "$VS" export --plan "$f" --tuned "$TMP/tuned"
			;;
		journal)
			fresh
			install -m 600 "$f" "$R/run/virtsync/journal.json"
			run $kind "$f" "$VS" --root "$R" verify
			run $kind "$f" "$VS" --root "$R" --json verify
			run $kind "$f" "$VS" --root "$R" rollback
			fresh
			;;
		report)
			run $kind "$f" "$VS" report --from "$f" -o "$TMP/r.html"
			run $kind "$f" "$VS" report --from "$f" --format md -o "$TMP/r.md"
			run $kind "$f" "$VS" report --from "$f" --format json -o "$TMP/r.json"
			;;
		esac
	done
done
[ -e /tmp/vs-fuzz-pwned ] && { echo "INJECTED: /tmp/vs-fuzz-pwned exists"; crashes=$((crashes + 1)); }
codes=
for c in $(echo "${!rcs[@]}" | tr ' ' '\n' | sort -n); do codes="$codes $c:${rcs[$c]}"; done
echo "fuzz files: $inputs inputs ($N each: profiles, plans, journals, saved runs), $runs sanitized runs;" \
	"$crashes crashes ($asan ASan, $ubsan UBSan, $signals signals, $timeouts timeouts);" \
	"$changed dry runs changed the tree; exit codes$codes"
[ "$crashes" = 0 ] && [ "$changed" = 0 ]
