#!/usr/bin/env bash
# test/uapi/fetch.sh [VERSION...]: the Linux uapi headers (<linux/vfio.h>, <linux/iommufd.h> and
# what they include) of each version, as an include root a compiler can be pointed at.
#
#   6.1   the system's own (/usr/include, linux-libc-dev of Debian bookworm, installed)
#   6.12  linux-libc-dev of trixie            \
#   7.2   linux-libc-dev of sid                } downloaded (not installed) with a private apt list,
#   7.3   linux-libc-dev of trixie-backports  /  unpacked with dpkg-deb -x into the cache
#
# One line per version on stdout:
#   OK <version> <package-version> <include-root> <seconds spent fetching (0: cached)>
#   SKIP <version> <reason>
# Never fails for the network: a version that cannot be had is a SKIP line with the reason.
# Works offline once a version is unpacked. The apt lists and .debs live in the cache test:kernel
# uses (~/.cache/vfio-subregion/kernel: apt-<suite>/, debs/), the unpacked trees in
# ~/.cache/vfio-subregion/uapi/<version>/ (UAPI_CACHE overrides the latter, KT_CACHE the former).
set -uo pipefail

BASE=${XDG_CACHE_HOME:-$HOME/.cache}/vfio-subregion
KCACHE=${KT_CACHE:-$BASE/kernel}
UCACHE=${UAPI_CACHE:-$BASE/uapi}
VERSIONS=("$@")
[ ${#VERSIONS[@]} -gt 0 ] || VERSIONS=(6.1 6.12 7.2 7.3)
declare -A SUITE=([6.12]=trixie [7.2]=sid [7.3]=trixie-backports)

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

apt_opts() {	# suite -> apt options that see only that suite
	local dir=$KCACHE/apt-$1
	echo "-o Dir::Etc::sourcelist=$dir/sources.list -o Dir::Etc::sourceparts=/dev/null -o Dir::State::lists=$dir/lists -o Dir::State::status=/dev/null -o Debug::NoLocking=1"
}

apt_update() {	# suite -> 0 when its private list is there (fetched now or before)
	local suite=$1 dir=$KCACHE/apt-$1
	mkdir -p "$dir/lists/partial" || return 1
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" > "$dir/sources.list"
	# shellcheck disable=SC2046
	timeout 60 apt-get -qq $(apt_opts "$suite") -o Acquire::Retries=1 -o Acquire::http::Timeout=20 update >"$dir/update.log" 2>&1 &&
		! grep -q -E '^E: |Failed to fetch' "$dir/update.log" && [ -n "$(ls "$dir/lists" | grep _Packages)" ]
}

candidate() {	# suite -> the version of linux-libc-dev its list offers, or nothing
	# shellcheck disable=SC2046
	apt-cache $(apt_opts "$1") show linux-libc-dev 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -1
}

fetch() {	# version suite
	local v=$1 suite=$2 dir=$UCACHE/$1 t0 pv deb lists=$KCACHE/apt-$2/lists
	if [ -e "$dir/.done" ]; then
		echo "OK $v $(cat "$dir/.package-version") $dir/root 0"; return
	fi
	t0=$(now)
	command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || { echo "SKIP $v apt-get/dpkg-deb are not available here"; return; }
	pv=
	# a list younger than a day is used as it is; an older or missing one is refreshed first
	if [ -n "$(ls "$lists" 2>/dev/null | grep _Packages)" ] && [ -z "$(find "$lists" -maxdepth 1 -name '*_Packages*' -mtime +1)" ]; then
		pv=$(candidate "$suite")
	fi
	if [ -z "$pv" ]; then
		apt_update "$suite" || { echo "SKIP $v cannot update the apt list of $suite (offline?): $(grep -m1 -E '^(E|W):' "$KCACHE/apt-$suite/update.log" | cut -c1-160) (see $KCACHE/apt-$suite/update.log)"; return; }
		pv=$(candidate "$suite")
	fi
	[ -n "$pv" ] || { echo "SKIP $v Debian $suite has no linux-libc-dev"; return; }
	case $pv in "$v".*|"$v"-*) ;; *) echo "SKIP $v Debian $suite now ships linux-libc-dev $pv, not $v.x (update the version table in test/uapi/fetch.sh)"; return ;; esac
	mkdir -p "$KCACHE/debs"
	deb=$(ls "$KCACHE"/debs/linux-libc-dev_"${pv/*:/}"_*.deb 2>/dev/null | tail -1)
	if [ -z "$deb" ]; then
		# shellcheck disable=SC2046
		( cd "$KCACHE/debs" && timeout 300 apt-get -qq $(apt_opts "$suite") -o Acquire::Retries=1 download "linux-libc-dev=$pv" ) >"$UCACHE/download-$v.log" 2>&1 ||
			{ echo "SKIP $v cannot download linux-libc-dev $pv from $suite: $(grep -m1 -E '^(E|W):' "$UCACHE/download-$v.log" | cut -c1-160)"; return; }
		deb=$(ls "$KCACHE"/debs/linux-libc-dev_"${pv/*:/}"_*.deb 2>/dev/null | tail -1)
		[ -n "$deb" ] || { echo "SKIP $v apt-get download left no linux-libc-dev_${pv}_*.deb in $KCACHE/debs"; return; }
	fi
	rm -rf "$dir"; mkdir -p "$dir"
	dpkg-deb -x "$deb" "$dir/root" || { echo "SKIP $v cannot unpack $deb"; return; }
	[ -e "$dir/root/usr/include/linux/vfio.h" ] || { echo "SKIP $v $deb has no usr/include/linux/vfio.h"; return; }
	echo "$pv" > "$dir/.package-version"
	touch "$dir/.done"
	echo "OK $v $pv $dir/root $(elapsed "$t0")"
}

mkdir -p "$UCACHE" 2>/dev/null || true
for v in "${VERSIONS[@]}"; do
	if [ "$v" = 6.1 ]; then
		pv=$(dpkg-query -W -f='${Version}' linux-libc-dev 2>/dev/null)
		if [ ! -e /usr/include/linux/vfio.h ]; then echo "SKIP 6.1 /usr/include/linux/vfio.h is missing (apt-get install linux-libc-dev)"
		else case $pv in 6.1.*) echo "OK 6.1 $pv / 0" ;; *) echo "SKIP 6.1 the system's linux-libc-dev is ${pv:-unknown}, not 6.1.x" ;; esac; fi
	elif [ -n "${SUITE[$v]:-}" ]; then
		fetch "$v" "${SUITE[$v]}"
	else
		echo "SKIP $v unknown version (known: 6.1 ${!SUITE[*]})"
	fi
done
