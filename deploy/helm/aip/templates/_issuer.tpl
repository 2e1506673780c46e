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
{{- if and (not $is.identityProviders) (not $is.ciTrust) }}
{{- fail "issuer.identityProviders: at least one trusted OIDC identity provider is required (or issuer.ciTrust)" }}
{{- end }}
{{- if $is.identityProviders }}
identity_providers:
  {{- toYaml $is.identityProviders | nindent 2 }}
{{- else }}
identity_providers: []
{{- end }}
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
{{- include "aip.issuerFederationConfig" . }}
{{- include "aip.issuerSSOConfig" . }}
{{- with $is.ciTrust }}
ci_trust:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* aip.issuerFederationConfig: the federation section, when set. */}}
{{- define "aip.issuerFederationConfig" -}}
{{- $f := .Values.issuer.federation -}}
{{- $be := $f.bundleEndpoint -}}
{{- if or $f.federatesWith $be.enabled }}
federation:
  {{- with $f.federatesWith }}
  federates_with:
    {{- include "aip.federationPeers" (dict "peers" . "path" "issuer.federation.federatesWith" "dir" "/var/lib/aip/federation") | trim | nindent 4 }}
  {{- end }}
  {{- if $be.enabled }}
  bundle_endpoint:
    listen: {{ printf "0.0.0.0:%v" $be.port | quote }}
    profile: {{ $be.profile | quote }}
    {{- if eq $be.profile "https_web" }}
    cert_file: /var/run/secrets/aip/bundle-tls/tls.crt
    key_file: /var/run/secrets/aip/bundle-tls/tls.key
    {{- end }}
    refresh_hint: {{ $be.refreshHint }}
  {{- end }}
{{- end }}
{{- end }}

{{/* aip.issuerSSOConfig: the sso section, when enabled. */}}
{{- define "aip.issuerSSOConfig" -}}
{{- $s := .Values.issuer.sso -}}
{{- if $s.enabled }}
sso:
  provider: {{ required "issuer.sso.provider is required with issuer.sso.enabled (an issuer.identityProviders name)" $s.provider | quote }}
  client_id: {{ required "issuer.sso.clientID is required with issuer.sso.enabled" $s.clientID | quote }}
  client_secret_file: {{ include "aip.ssoClientSecretFile" . }}
  redirect_url: {{ $s.redirectURL | default (printf "%s/bind/callback" (include "aip.issuerURL" .)) | quote }}
  scopes: {{ $s.scopes | toJson }}
  default_binding_ttl: {{ $s.defaultBindingTTL }}
  max_binding_ttl: {{ $s.maxBindingTTL }}
  {{- if $s.stateKey.name }}
  state_key_file: /var/run/secrets/aip/sso-state/{{ $s.stateKey.key }}
  {{- else if gt (int .Values.issuer.replicas) 1 }}
  {{- fail "issuer.sso.stateKey.name is required with issuer.replicas > 1: every replica must seal the sign-in cookies with the same key" }}
  {{- end }}
{{- end }}
{{- end }}

{{- define "aip.ssoClientSecretFile" -}}
{{- $c := .Values.issuer.sso.clientSecret -}}
{{- $_ := required "issuer.sso.clientSecret.name is required with issuer.sso.enabled (a Secret: the client secret is never put in the ConfigMap)" $c.name -}}
/var/run/secrets/aip/sso-client/{{ $c.key }}
{{- end }}
