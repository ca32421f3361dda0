#!/usr/bin/env bash
# The device's side of teeup, without a TAM (make demo-device; make demo
# is the TAM's story, docs/demo.sh). On the author's side: make a key,
# build and sign a two-component SUIT manifest, verify it, inspect it, and
# run it on the dry-run device. Then on an emulated device of two processes
# (secure world, normal world): a firmware update through the normal world,
# and a Trusted Application whose personalization data is encrypted for
# the device. Usage: docs/demo-device.sh TEEUP_BINARY OUT_DIR
set -euo pipefail
teeup=$(realpath "$1")
out=$2
rm -rf "$out" && mkdir -p "$out" && cd "$out"
step() { printf '\n== %s\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }
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

printf 'secure-world firmware v2\n%.0s' {1..64} > secure.bin
printf 'normal-world firmware v2\n%.0s' {1..64} > normal.bin
cat > spec.json <<'JSON'
{
  "sequence-number": 2,
  "vendor-id": "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe",
  "class-id": "1492af14-2569-5e48-bf42-9b2d51f2ab45",
  "components": [
    {"id": ["00"], "file": "secure.bin", "uri": "https://fw.example/secure-v2.bin", "invoke": true},
    {"id": ["01"], "file": "normal.bin", "integrate": true}
  ],
  "sever": ["text"],
  "text": {"en": {"manifest-description": "teeup demo: secure and normal image, release 2"}}
}
JSON
cat > device.json <<'JSON'
{
  "vendor-ids": ["fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe"],
  "class-ids": ["1492af14-2569-5e48-bf42-9b2d51f2ab45"],
  "fixed": true,
  "components": [
    {"id": ["00"], "sequence-number": 1},
    {"id": ["01"], "sequence-number": 1}
  ]
}
JSON

step "generate the author's signing key" "$teeup" manifest keygen --alg ES256 --out author.pem
step "build and sign a two-component manifest" "$teeup" manifest create spec.json --key author.pem --out update.suit
step "verify it with the author's public key" "$teeup" manifest verify --key author.pub.pem update.suit
step "inspect it" "$teeup" manifest inspect update.suit
step "process it on the dry-run device" "$teeup" manifest process --key author.pub.pem --device device.json \
  --payload https://fw.example/secure-v2.bin=secure.bin --out installed update.suit
step "the installed components equal the payloads" cmp secure.bin installed/%00.bin
cmp normal.bin installed/%01.bin && echo "installed/%00.bin and installed/%01.bin match their payloads"
proved "a two-component manifest is built, signed, verified and installed on a dry-run device, byte for byte"

flip() { # flip one bit of byte $2 (negative: from the end) of $1 into $3
  local off=$2 byte
  [ "$off" -lt 0 ] && off=$(($(wc -c < "$1") + off))
  byte=$(od -An -tu1 -j "$off" -N1 "$1" | tr -d ' ')
  cp "$1" "$3"
  # printf turns the octal escape into the one byte; dd writes it in place.
  printf "$(printf '\\%03o' $((byte ^ 1)))" | dd of="$3" bs=1 seek="$off" conv=notrunc status=none
}
printf '\n== a flipped bit in the signed manifest\n'
flip update.suit 200 tampered-manifest.suit
refused "a tampered manifest" "$teeup" manifest verify --key author.pub.pem tampered-manifest.suit
proved "one flipped bit in a signed manifest makes it fail verification"
printf '\n== a flipped bit in the integrated payload\n'
flip update.suit -1 tampered-payload.suit
refused "a tampered payload" "$teeup" manifest process --key author.pub.pem --device device.json \
  --payload https://fw.example/secure-v2.bin=secure.bin --out tampered-out tampered-payload.suit
proved "one flipped bit in a payload is caught by its digest, and nothing is installed"

printf '\n== a device of two processes\n'
step "make a device: factory images, development keys, device keys sealed by its TPM" "$teeup" device init --dir dev
echo "$ $teeup device run --dir dev --health-cmd true --record-ipc ipc &   (log in device.log)"
"$teeup" device run --dir dev --health-cmd true --record-ipc ipc > device.log 2>&1 &
device=$!
trap 'kill $device 2>/dev/null; wait $device 2>/dev/null || true' EXIT
for _ in $(seq 300); do [ -S dev/normal.sock ] && break; sleep 0.1; done

printf 'normal-world firmware v2, through the normal world\n%.0s' {1..512} > normal-v2.bin
cat > normal-v2.json <<'JSON'
{"sequence-number": 2, "vendor-id": "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe", "class-id": "1492af14-2569-5e48-bf42-9b2d51f2ab45",
 "components": [{"id": ["'normal'"], "file": "normal-v2.bin", "uri": "https://fw.example/normal-v2.bin", "invoke": true}]}
JSON
step "sign a normal-image update with the device's development author key" \
  "$teeup" manifest create normal-v2.json --key dev/dev-keys/author.pem --out normal-v2.suit
step "update through the normal world: stream, verify, stage, reboot, trial, accept" \
  "$teeup" device update --dir dev --payload https://fw.example/normal-v2.bin=normal-v2.bin normal-v2.suit
proved "a two-process device takes a firmware update through its normal world: streamed, verified by the secure world, booted in trial, accepted"

secret='wifi-psk=correct horse battery staple'
printf 'hello TA, release 1\n%.0s' {1..64} > hello.ta
cat > hello-ta.json <<JSON
{"sequence-number": 1, "vendor-id": "fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe", "class-id": "1492af14-2569-5e48-bf42-9b2d51f2ab45",
 "components": [
  {"id": ["'TA'", "'acme'", "'hello'"], "file": "hello.ta", "integrate": true},
  {"id": ["'TA'", "'acme'", "'hello'", "'personalization'"], "content": "$(printf '%s' "$secret" | od -An -tx1 | tr -d ' \n')",
   "encrypt": {"recipient": "dev/identity/agreement.pub.pem"}}]}
JSON
step "sign a TA (author acme) with personalization data encrypted for the device" \
  "$teeup" manifest create hello-ta.json --key dev/dev-keys/ta-acme.pem --out hello-ta.suit
step "install it: decrypted and stored only in the secure world, no reboot" "$teeup" device update --dir dev hello-ta.suit
for f in ipc.to-secure ipc.to-normal dev/flash.bin; do
  if grep -q "correct horse" "$f"; then echo "demo: the plaintext personalization is in $f" >&2; exit 1; fi
done
echo "the plaintext personalization is in none of ipc.to-secure ($(wc -c < ipc.to-secure) bytes), ipc.to-normal, dev/flash.bin"
proved "a TA installs with no reboot, and its personalization data, encrypted for the device, never crosses to the normal world or the flash in the clear"
printf '\n== a TA signed by another author (globex) for acme'"'"'s component\n'
sed 's/"sequence-number": 1/"sequence-number": 2/' hello-ta.json > foreign.json
"$teeup" manifest create foreign.json --key dev/dev-keys/ta-globex.pem --out foreign.suit
refused "a foreign author's TA" "$teeup" device update --dir dev foreign.suit
proved "a TA author's key is trusted for its own TAs only: another author's manifest for them is refused"
printf '\n== an older firmware manifest, validly signed\n'
sed 's/"sequence-number": 2/"sequence-number": 1/' normal-v2.json > normal-v1.json
"$teeup" manifest create normal-v1.json --key dev/dev-keys/author.pem --out normal-v1.suit
refused "a rollback" "$teeup" device update --dir dev --payload https://fw.example/normal-v2.bin=normal-v2.bin normal-v1.suit
proved "a validly signed manifest older than what the device runs is refused (anti-rollback)"

printf '\n== what this demo proved\n'
for p in "${proven[@]}"; do printf -- '- %s\n' "$p"; done
printf '\neverything it made is in %s\n' "$PWD"
