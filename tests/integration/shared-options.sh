#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Issue 13.6: the options several commands share have one name, short form,
# value and default. The table of virtsync(8), SHARED OPTIONS, must be the
# one the binary prints (virtsync __options), and every command's --help
# must follow it; a short form may mean only one option across commands.
. "$(dirname "$0")/../lib.sh"

expect_exit 0 "$VS" __options
cp "$TMP/out" "$TMP/table"
for c in $("$VS" --help | sed -n '/^Commands:/,/^$/{/^  [a-z]/s/^  \([a-z-]*\).*/\1/p}'); do
	"$VS" "$c" --help >"$TMP/help.$c" 2>&1 || die "$c --help failed"
done
python3 - "$TOP/man/virtsync.8" "$TMP/table" "$TMP" <<'PY' || exit 1
import glob, os, re, sys
man, table, tmp = sys.argv[1:]

def unesc(t):
    return t.replace('\\-', '-').replace('\\(em', '-').strip()

src = open(man).read()
sec = src[src.index('.SH SHARED OPTIONS'):]
sec = sec[:sec.index('\n.SH ', 1)]
tbl = sec[sec.index('.TS'):sec.index('.TE')].split('\n')
rows = [l for l in tbl[1:] if '\t' in l][1:]	# skip the format and header rows
man_rows = [tuple(unesc(c) for c in r.split('\t')[:4]) for r in rows]
bin_rows = [tuple(l.split('\t')) for l in open(table).read().splitlines()]
if sorted(man_rows) != sorted(bin_rows):
    print("FAIL: virtsync(8) SHARED OPTIONS differs from virtsync __options:")
    print("  man only:", sorted(set(man_rows) - set(bin_rows)))
    print("  binary only:", sorted(set(bin_rows) - set(man_rows)))
    sys.exit(1)
shared = {r[0]: {'short': r[1], 'value': r[2], 'default': r[3]} for r in bin_rows}

entry_re = re.compile(r'^ {2,6}((?:-\S, )?--\S+(?:, --\S+)*)(?:\s{2,}(.*))?$')
fails, checked, cmds, letters = [], 0, 0, {}
for path in sorted(glob.glob(os.path.join(tmp, 'help.*'))):
    cmd = path.rsplit('.', 1)[1]
    cmds += 1
    entries, cur = [], None
    for line in open(path).read().splitlines():
        m = entry_re.match(line)
        if m:
            cur = [m.group(1), m.group(2) or '']
            entries.append(cur)
        elif cur and re.match(r'^ {20,}\S', line):
            cur[1] += ' ' + line.strip()
        else:
            cur = None
    for spec, doc in entries:
        short, longs = '-', []
        for item in spec.split(', '):
            if re.fullmatch(r'-\S', item):
                short = item
            else:
                m = re.fullmatch(r'--([a-z0-9-]+)(.*)', item)
                longs.append((m.group(1), m.group(2) or '-'))
        first = longs[0][0]
        if short != '-':
            prev = letters.setdefault(short, (first, cmd))
            if prev[0] != first:
                fails.append(f"{short} is --{first} in {cmd} but --{prev[0]} in {prev[1]}")
        for name, value in longs:
            if '--' + name not in shared:
                continue
            want = shared['--' + name]
            checked += 1
            if short != want['short']:
                fails.append(f"{cmd} --{name}: short form {short}, table {want['short']}")
            if value != want['value']:
                fails.append(f"{cmd} --{name}: value {value}, table {want['value']}")
            stated = re.findall(r'\bdefault:? ([^),;]+)', doc)
            if want['default'] != '-':
                for d in stated:
                    if not d.startswith(want['default']):
                        fails.append(f"{cmd} --{name}: default '{d}', table '{want['default']}'")
for f in fails:
    print("FAIL:", f)
print(f"checked {checked} shared options in {cmds} commands ({len(shared)} in the table)")
if checked < 100 or cmds < 18:
    print("FAIL: too few options or commands checked: the help parser is broken")
    sys.exit(1)
sys.exit(1 if fails else 0)
PY
echo ok
