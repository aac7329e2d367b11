#!/usr/bin/env bash
# Package test of the extension's pre-registration (docs/admin.md). Until a
# store publishes Kyso, the real packages offer nothing (an offer of an id
# no store has would only fail) and carry the self-hosted policy example;
# staged as if the stores had published (STAGE/ids.json: Kyso's ids plus
# made-up store ids), the .deb and .rpm hold an external-extension file per
# browser pointing at its store, and the MSI the update_url keys (32-bit
# registry view, on by default) and Firefox's policy in a feature that is
# off by default.
# Usage: test-prereg.sh STAGE REAL_DEB REAL_RPM REAL_MSI
set -euo pipefail
stage=$1 real_deb=$2 real_rpm=$3 real_msi=$4
fail() { echo "package-test-prereg: FAIL: $*"; exit 1; }
cws=abcdefghijklmnopabcdefghijklmnop edge=ponmlkjihgfedcbaponmlkjihgfedcba
files=(/usr/share/google-chrome/extensions/$cws.json /usr/share/chromium/extensions/$cws.json
  /opt/brave.com/brave/extensions/$cws.json /opt/microsoft/msedge/extensions/$edge.json
  /usr/share/doc/kyso/examples/firefox-policies.json /usr/share/doc/kyso/examples/chromium-policy-self-hosted.json)

deb=$(ls "$stage"/*.deb) rpm=$(ls "$stage"/*.rpm) msi=$stage/kyso-prereg.msi
deblist=$(dpkg -c "$deb") rpmlist=$(rpm -qlp "$rpm" 2>/dev/null)
for f in "${files[@]}"; do
  echo "$deblist" | grep -qF ".$f" || fail "$deb lacks $f"
  echo "$rpmlist" | grep -qxF "$f" || fail "$rpm lacks $f"
done
body=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/share/chromium/extensions/$cws.json")
[ "$(echo "$body" | tr -d ' \n')" = '{"external_update_url":"https://clients2.google.com/service/update2/crx"}' ] || fail "chromium file: $body"
body=$(rpm2archive - < "$rpm" | tar -xzO "./opt/microsoft/msedge/extensions/$edge.json")
echo "$body" | grep -qF 'https://edge.microsoft.com/extensionwebstorebase/v1/crx' || fail "edge file: $body"

reg=$(msiinfo export "$msi" Registry) comp=$(msiinfo export "$msi" Component) feat=$(msiinfo export "$msi" Feature)
for k in "Software\\Google\\Chrome\\Extensions\\$cws" "Software\\BraveSoftware\\Brave-Browser\\Extensions\\$cws" \
         "Software\\Microsoft\\Edge\\Extensions\\$edge"; do
  line=$(echo "$reg" | grep -F "$k	update_url	https://") || fail "MSI Registry lacks $k update_url"
  c=$(echo "$line" | awk -F'\t' '{print $NF}' | tr -d '\r')
  attrs=$(echo "$comp" | awk -F'\t' -v c="$c" '$1 == c {print $4}')
  [ $(( attrs & 256 )) -eq 0 ] || fail "$k is written in the 64-bit view (component $c attributes $attrs); browsers read the 32-bit one"
done
echo "$reg" | grep -F 'Software\Policies\Mozilla\Firefox\ExtensionSettings\signer@kyso.vn	install_url	https://addons.mozilla.org/' >/dev/null || fail "MSI lacks Firefox's install_url"
echo "$feat" | awk -F'\t' '$1 == "ExtensionOffer" && $6 == 1 {ok=1} END {exit !ok}' || fail "feature ExtensionOffer is not on by default:\n$feat"
echo "$feat" | awk -F'\t' '$1 == "FirefoxPolicy" && $6 == 1000 {ok=1} END {exit !ok}' || fail "feature FirefoxPolicy is not off by default:\n$feat"

# The real packages: nothing published, nothing offered. (Listings are read
# into variables first: grep -q stops at its match, and under pipefail a
# writer still writing then fails the pipeline.)
real_deblist=$(dpkg -c "$real_deb") real_rpmlist=$(rpm -qlp "$real_rpm" 2>/dev/null) real_reg=$(msiinfo export "$real_msi" Registry)
! echo "$real_deblist" | grep -qF '/extensions/' || fail "$real_deb offers an unpublished extension"
echo "$real_deblist" | grep -qF './usr/share/doc/kyso/examples/chromium-policy-self-hosted.json' || fail "$real_deb lacks the self-hosted example"
! echo "$real_rpmlist" | grep -qF '/extensions/' || fail "$real_rpm offers an unpublished extension"
! echo "$real_reg" | grep -qF '\Extensions\' || fail "$real_msi offers an unpublished extension"
echo "package-test-prereg: ok (staged $deb, $rpm, $msi; real packages offer nothing)"
