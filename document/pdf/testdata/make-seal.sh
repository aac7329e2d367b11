#!/usr/bin/env bash
# Remakes seal.png, the fictional red seal ("con dấu") the stamp tests and
# docs/img/stamp.png draw beside the text: ImageMagick with DejaVu Sans Bold.
# Transparent outside the rings (a PNG with alpha, for the SMask path).
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
convert -size 1400x90 xc:none -font DejaVu-Sans-Bold -pointsize 64 -kerning 4 -fill '#c8102e' \
  -gravity center -annotate +0+0 "★ CƠ QUAN MẪU ★ CON DẤU THỬ" -distort Arc '360 180' -trim +repage "$tmp/arc.png"
convert -size 600x600 xc:none \
  -fill none -stroke '#c8102e' -strokewidth 16 -draw "circle 300,300 300,14" \
  -strokewidth 5 -draw "circle 300,300 300,150" \
  \( "$tmp/arc.png" -resize 490x490 \) -gravity center -composite \
  -fill '#c8102e' -stroke none -draw "translate 300,290 scale 1.3,1.3 polygon 0,-70 16,-22 67,-22 26,8 41,57 0,27 -41,57 -26,8 -67,-22 -16,-22" \
  -font DejaVu-Sans-Bold -pointsize 34 -gravity center -fill '#c8102e' -annotate +0+95 "KYSO" \
  -resize 300x300 -define png:compression-level=9 seal.png
