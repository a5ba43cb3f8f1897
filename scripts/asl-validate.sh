#!/usr/bin/env bash
# Validates every workflows/*/*.asl.json and the benchmark definition with
# asl-validator 4.0.0 (installed into .tools/ on first use). Exits non-zero
# if any file is invalid. SAM DefinitionSubstitutions (${Name}) are replaced
# before validation: a Resource or FunctionName by a syntactically valid
# Lambda ARN, any other string by the placeholder's name.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools=$("$root/scripts/sfn-tools.sh")
validator=$tools/node_modules/.bin/asl-validator

shopt -s nullglob
files=("$root"/workflows/*/*.asl.json "$root/scripts/sfn-bench/bench.asl.json")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

status=0
for f in "${files[@]}"; do
	rel=${f#"$root"/}
	subst=$tmp/$(basename "$f")
	if ! err=$(node -e '
		const fs = require("fs");
		const [src, dst] = process.argv.slice(1);
		const arn = (n) => "arn:aws:lambda:us-east-1:123456789012:function:" + n;
		const sub = (key, v) => {
			if (typeof v === "string") {
				const whole = /^\$\{(\w+)\}$/.exec(v);
				if (whole && (key === "Resource" || key === "FunctionName")) return arn(whole[1]);
				return v.replace(/\$\{(\w+)\}/g, (_, n) => n);
			}
			if (Array.isArray(v)) return v.map((x) => sub("", x));
			if (v && typeof v === "object") {
				const o = {};
				for (const [k, x] of Object.entries(v)) o[k] = sub(k, x);
				return o;
			}
			return v;
		};
		let doc;
		try { doc = JSON.parse(fs.readFileSync(src, "utf8")); }
		catch (e) { console.error("    " + e.message); process.exit(1); }
		fs.writeFileSync(dst, JSON.stringify(sub("", doc), null, 2));
	' "$f" "$subst" 2>&1); then
		echo "✕ $rel is not JSON:" >&2
		echo "$err" >&2
		status=1
		continue
	fi
	if out=$("$validator" --json-path "$subst" 2>&1); then
		echo "✓ $rel"
	else
		echo "✕ $rel is invalid:" >&2
		echo "$out" | sed '1d; s/^/    /' >&2
		status=1
	fi
done
exit $status
