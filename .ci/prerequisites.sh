#!/usr/bin/env bash
# What the tests need besides npm packages: a real redis-server (shared rate gate), PostgreSQL server binaries
# (n8n queue mode in the end-to-end tests), the compiler tools that build n8n's native modules (g++, make, python3),
# openssl (certificates for the TLS Redis tests) and a real n8n (installed into a cache outside the repository).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if [ "${#missing[@]}" -gt 0 ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "Installing Debian packages: ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	else
		echo "The tests need these Debian packages: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}" >&2
		exit 1
	fi
fi

if [ -f scripts/install-n8n.sh ]; then
	bash scripts/install-n8n.sh
fi
