#!/usr/bin/env bash
# Requests per second that uhub-emulator serves for a signed GetImageTag request
# returning a 100-tag page, with the emulator pinned to one core (CPU 0) and wrk on
# another (CPU 1). Usage: bench/emulator/run.sh [DURATION] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-10s}
connections=${2:-32}

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
cargo build --quiet --release --bin uhub-emulator

work=$(mktemp -d)
emulator_pid=
cleanup() {
  [ -n "$emulator_pid" ] && kill -TERM "$emulator_pid" 2>/dev/null && wait "$emulator_pid" || true
  rm -rf "$work"
}
trap cleanup EXIT

{
  echo "credentials: [{publicKey: pub-bench, privateKey: pri-bench}]"
  echo "images:"
  echo "  - repo: bench"
  echo "    image: web"
  echo "    tags:"
  for i in $(seq 1 100); do
    printf '      - {name: v1.%d.0, updateTime: %d, digest: "sha256:%064d"}\n' \
      "$i" $((1790000000 + i * 60)) "$i"
  done
} > "$work/fixture.yaml"

taskset -c 0 target/release/uhub-emulator --listen 127.0.0.1:0 --fixture "$work/fixture.yaml" \
  > "$work/stdout" 2> "$work/stderr" &
emulator_pid=$!
for _ in $(seq 100); do
  [ -s "$work/stdout" ] && break
  sleep 0.1
done
url=$(sed -n 's/^listening on //p' "$work/stdout")
[ -n "$url" ] || { cat "$work/stderr" >&2; exit 1; }

# Signature: SHA-1 of the parameters sorted by key as key+value, then the private key.
string_to_sign="ActionGetImageTagImageNamewebLimit100Offset0PublicKeypub-benchRepoNamebenchpri-bench"
signature=$(printf '%s' "$string_to_sign" | sha1sum | cut -d' ' -f1)
export UHUB_BODY="Action=GetImageTag&RepoName=bench&ImageName=web&Offset=0&Limit=100&PublicKey=pub-bench&Signature=$signature"

tags=$(curl -s -d "$UHUB_BODY" "$url/" | grep -o '"TagName"' | wc -l)
[ "$tags" = 100 ] || { echo "expected a 100-tag page, got $tags tags" >&2; exit 1; }
curl -s -X DELETE "$url/_emulator/stats" > /dev/null

taskset -c 1 wrk -t1 -c"$connections" -d"$duration" -s bench/emulator/get_image_tag.lua "$url"
echo "emulator stats: $(curl -s "$url/_emulator/stats")"
