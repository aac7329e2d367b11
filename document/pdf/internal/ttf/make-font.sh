#!/usr/bin/env bash
# Remakes NotoSans-Vietnamese.ttf, the stamp's font, from Debian's Noto Sans
# (fonts-noto-core). Run by hand when the font should change; the build and
# the tests use the committed file. Needs fonttools (apt-get install fonttools).
#
# Kept: Basic Latin, Latin-1, Latin Extended-A, the Vietnamese letters of
# Latin Extended-B (Ơ ơ Ư ư) and Latin Extended Additional (Ạ…ỹ), the
# combining marks Vietnamese uses (for text that is not NFC), common
# punctuation, ₫ and €. Dropped: OpenType layout (Kyso places glyphs itself;
# Vietnamese is fully precomposed) and hinting (PDF viewers do not use it at
# stamp sizes). Glyph ids are renumbered; the subset is ~48 KB instead of
# 500 KB, and the stamp embeds a further subset of only the glyphs it uses.
set -euo pipefail
cd "$(dirname "$0")"
pyftsubset /usr/share/fonts/truetype/noto/NotoSans-Regular.ttf \
  --unicodes='U+0020-007E,U+00A0-017F,U+018F,U+01A0-01B0,U+01CD-01DC,U+0259,U+02BC,U+02C6-02DD,U+0300-0309,U+0323,U+1E00-1EFF,U+2010-2027,U+2030-203A,U+2044,U+20AB,U+20AC,U+2116,U+2122,U+2212' \
  --layout-features='' --drop-tables+=GSUB,GPOS,GDEF,gasp --no-hinting \
  --notdef-outline --name-IDs='*' --name-languages='*' \
  --output-file=NotoSans-Vietnamese.ttf
