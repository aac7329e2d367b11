#!/usr/bin/env bash
# provision.sh DIR — builds Kyso's SoftHSM2 test tokens in DIR.
#
# DIR gets its own softhsm2.conf (tokendir DIR/tokens); the system SoftHSM
# configuration is never read or written. Use the tokens with
#   SOFTHSM2_CONF=DIR/softhsm2.conf
# DIR's previous content is wiped, so the script is repeatable. Keys are
# made with openssl and imported (private key sensitive, not extractable)
# next to their certificate with the same CKA_ID: that is what a real token
# issued by a CA holds. See testdata/README.md for what each token holds.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
DIR=$1
USER_PIN=${KYSO_TEST_USER_PIN:-123456} # tests may pick another PIN (testenv.Provision)
SO_PIN=12345678
MODULE=${KYSO_SOFTHSM_MODULE:-}
if [ -z "$MODULE" ]; then
  for m in /usr/lib/softhsm/libsofthsm2.so \
           /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
           /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so \
           /usr/local/lib/softhsm/libsofthsm2.so; do
    if [ -f "$m" ]; then MODULE=$m; break; fi
  done
fi
[ -n "$MODULE" ] || { echo "provision: libsofthsm2.so not found (apt-get install softhsm2)" >&2; exit 1; }
for tool in openssl softhsm2-util pkcs11-tool; do
  command -v "$tool" >/dev/null || { echo "provision: $tool not found (apt-get install softhsm2 opensc openssl)" >&2; exit 1; }
done

# Wipe and recreate. Refuse obviously wrong targets: this is rm -rf.
case "$DIR" in
  /|/usr|/etc|/home|/root|"$HOME") echo "provision: refusing to wipe $DIR" >&2; exit 1 ;;
esac
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
find "$DIR" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
mkdir -p "$DIR/tokens" "$DIR/keys" "$DIR/ca"
chmod 700 "$DIR/keys"

cat >"$DIR/softhsm2.conf" <<EOF
# SoftHSM2 configuration for Kyso's tests (made by testdata/provision.sh).
directories.tokendir = $DIR/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
EOF
export SOFTHSM2_CONF="$DIR/softhsm2.conf"

# Quiet on success, loud on failure: each step's output goes to a log that is
# printed when the script fails.
LOG="$DIR/provision.log"
: >"$LOG"
trap 'rc=$?; if [ $rc -ne 0 ]; then echo "provision: failed (exit $rc); log:" >&2; cat "$LOG" >&2; fi' EXIT
run() { echo "+ $*" >>"$LOG"; "$@" >>"$LOG" 2>&1; }

# ---- Test CA -------------------------------------------------------------
# openssl 3.0 has no `x509 -not_before/-not_after`, so certificates are issued
# with `openssl ca`, which takes -startdate/-enddate (needed for the expired
# certificate) on every version.
CA="$DIR/ca"
touch "$CA/index.txt"
echo 1000 >"$CA/serial"
cat >"$CA/ca.cnf" <<EOF
[ ca ]
default_ca = kyso_ca
[ kyso_ca ]
dir = $CA
database = \$dir/index.txt
new_certs_dir = \$dir
serial = \$dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
preserve = yes
email_in_dn = no
[ policy_any ]
countryName = optional
stateOrProvinceName = optional
localityName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
[ req ]
distinguished_name = req_dn
string_mask = utf8only
utf8 = yes
[ req_dn ]
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ sign_ext ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = emailProtection, clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ enc_ext ]
basicConstraints = critical, CA:false
keyUsage = critical, keyEncipherment
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
# No keyUsage extension at all (RFC 5280: no restriction): Kyso does not
# offer it for signing (docs/tokens.md).
[ noku_ext ]
basicConstraints = critical, CA:false
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF

run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$CA/ca.key"
# Self-signed through `openssl ca -selfsign` so that it can start in 2019,
# before the expired certificate's validity: that one must be only expired.
run openssl req -config "$CA/ca.cnf" -new -utf8 -sha256 -key "$CA/ca.key" \
  -out "$CA/ca.csr" -subj "/C=VN/O=Kyso Thử Nghiệm (Việt Nam)/CN=Kyso Test CA"
run openssl ca -config "$CA/ca.cnf" -batch -utf8 -notext -preserveDN -selfsign \
  -keyfile "$CA/ca.key" -extensions v3_ca \
  -startdate 20190101000000Z -enddate 20460101000000Z -in "$CA/ca.csr" -out "$DIR/ca.pem"
openssl x509 -in "$DIR/ca.pem" -outform DER -out "$DIR/ca.der"

# ---- Helpers -------------------------------------------------------------
p11() { run pkcs11-tool --module "$MODULE" "$@"; }

init_token() { # label
  run softhsm2-util --init-token --free --label "$1" --pin "$USER_PIN" --so-pin "$SO_PIN"
}

# genkey NAME KEYSPEC: DIR/keys/NAME.key; KEYSPEC rsa:BITS or ec:CURVE.
genkey() {
  local key="$DIR/keys/$1.key"
  case "$2" in
    rsa:*) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${2#rsa:}" -out "$key.tmp" ;;
    ec:*) openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:${2#ec:}" -out "$key.tmp" ;;
    *) echo "bad key spec $2" >&2; return 1 ;;
  esac
  mv "$key.tmp" "$key"
}

# issue NAME KEYSPEC SUBJECT EXT START END
#   KEYSPEC: rsa:BITS or ec:CURVE. START/END: openssl ca dates (YYYYMMDDHHMMSSZ)
#   or "" for now / now + 5 years. Writes DIR/NAME.pem, DIR/NAME.der and
#   DIR/keys/NAME.key.
issue() {
  local name=$1 spec=$2 subj=$3 ext=$4 start=$5 end=$6
  local key="$DIR/keys/$name.key" csr="$DIR/keys/$name.csr"
  [ -s "$key" ] || genkey "$name" "$spec"
  run openssl req -config "$CA/ca.cnf" -new -utf8 -sha256 -key "$key" -out "$csr" -subj "$subj"
  local dates=(-days 1826)
  [ -n "$start" ] && dates=(-startdate "$start" -enddate "$end")
  run openssl ca -config "$CA/ca.cnf" -batch -utf8 -notext -preserveDN \
    -cert "$DIR/ca.pem" -keyfile "$CA/ca.key" -extensions "$ext" \
    "${dates[@]}" -in "$csr" -out "$DIR/$name.pem"
  openssl x509 -in "$DIR/$name.pem" -outform DER -out "$DIR/$name.der"
}

# store TOKEN NAME ID: writes NAME's private key, public key and certificate
# to TOKEN with CKA_ID=ID.
store() {
  local tok=$1 name=$2 id=$3
  local pub="$DIR/keys/$name.pub.pem"
  openssl pkey -in "$DIR/keys/$name.key" -pubout -out "$pub"
  p11 --token-label "$tok" --login --pin "$USER_PIN" --write-object "$DIR/keys/$name.key" \
    --type privkey --id "$id" --label "$name" --sensitive --private --usage-sign
  p11 --token-label "$tok" --login --pin "$USER_PIN" --write-object "$pub" \
    --type pubkey --id "$id" --label "$name"
  p11 --token-label "$tok" --login --pin "$USER_PIN" --write-object "$DIR/$name.der" \
    --type cert --id "$id" --label "$name"
  local subject
  subject=$(openssl x509 -in "$DIR/$name.pem" -noout -subject -nameopt utf8,sep_comma_plus_space | sed 's/^subject=//')
  printf '%s\t%s\t%s\t%s\t%s\n' "$tok" "$id" "$name" "$DIR/$name.pem" "$subject" >>"$DIR/tokens.txt"
}

# RSA key generation is most of the run time: make all keys at once, in the
# background, while the tokens are initialized.
declare -A KEYSPECS=([kyso-rsa2048]=rsa:2048 [kyso-ec256]=ec:P-256 [kyso-rsa3072]=rsa:3072
  [kyso-two]=rsa:2048 [kyso-two-expired]=rsa:2048 [kyso-two-enc]=rsa:2048 [kyso-two-noku]=ec:P-256)
pids=()
for name in "${!KEYSPECS[@]}"; do
  genkey "$name" "${KEYSPECS[$name]}" >>"$LOG" 2>&1 &
  pids+=($!)
done
for tok in kyso-rsa2048 kyso-ec256 kyso-rsa3072 kyso-two; do init_token "$tok"; done
for p in "${pids[@]}"; do wait "$p"; done

printf '# token\tCKA_ID\tname\tcertificate\tsubject\n' >"$DIR/tokens.txt"

# ---- Tokens --------------------------------------------------------------
issue kyso-rsa2048 rsa:2048 "/C=VN/L=Hà Nội/O=Sở Thông tin và Truyền thông/CN=NGUYỄN VĂN AN" sign_ext "" ""
store kyso-rsa2048 kyso-rsa2048 01
# The CA certificate too, without a key: the "chain" of getCertificate.
p11 --token-label kyso-rsa2048 --login --pin "$USER_PIN" --write-object "$DIR/ca.der" \
  --type cert --id ca01 --label "Kyso Test CA"
printf '%s\t%s\t%s\t%s\t%s\n' kyso-rsa2048 ca01 ca "$DIR/ca.pem" "CA certificate, no key" >>"$DIR/tokens.txt"

issue kyso-ec256 ec:P-256 "/C=VN/L=Thành phố Hồ Chí Minh/O=Công ty Cổ phần Kyso/CN=TRẦN THỊ BÌNH" sign_ext "" ""
store kyso-ec256 kyso-ec256 01

issue kyso-rsa3072 rsa:3072 "/C=VN/L=Đà Nẵng/O=Ủy ban nhân dân/CN=LÊ VĂN CƯỜNG" sign_ext "" ""
store kyso-rsa3072 kyso-rsa3072 01

issue kyso-two rsa:2048 "/C=VN/L=Huế/O=Kyso/CN=PHẠM MINH ĐỨC" sign_ext "" ""
store kyso-two kyso-two 01
issue kyso-two-expired rsa:2048 "/C=VN/L=Huế/O=Kyso/CN=VÕ THỊ HẾT HẠN" sign_ext 20200101000000Z 20210101000000Z
store kyso-two kyso-two-expired 02
issue kyso-two-enc rsa:2048 "/C=VN/L=Huế/O=Kyso/CN=ĐẶNG VĂN MÃ HÓA" enc_ext "" ""
store kyso-two kyso-two-enc 03
issue kyso-two-noku ec:P-256 "/C=VN/L=Huế/O=Kyso/CN=HOÀNG VĂN KHÔNG" noku_ext "" ""
store kyso-two kyso-two-noku 04

# The CA key is no longer needed; the private keys stay in DIR/keys (mode
# 700) so tests may compare, but nothing should need them.
rm -f "$CA/ca.key" "$DIR"/keys/*.csr
echo "provisioned 4 tokens in $DIR (SOFTHSM2_CONF=$DIR/softhsm2.conf)"
