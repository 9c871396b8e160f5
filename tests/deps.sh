#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Install the Debian packages virtsync needs, only those that are missing, so
# that a ready machine does nothing. Elsewhere print the list and carry on.
set -eu
missing=""
if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: not a Debian system; install the equivalents of: $*" >&2
	exit 0
fi
for p in "$@"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in *" installed") ;; *) missing="$missing $p" ;; esac
done
[ -n "$missing" ] || exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing; run as root or: apt-get install$missing" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Tests need only the programs of some packages that ship a daemon
# (prometheus would listen on *:9090): policy-rc.d keeps invoke-rc.d and
# deb-systemd-invoke from starting any service during the install (one
# already in place is left as it is), and the daemons are disabled after.
policy=/usr/sbin/policy-rc.d
ours=""
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# virtsync tests/deps.sh: no service starts\nexit 101\n' >"$policy"
	chmod 0755 "$policy"
	ours=1
	trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
for svc in prometheus; do
	case " $missing " in *" $svc "*) ;; *) continue ;; esac
	if [ -d /run/systemd/system ]; then
		systemctl disable --now "$svc.service" >/dev/null 2>&1 || true
	else
		deb-systemd-helper disable "$svc.service" >/dev/null 2>&1 || true
	fi
	if [ -x "/etc/init.d/$svc" ]; then
		"/etc/init.d/$svc" stop >/dev/null 2>&1 || true
		update-rc.d "$svc" disable >/dev/null 2>&1 || true
	fi
done
[ -z "$ours" ] || rm -f "$policy"
