#!/usr/bin/env bash
# demo/run.sh — `make demo`: a demo SoftHSM token, the Kyso agent and the
# demo portal, all under ~/.local/share/kyso-demo, then the browser.
#
# It never writes the user's own Kyso config (~/.config/kyso/config.json):
# the demo's config lives in the demo dir and is passed with --config.
# Ctrl-C stops what it started. Environment:
#   KYSO_DEMO_PORT  portal port (default 8080)
#   KYSO_DEMO_DIR   demo dir (default ~/.local/share/kyso-demo)
#   KYSO_DEMO_BROWSER=none  do not open a browser
#   KYSO_DEMO_AGENT_PORT    the demo agent's WebSocket port (default 28418;
#                           the page is then opened with ?kysoPort=N)
#   KYSO_DEMO_TOKEN=slow    make the demo token as slow as a real USB token
#                           (0.3 s a signature, through the test fault module):
#                           a batch shows Kyso's progress window
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export PATH=/usr/local/go/bin:$PATH

PORT=${KYSO_DEMO_PORT:-8080}
DEMO=${KYSO_DEMO_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/kyso-demo}
KYSO=$ROOT/bin/kyso
EXT=$ROOT/extension/build/chromium
PIN=123456 # the PIN testdata/provision.sh gives every test token
AGENT_PORT=${KYSO_DEMO_AGENT_PORT:-28418}

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33m!!\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mxx\033[0m %s\n' "$*" >&2; exit 1; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

[ -x "$KYSO" ] || die "bin/kyso missing: run 'make demo' (it builds it) or 'make build'"
listening "$PORT" && die "port $PORT is in use; choose another: KYSO_DEMO_PORT=8081 make demo"
# A Kyso agent already running (an installed Kyso) owns the WebSocket port
# and the local socket; the demo will not fight it or silently use its config.
if listening "$AGENT_PORT"; then
  die "something (an installed Kyso agent?) already listens on 127.0.0.1:$AGENT_PORT. Stop it first (systemctl --user stop kyso) and run 'make demo' again, or use another port: KYSO_DEMO_AGENT_PORT=28419 make demo"
fi

mkdir -p "$DEMO"
chmod 700 "$DEMO"

# ---- Demo token ----------------------------------------------------------
TOK=$DEMO/softhsm
if [ ! -f "$TOK/softhsm2.conf" ] || ! grep -q '^kyso-rsa2048' "$TOK/tokens.txt" 2>/dev/null; then
  say "Creating the demo token (SoftHSM2) in $TOK"
  bash "$ROOT/testdata/provision.sh" "$TOK" >/dev/null
  # Keep one token, one certificate: NGUYỄN VĂN AN on kyso-rsa2048. The
  # others exist for the tests' corner cases and would only crowd the picker.
  for t in kyso-ec256 kyso-rsa3072 kyso-two; do
    SOFTHSM2_CONF=$TOK/softhsm2.conf softhsm2-util --delete-token --token "$t" >/dev/null 2>&1 || true
  done
fi
export SOFTHSM2_CONF=$TOK/softhsm2.conf
MODULE=""
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
         /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so /usr/local/lib/softhsm/libsofthsm2.so; do
  [ -f "$m" ] && { MODULE=$m; break; }
done
[ -n "$MODULE" ] || die "libsofthsm2.so not found: run 'make deps'"

# ---- A slow token (KYSO_DEMO_TOKEN=slow) ---------------------------------
# SoftHSM signs in under a millisecond; a citizen's USB token takes 0.1–1 s.
# The fault module (testdata/faultp11, a test tool, never shipped) wraps
# SoftHSM and sleeps in each call as a real token would. The agent is given
# it as its module, and a cache dir of the demo's own whose crash journal
# skips SoftHSM itself (which p11-kit registers), so the token shows once.
SLOW_ENV=()
if [ "${KYSO_DEMO_TOKEN:-}" = slow ]; then
  make -s -C "$ROOT" fault >/dev/null || die "cannot build the fault module (gcc): run 'make deps'"
  CONTROL=$DEMO/slow-token.conf
  printf 'sign_delay_ms=300\nlogin_delay_ms=150\nfind_delay_ms=10\n' >"$CONTROL"
  mkdir -p "$DEMO/cache/kyso/modules"
  REAL=$(readlink -f "$MODULE")
  printf '{"format":1,"modules":{"%s":{"crashes":2,"disabled":true,"call":"C_Initialize"}}}\n' "$REAL" \
    >"$DEMO/cache/kyso/modules/modules.json"
  SLOW_ENV=(KYSO_FAULT_CONTROL="$CONTROL" KYSO_FAULT_TARGET="$MODULE" XDG_CACHE_HOME="$DEMO/cache")
  MODULE=$ROOT/bin/libkysofault.so
  say "Slow demo token: 0.3 s a signature (fault module, $CONTROL)"
fi

# ---- Demo config (never the user's own) ----------------------------------
CFG=$DEMO/config/config.json
mkdir -p "$DEMO/config"
cat >"$CFG.tmp" <<JSON
{
  "allowedOrigins": ["http://localhost:$PORT", "http://127.0.0.1:$PORT"],
  "allowLocalhost": true,
  "userApproval": true,
  "modules": ["$MODULE"],
  "port": $AGENT_PORT
}
JSON
mv "$CFG.tmp" "$CFG"

# ---- Processes -----------------------------------------------------------
PIDS=()
STOPPING=""
cleanup() {
  STOPPING=1
  trap - INT TERM EXIT
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  echo
  say "Demo stopped. Its files stay in $DEMO (delete that folder to reset)."
}
trap cleanup INT TERM EXIT

say "Building the demo portal and the page library (kyso.js)"
go build -o "$ROOT/bin/kyso-demo" ./demo
node "$ROOT/extension/kyso-js/build.mjs"

say "Starting the Kyso agent: kyso serve --config $CFG (log: $DEMO/serve.log)"
env "${SLOW_ENV[@]}" "$KYSO" serve --config "$CFG" >"$DEMO/serve.log" 2>&1 &
PIDS+=($!)
say "Starting the portal on http://localhost:$PORT/ (log: $DEMO/portal.log)"
"$ROOT/bin/kyso-demo" --port "$PORT" --kyso-js "$ROOT/extension/kyso-js/dist/kyso.mjs" >"$DEMO/portal.log" 2>&1 &
PIDS+=($!)

for _ in $(seq 100); do
  listening "$PORT" && listening "$AGENT_PORT" && break
  for p in "${PIDS[@]}"; do kill -0 "$p" 2>/dev/null || { cat "$DEMO/serve.log" "$DEMO/portal.log" >&2; die "a demo process exited"; }; done
  sleep 0.1
done
listening "$AGENT_PORT" || warn "the agent is not listening on $AGENT_PORT yet (see $DEMO/serve.log)"
URL="http://localhost:$PORT/"
Q=""; [ "$AGENT_PORT" = 28418 ] || Q="?kysoPort=$AGENT_PORT"

# ---- Browser -------------------------------------------------------------
# A demo Chromium profile holds its own native-messaging manifest, so the
# user's browsers and their Kyso registration are left as they are.
PROFILE=$DEMO/chromium-profile
write_manifest() { # dir
  mkdir -p "$1"
  local id
  # The pinned development id, from the one id source.
  id=$(sed -n 's/.*"chromiumId": *"\([a-p]\{32\}\)".*/\1/p' "$ROOT/internal/extid/ids.json")
  cat >"$1/vn.kyso.signer.json" <<JSON
{
  "name": "vn.kyso.signer",
  "description": "Kyso — ký số (demo)",
  "path": "$KYSO",
  "type": "stdio",
  "allowed_origins": ["chrome-extension://$id/"]
}
JSON
}
write_manifest "$PROFILE/NativeMessagingHosts"

BROWSER=""
for b in chromium chromium-browser; do command -v "$b" >/dev/null && { BROWSER=$(command -v "$b"); break; }; done
HAVE_DISPLAY=""; [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] && HAVE_DISPLAY=1

echo
echo "────────────────────────────────────────────────────────────────────"
echo " Kyso demo đang chạy / is running"
echo "   Cổng dịch vụ công (portal):  $URL$Q"
echo "   Ký hàng loạt (batch, 100):   ${URL}ky-hang-loat$Q"
echo "   Ký văn bản PDF (signPdf):    ${URL}ky-van-ban-pdf$Q"
echo "   Ký hóa đơn điện tử (signXml): ${URL}ky-hoa-don$Q"
echo "   Token:  kyso-rsa2048 (SoftHSM2), chứng thư CN=NGUYỄN VĂN AN"
printf '   \033[1mPIN của token / token PIN:  %s\033[0m\n' "$PIN"
echo "   Cấu hình demo / demo config: $CFG"
echo "────────────────────────────────────────────────────────────────────"

command -v xmlsec1 >/dev/null || warn "xmlsec1 is not installed: the e-invoice page cannot verify on the server (make deps installs it)."
if [ ! -f "$EXT/manifest.json" ]; then
  warn "extension/build/chromium is not built yet: the page will use the WebSocket path (kyso serve)."
fi
if [ -z "$HAVE_DISPLAY" ]; then
  warn "No display: Kyso's PIN dialogs need a desktop session. Open $URL$Q from a browser on this desktop."
elif [ "${KYSO_DEMO_BROWSER:-}" = none ]; then
  :
elif [ -n "$BROWSER" ]; then
  say "Opening Chromium with a demo profile ($PROFILE) and the Kyso extension"
  args=(--user-data-dir="$PROFILE" --no-first-run --no-default-browser-check)
  if [ -f "$EXT/manifest.json" ]; then
    # Chromium ≥137 needs the feature off for --load-extension to work.
    args+=(--load-extension="$EXT" --disable-features=DisableLoadExtensionCommandLineSwitch)
  fi
  if [ "$(id -u)" -eq 0 ]; then
    # As root Chromium refuses to start with its sandbox ("Running as root
    # without --no-sandbox is not supported") and exits at once.
    warn "running as root: Chromium runs without its sandbox (--no-sandbox). Run 'make demo' as a normal user to keep it."
    args+=(--no-sandbox)
  fi
  env "${SLOW_ENV[@]}" "$BROWSER" "${args[@]}" "$URL$Q" >"$DEMO/chromium.log" 2>&1 &
  BROWSER_PID=$!
  PIDS+=("$BROWSER_PID")
  # A browser that cannot start says why in its log: show it, not nothing.
  sleep 3
  if ! kill -0 "$BROWSER_PID" 2>/dev/null; then
    warn "Chromium exited at once; the end of $DEMO/chromium.log:"
    tail -n 15 "$DEMO/chromium.log" >&2
  fi
else
  command -v xdg-open >/dev/null && xdg-open "$URL$Q" >/dev/null 2>&1 || true
  cat <<TXT
In Chrome/Chromium: chrome://extensions → Developer mode → Load unpacked →
  $EXT
and register the native host for that browser with:  $KYSO install
Without the extension the page still works through the agent (WebSocket).
TXT
fi
echo "Nhấn Ctrl-C để dừng / Press Ctrl-C to stop."
wait "${PIDS[0]}" || [ -n "$STOPPING" ] || warn "kyso serve exited (see $DEMO/serve.log)"
