{{/*
aip.issuerConfig renders issuer.yaml (see deploy/issuer.yaml for every key).
Every file it names is mounted by templates/issuer-deployment.yaml.
*/}}
{{- define "aip.issuerConfig" -}}
{{- $is := .Values.issuer -}}
listen: {{ printf "0.0.0.0:%v" $is.port | quote }}
issuer_url: {{ include "aip.issuerURL" . | quote }}
{{- if eq $is.tls.mode "spiffe" }}
tls:
  spiffe: true
  {{- with $is.tls.spiffeID }}
  spiffe_id: {{ . | quote }}
  {{- end }}
{{- else if eq $is.tls.mode "secret" }}
tls:
  cert_file: /var/run/secrets/aip/tls/tls.crt
  key_file: /var/run/secrets/aip/tls/tls.key
{{- else if ne $is.tls.mode "none" }}
{{- fail (printf "issuer.tls.mode: must be spiffe, secret or none, not %q" $is.tls.mode) }}
{{- end }}
server:
  {{- toYaml $is.server | nindent 2 }}
signer:
  type: {{ $is.signer.type }}
  algorithm: {{ $is.signer.algorithm }}
{{- if eq $is.signer.type "local" }}
  key_file: /var/lib/aip/signer/{{ $is.signer.local.secretKey }}
{{- else if eq $is.signer.type "vault" }}
  {{- $v := $is.signer.vault }}
  address: {{ required "issuer.signer.vault.address is required with signer.type vault" $v.address | quote }}
  {{- if $v.tokenSecret.name }}
  token_file: /var/run/secrets/aip/vault/{{ $v.tokenSecret.key }}
  {{- end }}
  mount: {{ $v.mount }}
  key: {{ $v.key }}
  create: {{ $v.create }}
  timeout: {{ $v.timeout }}
{{- else }}
{{- fail (printf "issuer.signer.type: must be local or vault, not %q" $is.signer.type) }}
{{- end }}
store:
  type: redis
  addrs: {{ include "aip.redisAddrs" . }}
  prefix: {{ .Values.redis.prefix | quote }}
  {{- with .Values.redis.masterName }}
  master_name: {{ . | quote }}
  {{- end }}
  {{- with .Values.redis.username }}
  username: {{ . | quote }}
  {{- end }}
  {{- if .Values.redis.passwordSecret.name }}
  password_file: {{ include "aip.redisPasswordFile" . }}
  {{- end }}
  db: {{ .Values.redis.db }}
  tls: {{ .Values.redis.tls }}
{{- if not $is.identityProviders }}
{{- fail "issuer.identityProviders: at least one trusted OIDC identity provider is required" }}
{{- end }}
identity_providers:
  {{- toYaml $is.identityProviders | nindent 2 }}
spiffe:
  workload_api_addr: {{ include "aip.workloadAPIAddr" . | quote }}
  trust_domain: {{ .Values.spiffe.trustDomain | quote }}
  id_template: {{ $is.agentIDTemplate | quote }}
token:
  default_ttl: {{ $is.token.defaultTTL }}
  max_ttl: {{ $is.token.maxTTL }}
admins:
  spiffe_ids: {{ $is.admins.spiffeIDs | default list | toJson }}
  oidc_groups: {{ $is.admins.oidcGroups | default list | toJson }}
audit:
  path: /var/lib/aip/audit/issuer-audit.jsonl
  sync: {{ $is.audit.sync }}
policies: {{ $is.policies | default dict | toJson }}
log:
  level: {{ $is.log.level }}
  format: {{ $is.log.format }}
{{- end }}
