#!/bin/sh
# Copies the labeling widget's prebuilt bundle from node_modules into the
# embed tree (dist/static/editor), and the pages' font into dist/static/fonts
# with the @font-face rules that name it (fonts.css), checks both against the
# known checksums and writes version.json last. Run by `make frontend` after
# `npm ci`.
set -eu
cd "$(dirname "$0")/.."

pkg=node_modules/label-studio
out=dist/static/editor
font_pkg=node_modules/@fontsource-variable/roboto
font_out=dist/static/fonts

# The pinned build: label-studio@0.9.1 (Label Studio Frontend commit 808858f).
js_sha=fc7389ae328935a01af7f59be85fea95652b362e3e1f3bb986d824986038db34
css_sha=2c4d2360c9f83a0d6dc560de396219453f745c6219a3fe83f37913767cc3beff
# Roboto as a variable font (weights 100-900), upright and italic, one file
# per Unicode subset: @fontsource-variable/roboto@5.3.0. The checksum is that
# of `sha256sum *.woff2` run in the output folder.
fonts_sha=362eb61cecefd9b8b794387cf622930a1757ead7bd916563e1d6584acb0dccd3

for p in "$pkg/build/static/js/main.js" "$font_pkg/wght.css"; do
	if [ ! -f "$p" ]; then
		echo "copy-bundle: $p is missing; run npm ci in frontend/ first" >&2
		exit 1
	fi
done

rm -rf "$out" "$font_out"
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

# The font. Our pages name it first in their font stack: text drawn with a
# web font never waits for the browser to look a system font up (on Linux,
# Chromium asks its browser process, by a blocking call, for each family and
# for each size and weight it draws, which took 15-35 ms of the labeling
# page's first layout). Each file is cached for good, so its URL carries the
# start of its SHA-256. font-display: block, as the files come from this
# server and the pages load the Latin faces right after their stylesheets
# (frontend.FontLoader).
mkdir -p "$font_out"
cp "$font_pkg"/files/roboto-*-wght-normal.woff2 "$font_pkg"/files/roboto-*-wght-italic.woff2 "$font_out/"
cp "$font_pkg/LICENSE" "$font_out/LICENSE"
got=$(cd "$font_out" && sha256sum *.woff2 | sha256sum | cut -d' ' -f1)
if [ "$got" != "$fonts_sha" ]; then
	echo "copy-bundle: the font files have checksum $got, expected $fonts_sha: the pinned package changed" >&2
	rm -rf "$out" "$font_out"
	exit 1
fi
rules=""
for f in "$font_out"/*.woff2; do
	name=$(basename "$f")
	v=$(sha256sum "$f" | cut -c1-12)
	rules="$rules -e s#url(./files/$name)#url(/static/fonts/$name?v=$v)#"
done
# The Latin faces form the family "Roboto Variable" on their own, with no
# unicode-range: when a family's first face is one of a set split by
# unicode-range, Chromium looks the system's last-resort font up (a
# blocking call again) for every size and weight it draws. The other
# subsets form "Roboto Variable Ext", the next family of the pages' font
# stack, so that only text with letters beyond Latin reaches them.
{
	echo "/* Roboto (SIL Open Font License 1.1, see LICENSE), from @fontsource-variable/roboto@5.3.0. */"
	cat "$font_pkg/wght.css"
	echo
	cat "$font_pkg/wght-italic.css"
} | sed $rules -e 's#font-display: swap;#font-display: block;#' | awk '
	/\/\* roboto-/ { latin = ($0 ~ /\/\* roboto-latin-wght-/) }
	latin && /^  unicode-range:/ { next }
	!latin { sub(/font-family: .Roboto Variable.;/, "font-family: '"'"'Roboto Variable Ext'"'"';") }
	{ print }
' > "$font_out/fonts.css"
if grep -q 'url(./files/' "$font_out/fonts.css"; then
	echo "copy-bundle: fonts.css names a file that was not copied" >&2
	rm -rf "$out" "$font_out"
	exit 1
fi

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
echo "copy-bundle: $out ready (main.js $(wc -c < "$out/js/main.js") bytes, main.css $(wc -c < "$out/css/main.css") bytes), $font_out ready ($(ls "$font_out"/*.woff2 | wc -l) font files)"
