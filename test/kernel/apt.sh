# Sourced by run.sh and build-kernel.sh: Debian packages through a private apt configuration per
# suite (downloaded and unpacked, never installed). Needs $CACHE.

apt_for() {	# suite -> the apt options that see it: the machine's own for bookworm, a private list for the others
	local suite=$1 dir=$CACHE/apt-$1
	[ "$suite" = bookworm ] && return 0
	if [ ! -s "$dir/sources.list" ] || [ -z "$(ls "$dir/lists" 2>/dev/null | grep _Packages)" ] ||
	   [ -n "$(find "$dir/lists" -maxdepth 1 -name '*_Packages' -mtime +1)" ]; then
		mkdir -p "$dir/lists/partial"
		echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" > "$dir/sources.list"
		apt-get -qq -o Dir::Etc::sourcelist="$dir/sources.list" -o Dir::Etc::sourceparts=/dev/null \
			-o Dir::State::lists="$dir/lists" update >/dev/null
	fi
	echo "-o Dir::Etc::sourcelist=$dir/sources.list -o Dir::Etc::sourceparts=/dev/null -o Dir::State::lists=$dir/lists"
}

deps_of() {	# apt-options package regex -> that package's dependencies matching the regex
	# shellcheck disable=SC2086
	apt-cache $1 depends "$2" 2>/dev/null | sed -n 's/^ *|\?Depends: //p' | grep -E "$3" | sort -u || true
}
