#!/usr/bin/env bash
# Makes throwaway signing material for CI and developer builds, in DIR
# (default bin/signing; bin/ is never committed). A release never uses it:
# it signs with the real certificate and key named by environment
# variables (docs/install.md, "Signed packages").
#   DIR/authenticode-ca.pem     a test root CA (verify with -CAfile)
#   DIR/authenticode-cert.pem   a code-signing certificate it issued
#   DIR/authenticode-key.pem    its private key
#   DIR/gpg-secret.asc          an RSA-3072 OpenPGP key, armoured, with
#   DIR/gpg-passphrase          this passphrase
#   DIR/gpg-public.asc          its public key (rpm --import, gpg --import)
# Idempotent: existing material is kept.
set -euo pipefail
dir=${1:-bin/signing}
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"

if [ ! -s authenticode-key.pem ]; then
  cat > ext.cnf <<'CNF'
[kyso_leaf]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF
  openssl req -x509 -newkey rsa:3072 -nodes -days 3650 -subj "/CN=Kyso Test Code Signing CA (throwaway)/O=Kyso test" \
    -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout authenticode-ca-key.pem -out authenticode-ca.pem 2>/dev/null
  openssl req -newkey rsa:3072 -nodes -subj "/CN=Kyso Test Publisher (throwaway)/O=Kyso test" \
    -keyout authenticode-key.pem -out leaf.csr 2>/dev/null
  openssl x509 -req -in leaf.csr -CA authenticode-ca.pem -CAkey authenticode-ca-key.pem -CAcreateserial \
    -days 3650 -extfile ext.cnf -extensions kyso_leaf -out authenticode-cert.pem 2>/dev/null
  rm -f leaf.csr ext.cnf authenticode-ca.srl
  echo "signing-test-keys: throwaway Authenticode CA and certificate in $dir"
fi

if [ ! -s gpg-secret.asc ]; then
  home=$(mktemp -d)
  trap 'gpgconf --homedir "$home" --kill all >/dev/null 2>&1 || true; rm -rf "$home"' EXIT
  head -c 24 /dev/urandom | base64 | tr -d '/+=' > gpg-passphrase
  gpg --homedir "$home" --batch --pinentry-mode loopback --passphrase-file gpg-passphrase \
    --quick-gen-key "Kyso Test Packages (throwaway) <packages-test@kyso.vn>" rsa3072 sign never 2>/dev/null
  gpg --homedir "$home" --batch --pinentry-mode loopback --passphrase-file gpg-passphrase \
    --armor --export-secret-keys > gpg-secret.asc
  gpg --homedir "$home" --batch --armor --export > gpg-public.asc
  echo "signing-test-keys: throwaway OpenPGP key in $dir"
fi
