{{/* Names, labels and the pieces the issuer and the enforcer share. */}}

{{- define "aip.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "aip.fullname" -}}
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

{{/* aip.labels: the common labels; pass (dict "root" $ "component" "issuer"). */}}
{{- define "aip.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: aip
{{ include "aip.selectorLabels" . }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* aip.selectorLabels: the immutable labels selectors use. */}}
{{- define "aip.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aip.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* aip.image: repository:tag, the tag defaulting to the appVersion. */}}
{{- define "aip.image" -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) }}
{{- end }}

{{/* aip.issuerURL: the issuer's identifier (its iss). */}}
{{- define "aip.issuerURL" -}}
{{- if .Values.issuer.url }}
{{- .Values.issuer.url | trimSuffix "/" }}
{{- else }}
{{- printf "https://%s-issuer.%s.svc:%v" (include "aip.fullname" .) .Release.Namespace .Values.issuer.service.port }}
{{- end }}
{{- end }}

{{/* aip.workloadAPIAddr: the SPIRE agent socket as a Workload API address. */}}
{{- define "aip.workloadAPIAddr" -}}
{{- printf "unix://%s/%s" (.Values.spiffe.socket.mountPath | trimSuffix "/") .Values.spiffe.socket.fileName }}
{{- end }}

{{/*
aip.spiffeSocketVolume: the pod volume holding the SPIRE agent socket;
pass (dict "values" <the aip values> "name" <volume name>).
*/}}
{{- define "aip.spiffeSocketVolume" -}}
{{- $s := .values.spiffe.socket -}}
- name: {{ .name }}
{{- if eq $s.type "csi" }}
  csi:
    driver: csi.spiffe.io
    readOnly: true
{{- else if eq $s.type "hostPath" }}
  hostPath:
    path: {{ $s.hostPath }}
    type: Directory
{{- else }}
{{- fail (printf "spiffe.socket.type: must be csi or hostPath, not %q" $s.type) }}
{{- end }}
{{- end }}

{{- define "aip.spiffeSocketMount" -}}
- name: {{ .name }}
  mountPath: {{ .values.spiffe.socket.mountPath }}
  readOnly: true
{{- end }}

{{/* aip.redisAddrs: the Redis addresses the issuer and the enforcers use. */}}
{{- define "aip.redisAddrs" -}}
{{- if .Values.redis.enabled }}
{{- list (printf "%s-redis.%s.svc:6379" (include "aip.fullname" .) .Release.Namespace) | toJson }}
{{- else if .Values.redis.addrs }}
{{- .Values.redis.addrs | toJson }}
{{- else }}
{{- fail "redis: set redis.enabled (a trial Redis in the chart) or redis.addrs (your Redis)" }}
{{- end }}
{{- end }}

{{/* Secret files are mounted here, one directory a Secret. */}}
{{- define "aip.redisPasswordFile" -}}
/var/run/secrets/aip/redis/{{ .Values.redis.passwordSecret.key }}
{{- end }}

{{/* aip.podSecurityContext: non-root, RuntimeDefault seccomp. */}}
{{- define "aip.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* aip.containerSecurityContext: read-only root, no privilege, no capability. */}}
{{- define "aip.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
{{- end }}

{{/* aip.redisClientLabel: pods with this label "true" may reach the in-chart Redis. */}}
{{- define "aip.redisClientLabel" -}}
redis-client.aip.io/{{ include "aip.fullname" . }}
{{- end }}
