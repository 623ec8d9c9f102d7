#!/bin/sh
# Copies the labeling widget's prebuilt bundle from node_modules into the
# embed tree (dist/static/editor), checks it against the known checksums and
# writes version.json. Run by `make frontend` after `npm ci`.
set -eu
cd "$(dirname "$0")/.."

pkg=node_modules/label-studio
out=dist/static/editor

# The pinned build: label-studio@0.9.1 (Label Studio Frontend commit 808858f).
js_sha=fc7389ae328935a01af7f59be85fea95652b362e3e1f3bb986d824986038db34
css_sha=2c4d2360c9f83a0d6dc560de396219453f745c6219a3fe83f37913767cc3beff

if [ ! -f "$pkg/build/static/js/main.js" ]; then
	echo "copy-bundle: $pkg is not installed; run npm ci in frontend/ first" >&2
	exit 1
fi

rm -rf "$out"
mkdir -p "$out/js" "$out/css"
cp "$pkg/build/static/js/main.js" "$out/js/main.js"
cp "$pkg/build/static/js/main.js.LICENSE.txt" "$out/js/main.js.LICENSE.txt"
cp "$pkg/build/static/css/main.css" "$out/css/main.css"
cp "$pkg/LICENSE" "$out/LICENSE"

check() {
	got=$(sha256sum "$1" | cut -d' ' -f1)
	if [ "$got" != "$2" ]; then
		echo "copy-bundle: $1 has SHA-256 $got, expected $2: the pinned package changed" >&2
		rm -rf "$out"
		exit 1
	fi
}
check "$out/js/main.js" "$js_sha"
check "$out/css/main.css" "$css_sha"

# Written last: its presence means the copy is complete.
cat > "$out/version.json" <<JSON
{
  "message": "label-studio@0.9.1 as published, unmodified",
  "commit": "808858fe9cc17d372a89b1031c3e2e12e06ba1f3",
  "branch": "master",
  "date": "2021-02-11T20:40:38Z",
  "package": "label-studio@0.9.1"
}
JSON
echo "copy-bundle: $out ready (main.js $(wc -c < "$out/js/main.js") bytes, main.css $(wc -c < "$out/css/main.css") bytes)"
