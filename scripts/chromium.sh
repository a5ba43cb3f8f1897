#!/usr/bin/env bash
# Makes sure the console's browser tests (internal/console TestBrowser) can
# run: Debian's chromium and a CJK font (the console shows Chinese), installed
# with apt-get when missing. Never fails the build: when they cannot be
# installed (no apt-get, not root and no sudo, no network) it says why, and
# TestBrowser skips with its own reason.
set -u
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qiE 'wqy|noto sans cjk|noto serif cjk' || need+=(fonts-wqy-zenhei)
if [ ${#need[@]} -eq 0 ]; then
	echo "browser tests: $(command -v chromium) ($(chromium --version 2>/dev/null | head -1))"
	exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "browser tests: ${need[*]} missing and no apt-get here: install them yourself, or TestBrowser skips"
	exit 0
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; else
		echo "browser tests: ${need[*]} missing; installing needs root (sudo apt-get install -y ${need[*]}); TestBrowser skips until then"
		exit 0
	fi
fi
echo "browser tests: installing ${need[*]} with apt-get (once)…"
if ! { $sudo apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
	{ $sudo apt-get update >/dev/null 2>&1 && $sudo apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1; }; }; then
	echo "browser tests: apt-get could not install ${need[*]}; TestBrowser skips"
	exit 0
fi
echo "browser tests: $(command -v chromium)"
