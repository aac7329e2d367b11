#!/usr/bin/env bash
# Signs Windows files in place with Authenticode (osslsigncode): .exe and
# .msi. Reads the certificate and key from KYSO_AUTHENTICODE_CERT and
# KYSO_AUTHENTICODE_KEY (PEM; the key's passphrase, if any, in the file
# KYSO_AUTHENTICODE_KEY_PASS_FILE); adds an RFC 3161 timestamp only when
# KYSO_TIMESTAMP_URL is set (a release: the signature then outlives the
# certificate; CI has no network and signs without one).
#   scripts/authenticode-sign.sh FILE...
set -euo pipefail
: "${KYSO_AUTHENTICODE_CERT:?}" "${KYSO_AUTHENTICODE_KEY:?}"
args=(-certs "$KYSO_AUTHENTICODE_CERT" -key "$KYSO_AUTHENTICODE_KEY" -h sha256
      -n "Kyso — ký số" -i https://kyso.vn)
[ -n "${KYSO_AUTHENTICODE_KEY_PASS_FILE:-}" ] && args+=(-readpass "$KYSO_AUTHENTICODE_KEY_PASS_FILE")
[ -n "${KYSO_TIMESTAMP_URL:-}" ] && args+=(-ts "$KYSO_TIMESTAMP_URL")
for f in "$@"; do
  tmp="$f.signing"
  rm -f "$tmp"
  osslsigncode sign "${args[@]}" -in "$f" -out "$tmp" >/dev/null
  mv -f "$tmp" "$f"
  echo "signed (Authenticode) $f"
done
