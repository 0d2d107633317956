#!/usr/bin/env bash
# Copies the CRDs of Flux and Argo CD out of their Go modules, downloaded at pinned
# versions from the Go module proxy (checked against the checksum database), into
# DEST, and checks each file's sha256 against the pin below. The tests install them
# on the local control plane (spec.triggers against the real kinds, the GitOps install
# snippets validated by server-side dry-run).
#
#   tests/tools/gitops/crds.sh DEST
set -euo pipefail
dest=${1:?usage: crds.sh DEST}
GO=${GO:-go}

# module@version  path-in-module  sha256
pins=(
  "github.com/fluxcd/source-controller@v1.9.1 config/crd/bases/source.toolkit.fluxcd.io_gitrepositories.yaml 39a5a46c81539c992abc53f9be3e5434cd70d50a10d169b1e8a450e0df1c9d09"
  "github.com/fluxcd/source-controller@v1.9.1 config/crd/bases/source.toolkit.fluxcd.io_ocirepositories.yaml 2655834d468e46a533410d9e2bc3f4e7cbf9b4c922b95652012acb09bfb2545a"
  "github.com/fluxcd/source-controller@v1.9.1 config/crd/bases/source.toolkit.fluxcd.io_helmrepositories.yaml 97c7759df00946cbb9a75a56457cff9964b2543d2248df859cef21e26b8e2ae6"
  "github.com/fluxcd/source-controller@v1.9.1 config/crd/bases/source.toolkit.fluxcd.io_helmcharts.yaml dc0158d014e90007c0a084973ef561cd20d3d44520ed4e604e8acff8bb19d2b0"
  "github.com/fluxcd/source-controller@v1.9.1 config/crd/bases/source.toolkit.fluxcd.io_buckets.yaml 366d4926a698332d824e97e9a9adf763f44dd7b59b70034916ebeefd91f1e43e"
  "github.com/fluxcd/kustomize-controller@v1.9.6 config/crd/bases/kustomize.toolkit.fluxcd.io_kustomizations.yaml da23ca0e6b4c80d3d26a91583137491e147ef4ef1e2208aece0d0af4ef851974"
  "github.com/fluxcd/helm-controller@v1.6.4 config/crd/bases/helm.toolkit.fluxcd.io_helmreleases.yaml aa8638ac68465ceac1f93a617baf5be833c589c51fd78a7384a4a274c252becc"
  "github.com/fluxcd/image-reflector-controller@v1.2.4 config/crd/bases/image.toolkit.fluxcd.io_imagerepositories.yaml 122a58bcaa78770fdeffef9246576513df4bc4452a98b5dba4c2bbbaf7d0f2c9"
  "github.com/fluxcd/image-reflector-controller@v1.2.4 config/crd/bases/image.toolkit.fluxcd.io_imagepolicies.yaml 52e875110e00fff8f0ca865112bda52fed87b74c96ef36bf1d501909a0203480"
  "github.com/fluxcd/notification-controller@v1.9.3 config/crd/bases/notification.toolkit.fluxcd.io_receivers.yaml 4c8be1ad7789b78f0727557d01e5f33eef9447a1f4aa9b830a3c1cc8a1508a9b"
  "github.com/argoproj/argo-cd/v3@v3.5.7 manifests/crds/application-crd.yaml 5dde0e229249b6b707beb98674c1deae3949d5c319a6c45b9f5a80c99618e40c"
)

tmp=$(mktemp -d "${dest%/}.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
declare -A dirs=()
for pin in "${pins[@]}"; do
  read -r module path sum <<<"$pin"
  if [[ -z ${dirs[$module]:-} ]]; then
    # Outside any module, so that no go.mod of ours is consulted or changed.
    dirs[$module]=$(cd / && GOFLAGS=-mod=mod "$GO" mod download -json "$module" |
      sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    [[ -n ${dirs[$module]} ]] || { echo "crds.sh: no Dir for $module" >&2; exit 1; }
  fi
  file=${dirs[$module]}/$path
  echo "$sum  $file" | sha256sum --check --quiet -
  cp "$file" "$tmp/$(basename "$path")"
done
chmod 0644 "$tmp"/*.yaml && chmod 0755 "$tmp"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
