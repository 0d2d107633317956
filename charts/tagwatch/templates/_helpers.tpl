{{/* Names, labels and derived settings shared by the templates. */}}

{{/* The chart name, or nameOverride. */}}
{{- define "tagwatch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release's object name: fullnameOverride, else the release name when it already
contains the chart name, else "<release>-<chart>". At most 63 characters.
*/}}
{{- define "tagwatch.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* "<chart>-<version>" for the helm.sh/chart label. */}}
{{- define "tagwatch.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The labels that select the operator's pods (never change them in an upgrade). */}}
{{- define "tagwatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tagwatch.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The recommended labels, on every object of the release. */}}
{{- define "tagwatch.labels" -}}
helm.sh/chart: {{ include "tagwatch.chart" . }}
{{ include "tagwatch.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: operator
app.kubernetes.io/part-of: tagwatch
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The ServiceAccount the operator runs as. */}}
{{- define "tagwatch.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tagwatch.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* "repository:tag", or "repository@digest" when a digest is set. The tag defaults to appVersion. */}}
{{- define "tagwatch.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
"true" or "false" for a value that may be true, false or "auto", where "auto" means on
whenever more than one replica runs. Called with (dict "enabled" VALUE "replicas" N).
*/}}
{{- define "tagwatch.onWhenReplicated" -}}
{{- if eq (toString .enabled) "auto" }}
{{- gt (int .replicas) 1 }}
{{- else }}
{{- .enabled }}
{{- end }}
{{- end }}

{{/* "true" when leader election is on (templates compare the result with "true"). */}}
{{- define "tagwatch.leaderElection" -}}
{{- include "tagwatch.onWhenReplicated" (dict "enabled" .Values.leaderElection.enabled "replicas" .Values.replicaCount) }}
{{- end }}

{{/* The Lease the replicas elect a leader on. */}}
{{- define "tagwatch.leaseName" -}}
{{- default (printf "%s-leader" (include "tagwatch.fullname" .)) .Values.leaderElection.leaseName }}
{{- end }}

{{/* "true" when a PodDisruptionBudget is rendered. */}}
{{- define "tagwatch.podDisruptionBudget" -}}
{{- include "tagwatch.onWhenReplicated" (dict "enabled" .Values.podDisruptionBudget.enabled "replicas" .Values.replicaCount) }}
{{- end }}

{{/* The TCP port of the UCloud endpoint: explicit in the URL, else 443 for https and 80 for http. */}}
{{- define "tagwatch.ucloudPort" -}}
{{- $url := urlParse .Values.ucloud.endpoint }}
{{- $port := regexFind ":[0-9]+$" $url.host | trimPrefix ":" }}
{{- if $port }}
{{- $port }}
{{- else if eq $url.scheme "http" }}
{{- 80 }}
{{- else }}
{{- 443 }}
{{- end }}
{{- end }}

{{/*
The rules the operator needs where it serves TagWatches (ClusterRole, or a Role per
namespace of scope.namespaces). docs/security.md explains each one.
*/}}
{{- define "tagwatch.rules" -}}
- apiGroups: ["tagwatch.dev"]
  resources: ["tagwatches"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["tagwatch.dev"]
  resources: ["tagwatches/status"]
  verbs: ["patch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["events.k8s.io"]
  resources: ["events"]
  verbs: ["create"]
{{- range .Values.triggers.resources }}
- apiGroups: [{{ .apiGroup | quote }}]
  resources: {{ toJson .resources }}
  verbs: ["get", "patch"]
{{- end }}
{{- end }}
