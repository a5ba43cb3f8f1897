#!/usr/bin/env bash
# Installs the npm tools of the Step Functions scripts (the versions pinned in
# scripts/sfn-bench/package.json and package-lock.json: aws-local-stepfunctions,
# asl-validator) into .tools/sfn-bench unless they are already there, and
# prints that directory.
# Needs Node 20+ and npm; the first run downloads about 50 packages.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/.tools/sfn-bench
src=$root/scripts/sfn-bench
if ! cmp -s "$src/package.json" "$dir/package.json" 2>/dev/null ||
	! cmp -s "$src/package-lock.json" "$dir/.package-lock.pinned" 2>/dev/null ||
	[ ! -x "$dir/node_modules/.bin/asl-validator" ] ||
	[ ! -d "$dir/node_modules/aws-local-stepfunctions" ]; then
	mkdir -p "$dir"
	cp "$src/package.json" "$src/package-lock.json" "$dir/"
	# aws-local-stepfunctions 3 declares Node >= 22; on Node 20 it runs with
	# scripts/sfn-bench/polyfill.cjs, so the engine warning is expected.
	npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error >&2
	cp "$src/package-lock.json" "$dir/.package-lock.pinned"
fi
echo "$dir"
