#!/usr/bin/env bash
# The main job of teeup, end to end (issue 14): a Trusted Application
# Manager on loopback with its embedded store, behind HTTPS with its
# self-signed certificate; its operator, two TA authors, a firmware author
# and an operator who co-signs the secure image, each with its own token
# and roles; one emulated device of two processes (secure world, normal
# world) whose TEEP Broker asks that TAM for updates: it attests, receives
# two TAs and a personalization encrypted to it, then a secure+normal
# image pair, installs the pair atomically, reboots into it, confirms it.
# Usage: docs/demo.sh TEEUP_BINARY OUT_DIR
set -euo pipefail
teeup=$(realpath "$1")
out=$2
rm -rf "$out" && mkdir -p "$out" && cd "$out"
step() { printf '\n== %s\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }
# quiet CMD...: show the command, run it; its output only if it fails.
quiet() {
  local log
  printf '$ %s\n' "$*"
  if ! log=$("$@" 2>&1); then printf '%s\n' "$log" >&2; exit 1; fi
}
# refused WHAT COMMAND...: the command must fail; its refusal is shown as
# what it is, the outcome this step is here to show.
refused() {
  local what=$1 err
  shift
  printf '$ %s\n' "$*"
  if err=$("$@" 2>&1 >/dev/null); then
    echo "demo: $what was accepted" >&2; exit 1
  fi
  printf 'refused, as it should be: %s\n' "$(printf '%s\n' "$err" | grep '^teeup: ' | head -1 | sed 's/^teeup: //')"
}
proven=()
proved() { proven+=("$1"); }
# wait_for WHAT SECONDS COMMAND...: until the command succeeds.
wait_for() {
  local what=$1 end=$((SECONDS + $2))
  shift 2
  while [ "$SECONDS" -lt "$end" ]; do "$@" >/dev/null && return 0; sleep 0.2; done
  echo "demo: $what did not happen in time" >&2
  for f in tam.log device.log; do [ -f "$f" ] && { echo "--- $f" >&2; tail -20 "$f" >&2; }; done
  exit 1
}
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null || true' EXIT

printf '== the TAM: its store, signing key and TLS certificate in tam/\n'
echo "$ $teeup tam serve --data tam --listen 127.0.0.1:0 --init-admin admin --init-admin-token-file admin.token &   (log in tam.log)"
"$teeup" tam serve --data tam --listen 127.0.0.1:0 --init-admin admin --init-admin-token-file admin.token > tam.log 2>&1 &
pids+=($!)
wait_for "the TAM's start" 30 grep -q 'TAM listening on' tam.log
grep -v '^time=' tam.log
TEEUP_TAM=$(sed -n 's/^TAM listening on \(https:\/\/[^ ]*\) .*/\1/p' tam.log)
# Every operator command below reaches the TAM over HTTPS, trusting only
# its self-signed certificate (a real TAM takes --cert/--key).
export TEEUP_TAM
TEEUP_TOKEN=$(cat admin.token)
export TEEUP_TOKEN
tam=(--tam-ca tam/tls-cert.pem)
proved "the TAM serves HTTPS with a self-signed certificate whose fingerprint it prints; the first operator's token is made once, into a 0600 file"

step "fetch the TAM's public key: the key its TEEP messages are signed with" \
  "$teeup" tam key "${tam[@]}" --out tam.pub.pem
step "make a device that trusts this TAM: factory images, development keys, its TEEP Agent key" \
  "$teeup" device init --dir dev --tam-key tam.pub.pem

printf '\n== register the authors (admin): each key, and the component IDs it may publish\n'
keys=dev/dev-keys
pub() { # the public half of a development key, as device init left it in trust/
  local f="dev/trust/$1.pub.pem"
  [ -f "$f" ] || f=$keys/$1.pem
  echo "$f"
}
step "TA author acme" "$teeup" tam author add "${tam[@]}" --name acme --kind ta --key "$(pub ta-acme)" --prefix TA/acme
step "TA author globex" "$teeup" tam author add "${tam[@]}" --name globex --kind ta --key "$(pub ta-globex)" --prefix TA/globex
step "the firmware author" "$teeup" tam author add "${tam[@]}" --name firmware --kind firmware --key "$(pub author)" --prefix secure --prefix normal
step "the operator who co-signs secure images" "$teeup" tam author add "${tam[@]}" --name operator --kind operator --key "$(pub operator)" --prefix secure

printf '\n== users and API tokens: each author publishes as itself, the operator manages devices\n'
quiet "$teeup" tam user add acme-ci "${tam[@]}" --role ta-author --author acme
quiet "$teeup" tam user add globex-ci "${tam[@]}" --role ta-author --author globex
quiet "$teeup" tam user add firmware-ci "${tam[@]}" --role firmware-author --author firmware
quiet "$teeup" tam user add ops "${tam[@]}" --role operator
for u in acme-ci globex-ci firmware-ci ops; do
  printf '$ %s tam token create --user %s > %s.token\n' "$teeup" "$u" "$u"
  "$teeup" tam token create "${tam[@]}" --user "$u" --expires 1h > "$u.token" 2> token.log || { cat token.log >&2; exit 1; }
  chmod 600 "$u.token"
done
as() { # as USER COMMAND...: run a teeup command with USER's token
  local user=$1
  shift
  TEEUP_TOKEN=$(cat "$user.token") "$@"
}

# A spec for manifest create: TA component ID ($1, as JSON strings), the
# payload file, sequence number. The payload URI is the TAM's address of
# its bytes, /payloads/SHA-256.
spec() {
  local id=$1 file=$2 seq=$3 sum
  sum=$(sha256sum "$file" | cut -d' ' -f1)
  cat <<JSON
{"sequence-number": $seq, "vendor-id": "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe", "class-id": "1492af14-2569-5e48-bf42-9b2d51f2ab45",
 "components": [{"id": $id, "file": "$file", "uri": "$TEEUP_TAM/payloads/$sum"}]}
JSON
}
printf 'hello TA of acme, release 1\n%.0s' {1..64} > hello.ta
printf 'clock TA of globex, release 3\n%.0s' {1..64} > clock.ta
spec "[\"'TA'\", \"'acme'\", \"'hello'\"]" hello.ta 1 > hello.json
spec "[\"'TA'\", \"'globex'\", \"'clock'\"]" clock.ta 3 > clock.json
printf '\n== each TA author signs its TA and publishes it with its own token\n'
quiet "$teeup" manifest create hello.json --key $keys/ta-acme.pem --out hello.suit
step "acme publishes TA/acme/hello" as acme-ci "$teeup" tam publish "${tam[@]}" hello.suit hello.ta
quiet "$teeup" manifest create clock.json --key $keys/ta-globex.pem --out clock.suit
step "globex publishes TA/globex/clock" as globex-ci "$teeup" tam publish "${tam[@]}" clock.suit clock.ta

printf '\n== globex signs a TA in acme'"'"'s name and tries to publish it\n'
printf 'not acme'"'"'s code\n%.0s' {1..64} > forged.ta
spec "[\"'TA'\", \"'acme'\", \"'hello'\"]" forged.ta 9 > forged.json
quiet "$teeup" manifest create forged.json --key $keys/ta-globex.pem --out forged.suit
refused "a TA outside globex's prefixes" as globex-ci "$teeup" tam publish "${tam[@]}" forged.suit forged.ta
proved "a TA author publishes only inside its own prefixes: globex's envelope for TA/acme/hello is refused by the TAM"

printf '\n== the firmware author signs a new secure+normal pair; the operator co-signs the secure image\n'
printf 'secure-world firmware, release 2\n%.0s' {1..256} > secure-2.bin
printf 'normal-world firmware, release 2\n%.0s' {1..256} > normal-2.bin
spec "[\"'secure'\"]" secure-2.bin 2 > secure-2.json
spec "[\"'normal'\"]" normal-2.bin 2 > normal-2.json
quiet "$teeup" manifest create secure-2.json --key $keys/author.pem --out secure-2.suit
quiet "$teeup" manifest create normal-2.json --key $keys/author.pem --out normal-2.suit
refused "a secure image without the operator's co-signature" as firmware-ci "$teeup" tam publish "${tam[@]}" secure-2.suit secure-2.bin
step "the operator co-signs it" "$teeup" manifest sign --key $keys/operator.pem --in-place secure-2.suit
step "the firmware author publishes the pair" as firmware-ci "$teeup" tam publish "${tam[@]}" secure-2.suit secure-2.bin
as firmware-ci "$teeup" tam publish "${tam[@]}" normal-2.suit normal-2.bin
proved "a secure image is published only with the operator's co-signature"

step "the operator registers the device: its endorsement (with its TEEP Agent key) and its factory reference values" \
  as ops "$teeup" tam device add "${tam[@]}" --endorsement dev/identity/endorsement.json --reference dev/factory-reference.json --name demo-device
device_id=$(as ops "$teeup" tam device list "${tam[@]}" --json | tr -d ' \n' | sed -n 's/.*"id":"\([0-9a-f]*\)".*/\1/p')
secret='wifi-psk=correct horse battery staple'
printf '%s\n' "$secret" > hello.conf
step "the operator personalizes acme's TA for this device alone (encrypted to its key-agreement key, signed by the TAM)" \
  as ops "$teeup" tam personalize "${tam[@]}" --device "$device_id" --tc TA/acme/hello --file hello.conf

printf '\n== run the device, its TEEP Broker pointed at the TAM\n'
echo "$ $teeup device run --dir dev --health-cmd true --tam $TEEUP_TAM --tam-ca tam/tls-cert.pem --poll 1h --record-ipc ipc &   (log in device.log)"
"$teeup" device run --dir dev --health-cmd true --tam "$TEEUP_TAM" --tam-ca tam/tls-cert.pem --poll 1h --record-ipc ipc > device.log 2>&1 &
pids+=($!)
# The broker's first session starts once the boot is checked: it attests,
# and the TAM sends what the device lacks, TAs first; while the TAM has
# more, it asks for the next session (long poll); a session that staged
# firmware ends with a reboot, and the first session of the new boot
# shows the TAM the versions the device runs.
tam_has() { # tam_has PATTERN: the TAM's status (JSON, no spaces) matches
  as ops "$teeup" tam status "${tam[@]}" --json > status.json || return 1
  if tr -d ' \n' < status.json | grep -q '"last_report":{[^}]*"success":false'; then
    echo "demo: a TEEP session failed:" >&2; as ops "$teeup" tam status "${tam[@]}" >&2; exit 1
  fi
  tr -d ' \n' < status.json | grep -q "$1"
}
printf '\n== the device and the TAM at work, session after session (the TEEP lines of device.log)\n'
wait_for "the firmware pair's confirmation at the TAM" 60 tam_has "\"component\":\"\['secure'\]\",\"sequence_number\":2"
grep -E 'TEEP session over|the TAM asks|rebooting|reset requested|booted component|trial|health|accept' device.log |
  grep -v 'level=DEBUG' | sed -E 's/^(normal|secure)-world: time=[^ ]* level=[A-Z]* /\1 world: /; s/^time=[^ ]* level=[A-Z]* /device: /'
printf '\n== the same sessions as the TAM saw them (the TEEP lines of tam.log)\n'
grep -E 'msg="teep ' tam.log | sed -E 's/^time=[^ ]* level=[A-Z]* /TAM: /; s/device=([0-9a-f]{16})[0-9a-f]*/device=\1…/'
proved "a device attests to the TAM, receives two authors' TAs in one session and its personalization in the next, then the secure+normal pair in an Update of its own, installed atomically, booted in trial and confirmed"

step "what the secure world reports now" "$teeup" device status --dir dev
step "the TAM's status: versions, attestation result, last report" as ops "$teeup" tam status "${tam[@]}"
tr -d ' \n' < status.json | grep -q '"status":"affirming"' || { echo "demo: the TAM's last attestation is not affirming" >&2; exit 1; }
for tc in "\['TA','acme','hello'\]\",\"sequence_number\":1" "\['TA','globex','clock'\]\",\"sequence_number\":3" "\['normal'\]\",\"sequence_number\":2"; do
  tr -d ' \n' < status.json | grep -q "$tc" || { echo "demo: the TAM's status lacks $tc" >&2; exit 1; }
done
"$teeup" device status --dir dev --json | tr -d ' \n' | grep -q '"personalized":true' || { echo "demo: the TA is not personalized" >&2; exit 1; }

for f in ipc.to-secure ipc.to-normal dev/flash.bin tam; do
  if grep -rq "correct horse" "$f"; then echo "demo: the plaintext personalization is in $f" >&2; exit 1; fi
done
echo "the plaintext personalization is in none of ipc.to-secure ($(wc -c < ipc.to-secure) bytes), ipc.to-normal, dev/flash.bin, the TAM's files"
proved "the personalization data, encrypted to the device, crosses the network and the normal world only as ciphertext"

printf '\n== the audit trail: every change made through the API, and the refusals\n'
"$teeup" tam audit "${tam[@]}"

printf '\n== what this demo proved\n'
for p in "${proven[@]}"; do printf -- '- %s\n' "$p"; done
printf '\neverything it made is in %s\n' "$PWD"
