#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Every example command in README.md, docs/*.md and man/*.8 works as
# written: the options exist for that command, every value (times, rates,
# sweeps) parses, required arguments are there; and the ones that are
# cheap and change nothing on the host are run, their shown output
# compared with what the tool prints today.
#
# The convention (what this test reads as a command):
#  - Markdown: inside a fenced block, a line starting with "$ " is a
#    command, continued by a trailing "\"; the other lines are its output.
#  - Man pages: in EXAMPLES, inside .EX/.EE, a line starting with "$ " is a
#    command, continued by a trailing "\e"; the other lines are output.
# A fenced or .EX line that starts with "virtsync CMD" without its "$ " is
# refused: a command nobody would check.
#
# Each virtsync command of a line (pipes, &&, ; and & split it; a command
# after stat's "--" counts too) goes through `virtsync __parse`, the
# command's own argp tree and usage rules without running anything. The
# safe ones run for real in a scratch directory: model, sim, profiles,
# help, --help, topo, sleepcost, apply --dry-run of a profile, export of a
# profile to stdout or a relative directory, report of files an earlier
# example of the same page wrote there.
. "$(dirname "$0")/../lib.sh"
command -v python3 >/dev/null || skip "python3 is not installed"

mkdir -p "$TMP/run"
python3 - "$VS" "$TOP" "$TMP/run" <<'PY'
import glob, os, re, shlex, subprocess, sys, time

VS, TOP, RUN = sys.argv[1:4]
cmds = subprocess.run([VS, "--help"], capture_output=True, text=True).stdout
COMMANDS = set(re.findall(r"^  ([a-z]+) ", cmds.split("Commands:")[1].split("\n\n")[0], re.M))
if not COMMANDS:
    sys.exit("FAIL: no commands listed by virtsync --help")
fails = []
checked = ran = 0


def fail(where, why):
    fails.append(f"{where}: {why}")


def unprompted(line):
    """A virtsync command written without its "$ " (or as "# ")."""
    m = re.match(r"(?:# )?virtsync +([a-z]+)(\s|$)", line)
    return bool(m and m.group(1) in COMMANDS and (line.startswith("virtsync") or
                                                  line.startswith("# virtsync")))


def markdown(rel, path):
    """(line number, command, output lines) of a Markdown file."""
    out, fence, cur = [], None, None
    lines = open(path).read().split("\n")
    i = 0
    while i < len(lines):
        raw = lines[i]
        s = raw.strip()
        if fence is None:
            m = re.match(r"(\s*)(```|~~~)", raw)
            if m:
                fence, indent = m.group(2), len(m.group(1))
        elif s.startswith(fence):
            fence, cur = None, None
        else:
            text = raw[indent:] if raw[:indent].isspace() else raw.lstrip()
            if text.startswith("$ "):
                n, cmd = i + 1, text[2:]
                while cmd.endswith("\\") and i + 1 < len(lines):
                    i += 1
                    cmd = cmd[:-1] + " " + lines[i].strip()
                cur = (n, cmd, [])
                out.append(cur)
            elif unprompted(text):
                fail(f"{rel}:{i + 1}", f"a command without its '$ ': {text}")
            elif cur and s and not s.startswith("#"):
                cur[2].append(text)
        i += 1
    return out


ROFF = {r"\-": "-", r"\e": "\\", r"\\": "\\", r"\(aq": "'", r"\(dq": '"',
        r"\&": "", r"\(ti": "~", r"\(ha": "^", r"\ ": " ", r"\(bu": "*"}


def unroff(where, s):
    def sub(m):
        if m.group(0) in ROFF:
            return ROFF[m.group(0)]
        fail(where, f"roff escape {m.group(0)} in an example this test cannot read")
        return m.group(0)
    return re.sub(r"\\(\(..|[^(])", sub, s)


def manpage(rel, path):
    out, sect, ex, cur = [], None, False, None
    lines = open(path).read().split("\n")
    i = 0
    while i < len(lines):
        raw = lines[i]
        where = f"{rel}:{i + 1}"
        if raw.startswith(".SH"):
            sect = raw[3:].strip().strip('"')
        elif sect == "EXAMPLES" and raw.startswith(".EX"):
            ex = True
        elif sect == "EXAMPLES" and raw.startswith(".EE"):
            ex, cur = False, None
        elif sect == "EXAMPLES" and ex and not raw.startswith("."):
            text = unroff(where, raw)
            if text.startswith("$ "):
                n, cmd = i + 1, text[2:]
                while cmd.endswith("\\") and i + 1 < len(lines):
                    i += 1
                    cmd = cmd[:-1] + " " + unroff(where, lines[i]).strip()
                cur = (n, cmd, [])
                out.append(cur)
            elif unprompted(text):
                fail(where, f"a command without its '$ ': {text}")
            elif cur and text.strip() and not text.startswith("#"):
                cur[2].append(text)
        elif sect == "EXAMPLES" and not ex and re.match(r"(\\&)?virtsync ", raw):
            fail(where, f"an example outside .EX/.EE: {unroff(where, raw)}")
        i += 1
    return out


def invocations(where, cmd):
    """Each virtsync command of a shell line: (argv after 'virtsync',
    stdout redirected to this relative file or None)."""
    # "2>" is a file descriptor's redirection, "-c 2 >" a value and one
    # of stdout: shlex loses the difference, so mark the former first
    cmd = re.sub(r"(^|\s)(\d+)(?=>)", r"\1@fd\2 ", cmd)
    lex = shlex.shlex(cmd, posix=True, punctuation_chars="|&;<>")
    lex.whitespace_split = True
    lex.commenters = "#"
    try:
        toks = list(lex)
    except ValueError as e:
        fail(where, f"does not split as a shell line ({e}): {cmd}")
        return []
    segs, cur = [], []
    for t in toks:
        if t in ("|", "||", "&&", ";", "&"):
            segs.append(cur)
            cur = []
        else:
            cur.append(t)
    segs.append(cur)
    res = []
    for seg in segs:
        while seg:
            words, redir, j = [], None, 0
            while j < len(seg):
                t = seg[j]
                fd = None
                if t.startswith("@fd") and j + 1 < len(seg):
                    fd, j = t[3:], j + 1
                    t = seg[j]
                if t in (">", ">>", ">&", "<"):
                    if t != "<" and fd in (None, "1") and j + 1 < len(seg):
                        redir = seg[j + 1]
                    j += 2
                    continue
                words.append(t)
                j += 1
            if not words or words[0] != "virtsync":
                break
            res.append((words[1:], redir))
            # stat -- virtsync bench ...: the command it runs is an example too
            seg = seg[seg.index("--") + 1:] if "--" in seg else []
    return res


def split_global(argv):
    """(global options, command, its arguments)"""
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] == "--root" else 1
    return argv[:i], (argv[i] if i < len(argv) else None), argv[i + 1:]


def shell_values(argv):
    # $!, $PID ...: a pid of a process that exists (this test's shell)
    return [str(os.getppid()) if re.fullmatch(r"\$[!$A-Za-z_{][A-Za-z_0-9}]*", a) else a
            for a in argv]


INPUT_OPTS = ("--plan", "--from")
OUTPUT_OPTS = ("-o", "--output", "--tuned", "--save", "--trace", "--prometheus-file")


def files(cmd, args, opts):
    """The paths args give to options opts (report: every --from input)."""
    out, k = [], 0
    while k < len(args):
        a = args[k]
        name, eq, val = a.partition("=")
        if a in opts and k + 1 < len(args):
            out.append((k + 1, args[k + 1]))
            k += 1
            if a == "--from" and cmd == "report":
                while k + 1 < len(args) and not args[k + 1].startswith("-"):
                    out.append((k + 1, args[k + 1]))
                    k += 1
        elif eq and name in opts:
            out.append((k, None))
        k += 1
    return out


def runnable(cmd, args, scratch):
    """Run for real: fast, nothing changed outside the scratch directory,
    its input files there (an earlier example wrote them)."""
    a = set(args)
    for _, f in files(cmd, args, OUTPUT_OPTS):
        if f is None or f.startswith("/") or ".." in f:
            return False
    for _, f in files(cmd, args, INPUT_OPTS):
        if f is None or not os.path.isfile(os.path.join(scratch, f)):
            return False
    if a & {"--help", "-?", "--usage", "--version", "-V"}:
        return True
    # topo and sleepcost measure for 2-3 s and change nothing
    if cmd in ("model", "sim", "profiles", "report", "topo", "sleepcost"):
        return True
    if cmd == "apply":
        return "--dry-run" in a and not a & {"--pid", "-p", "--qmp"}
    if cmd == "export":
        return not a & {"--pid", "-p", "--qmp"}
    return False


def parse_args(cmd, args, scratch):
    """args for the parse check: an input file the page does not make is
    a readable stand-in (tune --plan reads it while parsing)."""
    args = list(args)
    for k, f in files(cmd, args, INPUT_OPTS):
        if f is not None and not os.path.exists(os.path.join(scratch, f)):
            args[k] = STANDIN
    return args


def masked(line):
    line = re.sub(r"[-+]?\d+(\.\d+)?", "N", line)
    return " ".join(line.split())


OPTIONS = {}


def options(cmd, args):
    """The long options of cmd's argp tree, exactly (argp takes any
    unambiguous prefix: --repeat for --repeats parses, but is not the
    name); model --queues parses with a tree of its own."""
    tree = ["--queues"] if cmd == "model" and any(a.split("=")[0] == "--queues" for a in args) else []
    key = (cmd, *tree)
    if key not in OPTIONS:
        r = subprocess.run([VS, "__complete", cmd] + tree, capture_output=True, text=True)
        OPTIONS[key] = {l.split("\t")[0].rstrip("=[]") for l in r.stdout.splitlines() if l.startswith("--")}
        if r.returncode or not OPTIONS[key]:
            sys.exit(f"FAIL: virtsync __complete {cmd} lists no options")
    return OPTIONS[key]


def inexact(cmd, args):
    """The options of args that are not cmd's exact names."""
    bad = []
    for a in args:
        if a == "--":
            break
        for o in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", a) if a.startswith("--") or "[--" in a or "|--" in a else []:
            if o not in options(cmd, args):
                bad.append(o)
    return bad


def run(where, argv, scratch, env=None):
    """virtsync argv in scratch; None (and a failure) when it hangs."""
    t = time.monotonic()
    try:
        r = subprocess.run([VS] + argv, capture_output=True, text=True, cwd=scratch,
                           env=env, stdin=subprocess.DEVNULL, timeout=30)
    except subprocess.TimeoutExpired:
        fail(where, f"'virtsync {' '.join(argv)}' still running after 30 s")
        return None
    if VERBOSE:
        print(f"{where}: exit {r.returncode} in {time.monotonic() - t:.2f} s: virtsync {' '.join(argv)}")
    return r


def first_line(r):
    return (r.stderr.strip() or r.stdout.strip() or "-").splitlines()[0]


def check(where, line, shown, scratch):
    global checked, ran
    for argv, redir in invocations(where, line):
        argv = shell_values(argv)
        glob_opts, cmd, args = split_global(argv)
        shows = f"'virtsync {' '.join(argv)}'"
        checked += 1
        if cmd == "help":
            r = run(where, argv, scratch, dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH="80"))
            ran += 1
            if r and (r.returncode or not r.stdout.strip()):
                fail(where, f"{shows} exit {r.returncode}: {first_line(r)}")
            continue
        if cmd not in COMMANDS:
            fail(where, f"{shows}: no command {cmd!r}")
            continue
        bad = inexact(cmd, args)
        if bad:
            fail(where, f"{shows}: {', '.join(bad)} not an option of {cmd} (see virtsync {cmd} --help)")
            continue
        r = run(where, glob_opts + ["__parse", cmd] + parse_args(cmd, args, scratch), scratch)
        if r and r.returncode:
            fail(where, f"{shows} does not parse: {first_line(r)}")
        if not r or r.returncode or not runnable(cmd, args, scratch):
            continue
        r = run(where, argv, scratch)
        ran += 1
        if not r:
            continue
        if r.returncode:
            fail(where, f"{shows} exit {r.returncode}: {first_line(r)}")
            continue
        if redir and "/" not in redir:
            with open(os.path.join(scratch, redir), "w") as f:
                f.write(r.stdout)
        # output shown under a command whose stdout is not piped elsewhere:
        # each line as the tool prints it today (numbers aside: a re-run
        # may differ in the last digit)
        if shown and not redir and "|" not in line:
            have = {masked(l) for l in (r.stdout + r.stderr).split("\n")}
            for s in shown:
                if s.strip() not in ("...", "…") and masked(s) not in have:
                    fail(where, f"shown output '{s.strip()}' is not what {shows} prints")
                    break


def inline(rel, path):
    """Markdown's `virtsync CMD --opt ...` and `CMD --opt ...` spans in
    prose (synopses with placeholders, not run): their option names."""
    global checked
    text = re.sub(r"^\s*(```|~~~).*?^\s*\1", lambda m: "\n" * m.group(0).count("\n"),
                  open(path).read(), flags=re.S | re.M)
    for m in re.finditer(r"`([^`]+)`", text):
        w = m.group(1).split()
        whole = len(w) > 3 and w[0] == "virtsync"
        if len(w) > 1 and w[0] == "virtsync":
            w = w[1:]
        if len(w) < 2 or w[0] not in COMMANDS or not any(t.startswith("--") or "[--" in t for t in w):
            continue
        checked += 1
        where = f"{rel}:{text[:m.start()].count(chr(10)) + 1}"
        span = " ".join(m.group(1).split())
        bad = inexact(w[0], w[1:])
        if bad:
            fail(where, f"`{span}`: {', '.join(bad)} not an option of {w[0]}")
        elif whole and not re.search(r"[][|<>…]|\.\.\.|\b[A-Z]{2,}\b", span):
            # "virtsync CMD ..." with no placeholder: it parses as written
            r = run(where, ["__parse", w[0]] + parse_args(w[0], w[1:], RUN), RUN)
            if r and r.returncode:
                fail(where, f"`{span}` does not parse: {first_line(r)}")


VERBOSE = os.environ.get("V") == "1"
STANDIN = os.path.join(RUN, "standin.json")
with open(STANDIN, "w") as f:
    f.write("{}\n")
start = time.monotonic()
for path in [f"{TOP}/README.md"] + sorted(glob.glob(f"{TOP}/docs/*.md")) + sorted(glob.glob(f"{TOP}/man/*.8")):
    rel = os.path.relpath(path, TOP)
    # each page runs in its own scratch directory: a report --from reads
    # what an earlier example of the same page wrote
    scratch = os.path.join(RUN, rel.replace("/", "_"))
    os.makedirs(scratch, exist_ok=True)
    for n, line, shown in manpage(rel, path) if path.endswith(".8") else markdown(rel, path):
        check(f"{rel}:{n}", line, shown, scratch)
    if path.endswith(".md"):
        inline(rel, path)
took = time.monotonic() - start
for f in fails:
    print("FAIL:", f)
print(f"{checked} example commands checked, {ran} run, in {took:.1f} s")
sys.exit(1 if fails or not checked else 0)
PY
