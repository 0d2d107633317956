#!/usr/bin/env bash
# Packages, pushes and signs a tagwatch release; `make release` runs it after building
# the static binaries (see docs/release.md):
#
#   make release VERSION=x.y.z REGISTRY=host[:port]/path [COSIGN_KEY=cosign.key] [PLAIN_HTTP=1] [REKOR=0]
#
# Environment (the Makefile passes it on):
#   VERSION     the version to release; must be Cargo.toml's and the chart's version
#   REGISTRY    where the image ($REGISTRY/tagwatch) and the chart ($REGISTRY/charts) go
#   COSIGN_KEY  a cosign private key (COSIGN_PASSWORD unlocks it); empty: keyless
#               signing (Sigstore OIDC, as the forge's release workflow does)
#   PLAIN_HTTP  1 when the registry speaks plain HTTP (a local test registry)
#   REKOR       0 keeps key-pair signatures out of the Rekor transparency log
#   TOOLS_BIN   the directory of registry tools (cosign, syft, helm)
#
# `release.sh --check` only validates VERSION and REGISTRY (before any build).
#
# Pushes: the OCI index $REGISTRY/tagwatch:$VERSION (linux/amd64, linux/arm64), the chart
# oci://$REGISTRY/charts/tagwatch $VERSION, cosign signatures of both, and a CycloneDX
# SBOM attestation per platform. Leaves in target/release/$VERSION/: the two static
# binaries, the chart, tagwatch.yaml (plain manifests), the SBOMs, the kubectl plugin
# archives with their krew manifest (krew-tagwatch.yaml) and digests.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

die() {
  echo "release: $*" >&2
  exit 1
}

# --- Inputs -------------------------------------------------------------------------
VERSION=${VERSION:-}
REGISTRY=${REGISTRY:-}
[ -n "$VERSION" ] || die "VERSION is required: make release VERSION=x.y.z REGISTRY=host[:port]/path"
[ -n "$REGISTRY" ] || die "REGISTRY is required: make release VERSION=x.y.z REGISTRY=host[:port]/path"
case $REGISTRY in
  *://* | */) die "REGISTRY is host[:port]/path without a scheme or trailing slash, not $REGISTRY" ;;
esac
# The binary prints Cargo's version and the chart carries its own: all three must agree
# (docs/versioning.md: they are bumped in one commit).
cargo_version=$(awk '/^\[workspace.package\]/ { p = 1 } p && $1 == "version" { gsub(/"/, "", $3); print $3; exit }' Cargo.toml)
chart_version=$(awk '/^version:/ { gsub(/"/, "", $2); print $2 }' charts/tagwatch/Chart.yaml)
chart_app_version=$(awk '/^appVersion:/ { gsub(/"/, "", $2); print $2 }' charts/tagwatch/Chart.yaml)
[ "$VERSION" = "$cargo_version" ] ||
  die "VERSION $VERSION is not Cargo.toml's version $cargo_version (bump both first, see docs/versioning.md)"
if [ "$VERSION" != "$chart_version" ] || [ "$VERSION" != "$chart_app_version" ]; then
  die "VERSION $VERSION does not match charts/tagwatch/Chart.yaml (version $chart_version, appVersion $chart_app_version)"
fi
if [ "${1:-}" = --check ]; then
  exit 0
fi

TOOLS_BIN=${TOOLS_BIN:-$PWD/target/tools/bin}
cosign=$TOOLS_BIN/cosign
syft=$TOOLS_BIN/syft
helm=$TOOLS_BIN/helm
PODMAN=${PODMAN:-podman}
for tool in "$cosign" "$syft" "$helm"; do
  [ -x "$tool" ] || die "$tool is missing: run make release-tools helm"
done

image=$REGISTRY/tagwatch
charts=$REGISTRY/charts
out=target/release/$VERSION
work=target/release-work/$VERSION
rm -rf "$out" "$work"
mkdir -p "$out" "$work"

# Flags for a plain-HTTP registry, per tool.
podman_tls=()
helm_http=()
cosign_http=()
if [ "${PLAIN_HTTP:-}" = 1 ]; then
  podman_tls=(--tls-verify=false)
  helm_http=(--plain-http)
  cosign_http=(--allow-http-registry)
  export SYFT_REGISTRY_INSECURE_USE_HTTP=true
fi
# syft does not look for a newer syft.
export SYFT_CHECK_FOR_APP_UPDATE=false
# Helm's caches and registry login stay where the user keeps them; nothing else is read.

# Signing: with a key pair (COSIGN_PASSWORD unlocks it), or keyless through the
# forge's OIDC token (Fulcio certificate, Rekor entry).
sign_flags=(--yes)
if [ -n "${COSIGN_KEY:-}" ]; then
  sign_flags+=(--key "$COSIGN_KEY")
  if [ "${REKOR:-1}" = 0 ]; then
    sign_flags+=(--tlog-upload=false)
  fi
fi

# --- 1. Static binaries, stripped -----------------------------------------------------
# `make image-binary` and `make release-binary-arm64` built them (cargo auditable: the
# crate list stays in the .dep-v0 section, which strip keeps).
declare -A rust_target=([amd64]=x86_64-unknown-linux-gnu [arm64]=aarch64-unknown-linux-gnu)
declare -A strip_tool=([amd64]=strip [arm64]=aarch64-linux-gnu-strip)
for arch in amd64 arm64; do
  "${strip_tool[$arch]}" -o "$out/tagwatch-linux-$arch" "target/${rust_target[$arch]}/release/tagwatch"
done

# --- 2. One image per architecture, from the unchanged deploy/Dockerfile --------------
# FROM scratch + COPY needs no emulation for arm64. The build context holds only the
# binary; no cache, so that an image of the other platform is never reused.
local_list=localhost/tagwatch-release:$VERSION
for arch in amd64 arm64; do
  mkdir -p "$work/image-$arch"
  cp "$out/tagwatch-linux-$arch" "$work/image-$arch/tagwatch"
  "$PODMAN" build --quiet --no-cache --platform "linux/$arch" -f deploy/Dockerfile \
    -t "$local_list-$arch" "$work/image-$arch" >/dev/null
done

# --- 3. The multi-arch index, pushed as OCI ---------------------------------------------
"$PODMAN" manifest rm "$local_list" >/dev/null 2>&1 || true
"$PODMAN" manifest create "$local_list" >/dev/null
for arch in amd64 arm64; do
  "$PODMAN" manifest add "$local_list" "containers-storage:$local_list-$arch" >/dev/null
done
"$PODMAN" manifest push --all --format oci "${podman_tls[@]}" --digestfile "$work/index.digest" \
  "$local_list" "docker://$image:$VERSION"
"$PODMAN" manifest rm "$local_list" >/dev/null
index_digest=$(cat "$work/index.digest")

# --- 4. Per-architecture digests, as the registry has them ------------------------------
# (podman compresses again on push: local digests differ from the pushed ones.) The pushed
# index's entries are added to an empty local list, which keeps the registry's digests.
readback=localhost/tagwatch-release-readback:$VERSION
"$PODMAN" manifest rm "$readback" >/dev/null 2>&1 || true
"$PODMAN" manifest create "$readback" >/dev/null
"$PODMAN" manifest add --all "${podman_tls[@]}" "$readback" "docker://$image@$index_digest" >/dev/null
"$PODMAN" manifest inspect "$readback" >"$work/index.json"
"$PODMAN" manifest rm "$readback" >/dev/null
declare -A digest
for arch in amd64 arm64; do
  digest[$arch]=$(jq -r --arg arch "$arch" \
    '.manifests[] | select(.platform.os == "linux" and .platform.architecture == $arch) | .digest' \
    "$work/index.json")
  [[ ${digest[$arch]} == sha256:* ]] || die "no linux/$arch manifest in the pushed index: $(cat "$work/index.json")"
done

# --- 5. SBOMs of the pushed images (CycloneDX and SPDX) -------------------------------
for arch in amd64 arm64; do
  "$syft" scan --quiet "registry:$image@$index_digest" --platform "linux/$arch" \
    -o "cyclonedx-json=$out/sbom-$arch.cdx.json" -o "spdx-json=$out/sbom-$arch.spdx.json"
done

# --- 6. Sign the index and each platform; attest each platform's SBOM ------------------
"$cosign" sign "${sign_flags[@]}" "${cosign_http[@]}" --recursive "$image@$index_digest"
for arch in amd64 arm64; do
  "$cosign" attest "${sign_flags[@]}" "${cosign_http[@]}" --type cyclonedx \
    --predicate "$out/sbom-$arch.cdx.json" "$image@${digest[$arch]}"
done

# --- 7. The chart: a copy whose default image is this release, packaged and pushed ------
chart=$work/chart/tagwatch
mkdir -p "$work/chart"
cp -r charts/tagwatch "$chart"
# image.repository: the `  repository:` line inside the top-level `image:` block.
awk -v repo="$image" '
  /^[^ #]/ { in_image = ($0 ~ /^image:/) }
  in_image && /^  repository:/ { $0 = "  repository: " repo; done++ }
  { print }
  END { exit done != 1 }
' charts/tagwatch/values.yaml >"$chart/values.yaml" || die "could not set image.repository in the chart copy"
"$helm" package "$chart" --version "$VERSION" --app-version "$VERSION" -d "$out" >/dev/null
"$helm" push "$out/tagwatch-$VERSION.tgz" "oci://$charts" "${helm_http[@]}" 2>&1 | tee "$work/helm-push.log"
chart_digest=$(awk '$1 == "Digest:" { print $2 }' "$work/helm-push.log")
[[ $chart_digest == sha256:* ]] || die "helm push printed no digest"
"$cosign" sign "${sign_flags[@]}" "${cosign_http[@]}" "$charts/tagwatch@$chart_digest"

# --- 8. Plain manifests for this version and image: the pushed chart, rendered -------
HELM=$helm CHART="$out/tagwatch-$VERSION.tgz" deploy/render-manifests.sh >"$out/tagwatch.yaml"

# --- 9. kubectl plugin archives and their krew manifest ------------------------------
# One archive per architecture holding `kubectl-tagwatch` (the same static binary), named
# as deploy/krew/tagwatch.yaml's URIs say; krew-tagwatch.yaml is that manifest with this
# version and the archives' sha256 (what the krew-index pull request carries).
krew_manifest=$(sed -E "s/v[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]*)?([/_]|$)/v$VERSION\2/g" deploy/krew/tagwatch.yaml)
for arch in amd64 arm64; do
  archive=kubectl-tagwatch_v${VERSION}_linux_$arch.tar.gz
  mkdir -p "$work/krew-$arch"
  cp "$out/tagwatch-linux-$arch" "$work/krew-$arch/kubectl-tagwatch"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$work/krew-$arch" \
    -cf - kubectl-tagwatch | gzip -n >"$out/$archive"
  sum=$(sha256sum "$out/$archive" | cut -d' ' -f1)
  # The sha256 line that follows this architecture's uri.
  krew_manifest=$(awk -v uri="$archive" -v sum="$sum" '
    index($0, uri) { hit = 1 }
    hit && /sha256:/ { sub(/"[0-9a-f]+"/, "\"" sum "\""); hit = 0 }
    { print }' <<<"$krew_manifest")
done
printf '%s\n' "$krew_manifest" >"$out/krew-tagwatch.yaml"

# --- 10. What was pushed ---------------------------------------------------------------
{
  echo "$image:$VERSION $index_digest"
  for arch in amd64 arm64; do echo "$image:$VERSION linux/$arch ${digest[$arch]}"; done
  echo "oci://$charts/tagwatch:$VERSION $chart_digest"
} >"$out/digests.txt"
rm -rf "$work"
echo "release $VERSION: $image:$VERSION@$index_digest, oci://$charts/tagwatch $VERSION@$chart_digest"
echo "files in $out:"
ls -l "$out"
