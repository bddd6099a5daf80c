{{/* Chart name, truncated to the 63 characters a DNS label allows. */}}
{{- define "dealerhub.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: the release name, prefixed with the chart name unless it holds it. */}}
{{- define "dealerhub.fullname" -}}
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

{{/* Name of one component's objects: <fullname>-<component>. */}}
{{- define "dealerhub.componentName" -}}
{{- printf "%s-%s" (include "dealerhub.fullname" .root | trunc 50 | trimSuffix "-") .component }}
{{- end }}

{{- define "dealerhub.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels every object carries. */}}
{{- define "dealerhub.labels" -}}
helm.sh/chart: {{ include "dealerhub.chart" . }}
{{ include "dealerhub.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dealerhub
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "dealerhub.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dealerhub.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of one component (dict "root" $ "component" "api"). */}}
{{- define "dealerhub.componentLabels" -}}
{{ include "dealerhub.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "dealerhub.componentSelectorLabels" -}}
{{ include "dealerhub.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "dealerhub.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "dealerhub.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "dealerhub.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/*
Non-secret settings as environment variables: the ConfigMap's data, and the migration
Job's inline env (a pre-install hook runs before the ConfigMap exists).
*/}}
{{- define "dealerhub.configData" -}}
HOST: {{ .Values.config.host | quote }}
PORT: {{ .Values.api.port | quote }}
{{- if .Values.otel.enabled }}
OTEL_TRACES_EXPORTER: "otlp"
OTEL_EXPORTER_OTLP_ENDPOINT: {{ required "otel.endpoint is required when otel.enabled" .Values.otel.endpoint | quote }}
OTEL_EXPORTER_OTLP_PROTOCOL: {{ .Values.otel.protocol | quote }}
OTEL_TRACES_SAMPLER: {{ .Values.otel.sampler | quote }}
OTEL_TRACES_SAMPLER_ARG: {{ .Values.otel.samplerArg | quote }}
{{- else }}
OTEL_TRACES_EXPORTER: "none"
{{- end }}
OTEL_METRICS_EXPORTER: "none"
OTEL_LOGS_EXPORTER: "none"
{{- with .Values.otel.resourceAttributes }}
OTEL_RESOURCE_ATTRIBUTES: {{ . | quote }}
{{- end }}
{{- range $key, $value := .Values.config.env }}
{{ $key }}: {{ $value | toString | quote }}
{{- end }}
{{- end }}

{{/*
Secret-backed environment variables, each from an existing Secret.
(dict "root" $ "names" (list "DATABASE_URL" ...)).
*/}}
{{- define "dealerhub.secretEnv" -}}
{{- $refs := dict
  "DATABASE_URL" .root.Values.secrets.databaseUrl
  "MIGRATION_DATABASE_URL" .root.Values.secrets.migrationDatabaseUrl
  "REDIS_URL" .root.Values.secrets.redisUrl
  "SECRET_KEY" .root.Values.secrets.secretKey
  "CHANNEL_KEY" .root.Values.secrets.channelKey
}}
{{- range .names }}
{{- $ref := get $refs . }}
- name: {{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ required (printf "secrets: an existingSecret for %s is required" .) $ref.existingSecret | quote }}
      key: {{ required (printf "secrets: a key for %s is required" .) $ref.key | quote }}
{{- end }}
{{- end }}

{{/* The variables every long-running process needs; MIGRATION_DATABASE_URL is not one. */}}
{{- define "dealerhub.appSecretNames" -}}
{{- list "DATABASE_URL" "REDIS_URL" "SECRET_KEY" "CHANNEL_KEY" | toJson }}
{{- end }}

{{/* Writable scratch space for a read-only root filesystem. */}}
{{- define "dealerhub.volumes" -}}
- name: tmp
  emptyDir:
    {{- with .Values.scratch.tmpSizeLimit }}
    sizeLimit: {{ . }}
    {{- end }}
- name: var
  emptyDir:
    {{- with .Values.scratch.varSizeLimit }}
    sizeLimit: {{ . }}
    {{- end }}
{{- end }}

{{- define "dealerhub.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: var
  mountPath: /app/var
{{- end }}

{{/* Pod-level settings shared by every workload (dict "root" $ "cfg" .Values.api). */}}
{{- define "dealerhub.podCommon" -}}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .root.Values.podSecurityContext | nindent 2 }}
{{- with .cfg.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .cfg.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .cfg.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .cfg.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end }}

{{/* Annotations that roll pods when the non-secret settings change. */}}
{{- define "dealerhub.podAnnotations" -}}
checksum/config: {{ include "dealerhub.configData" .root | sha256sum }}
{{- with .root.Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- with .cfg.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}
