{{/*
The aip-enforcer as a sidecar of your MCP server pods. Three templates, all
taking one dict:

  root      the template context ($)
  values    the aip chart's values; default root.Values. From a parent chart
            that depends on aip: .Values.aip (and set aip.fullnameOverride,
            so the issuer's and Redis's names are known)
  config    name of the ConfigMap holding enforcer.yaml (aip.enforcerConfig)
  policies  name of the ConfigMap holding policy.yaml, your AgentPolicy. It
            is mounted as a directory, so an edited ConfigMap reaches the
            enforcer (hot reload) without a restart

In a pod spec:

  containers:
    - name: mcp-server            # listens on 127.0.0.1 (or anywhere: the
      ...                         # NetworkPolicy admits only the enforcer port)
    {{- include "aip.enforcerSidecar" (dict "root" $ "config" "my-enforcer" "policies" "my-policy") | nindent 4 }}
  volumes:
    {{- include "aip.enforcerVolumes" (dict "root" $ "config" "my-enforcer" "policies" "my-policy") | nindent 4 }}

and a ConfigMap with data.enforcer.yaml from

  {{- include "aip.enforcerConfig" (dict "root" $ "audience" "https://files.example.org" "publicURL" "https://files.ns.svc:8443" "upstream" "http://127.0.0.1:3001/mcp") | nindent 4 }}

Label the pod with aip.enforcerPodLabels so it may reach the chart's Redis.
templates/example-mcp-server.yaml is a complete example.
*/}}

{{/* aip.enforcerContext: a context for the shared helpers, from the dict. */}}
{{- define "aip.enforcerContext" -}}
{{- $v := .values | default .root.Values -}}
{{- toYaml (dict "Values" $v "Release" (dict "Name" .root.Release.Name "Namespace" .root.Release.Namespace) "Chart" (dict "Name" .root.Chart.Name "AppVersion" .root.Chart.AppVersion)) }}
{{- end }}

{{- define "aip.enforcerPodLabels" -}}
{{- $ctx := include "aip.enforcerContext" . | fromYaml -}}
{{- if and $ctx.Values.redis.enabled $ctx.Values.enforcer.useRedis }}
{{ include "aip.redisClientLabel" $ctx }}: "true"
{{- end }}
{{- end }}

{{/* aip.enforcerConfig renders enforcer.yaml (see deploy/enforcer.yaml). */}}
{{- define "aip.enforcerConfig" -}}
{{- $ctx := include "aip.enforcerContext" . | fromYaml -}}
{{- $e := $ctx.Values.enforcer -}}
listen: {{ printf "0.0.0.0:%v" $e.port | quote }}
public_url: {{ required "aip.enforcerConfig: publicURL (the https://host:port clients reach the enforcer at)" .publicURL | quote }}
upstream:
  url: {{ required "aip.enforcerConfig: upstream (the MCP server's URL inside the pod)" .upstream | quote }}
policy:
  path: /etc/aip/policies/policy.yaml
  trusted_key: {{ $e.policyTrustedKey | quote }}
audit:
  path: /var/log/aip/enforcer-audit.jsonl
audience: {{ required "aip.enforcerConfig: audience (the MCP server's identifier)" .audience | quote }}
issuers:
  - issuer: {{ include "aip.issuerURL" $ctx | quote }}
    {{- if eq $e.issuer.keys "bundle" }}
    bundle_trust_domain: {{ $ctx.Values.spiffe.trustDomain | quote }}
    {{- end }}
    {{- with $e.issuer.spiffeID }}
    spiffe_id: {{ . | quote }}
    {{- end }}
  {{- with $e.extraIssuers }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
tls:
  mode: spiffe
  workload_api_addr: {{ include "aip.workloadAPIAddr" $ctx | quote }}
  trust_domains: {{ $e.trustDomains | default (list $ctx.Values.spiffe.trustDomain) | toJson }}
  {{- with $e.idPatterns }}
  id_patterns: {{ toJson . }}
  {{- end }}
  {{- with $e.spiffeID }}
  spiffe_id: {{ . | quote }}
  {{- end }}
require_proof: true
{{- if $e.useRedis }}
{{- $r := $ctx.Values.redis }}
redis:
  addrs: {{ include "aip.redisAddrs" $ctx }}
  prefix: {{ $r.prefix | quote }}
  {{- with $r.masterName }}
  master_name: {{ . | quote }}
  {{- end }}
  {{- with $r.username }}
  username: {{ . | quote }}
  {{- end }}
  {{- if $r.passwordSecret.name }}
  password_file: {{ include "aip.redisPasswordFile" $ctx }}
  {{- end }}
  db: {{ $r.db }}
  tls: {{ $r.tls }}
{{- end }}
revocation:
  fail_open: {{ $e.revocation.failOpen }}
  poll_interval: {{ $e.revocation.pollInterval }}
capabilities_mode: intersect
max_body_bytes: 4194304
health_listen: {{ printf "0.0.0.0:%v" $e.healthPort | quote }}
{{- with include "aip.enforcerPeers" $ctx | fromJsonArray }}
federation:
  federates_with:
    {{- include "aip.federationPeers" (dict "peers" . "path" "enforcer.federation.federatesWith" "dir" "/etc/aip/federation") | trim | nindent 4 }}
{{- end }}
{{- end }}

{{/* aip.enforcerFederationSources: the federation volume's sources, or nothing. */}}
{{- define "aip.enforcerFederationSources" -}}
{{- $ctx := include "aip.enforcerContext" . | fromYaml -}}
{{- include "aip.federationSources" (dict "peers" $ctx.Values.enforcer.federation.federatesWith "configMap" (printf "%s-enforcer-federation" (include "aip.fullname" $ctx))) }}
{{- end }}

{{/* aip.enforcerSidecar: the container. */}}
{{- define "aip.enforcerSidecar" -}}
{{- $ctx := include "aip.enforcerContext" . | fromYaml -}}
{{- $e := $ctx.Values.enforcer -}}
{{- $_ := required "aip.enforcerSidecar: config (the enforcer.yaml ConfigMap's name)" .config -}}
{{- $_ := required "aip.enforcerSidecar: policies (the policy ConfigMap's name)" .policies -}}
- name: aip-enforcer
  image: {{ include "aip.image" (dict "root" .root "image" $e.image) }}
  imagePullPolicy: {{ $e.image.pullPolicy }}
  command: [aip-enforcer, serve, -config, /etc/aip/enforcer/enforcer.yaml]
  ports:
    - name: aip-enforcer
      containerPort: {{ $e.port }}
      protocol: TCP
    - name: aip-health
      containerPort: {{ $e.healthPort }}
      protocol: TCP
  {{- if or $e.issuerCA.configMap $e.issuerCA.secret }}
  env:
    - name: SSL_CERT_FILE
      value: /etc/aip/issuer-ca/{{ $e.issuerCA.key }}
  {{- end }}
  # The MCP listener requires a client X509-SVID, which the kubelet has
  # not: probes use the plain-HTTP health listener (health_listen).
  startupProbe:
    httpGet: {path: /healthz, port: aip-health}
    periodSeconds: 2
    failureThreshold: 30
  livenessProbe:
    httpGet: {path: /healthz, port: aip-health}
    periodSeconds: 10
  # Ready when calls can be decided: revocations in sync, Redis reachable.
  readinessProbe:
    httpGet: {path: /readyz, port: aip-health}
    periodSeconds: 5
  resources:
    {{- toYaml $e.resources | nindent 4 }}
  securityContext:
    {{- include "aip.containerSecurityContext" . | nindent 4 }}
  volumeMounts:
    - name: aip-enforcer-config
      mountPath: /etc/aip/enforcer
      readOnly: true
    - name: aip-enforcer-policies
      mountPath: /etc/aip/policies
      readOnly: true
    - name: aip-enforcer-audit
      mountPath: /var/log/aip
    {{- include "aip.spiffeSocketMount" (dict "values" $ctx.Values "name" "aip-spiffe-workload-api") | nindent 4 }}
    {{- if or $e.issuerCA.configMap $e.issuerCA.secret }}
    - name: aip-enforcer-issuer-ca
      mountPath: /etc/aip/issuer-ca
      readOnly: true
    {{- end }}
    {{- if and $e.useRedis $ctx.Values.redis.passwordSecret.name }}
    - name: aip-enforcer-redis-password
      mountPath: /var/run/secrets/aip/redis
      readOnly: true
    {{- end }}
    {{- if include "aip.enforcerFederationSources" . }}
    - name: aip-enforcer-federation
      mountPath: /etc/aip/federation
      readOnly: true
    {{- end }}
{{- end }}

{{/* aip.enforcerVolumes: the pod volumes the sidecar mounts. */}}
{{- define "aip.enforcerVolumes" -}}
{{- $ctx := include "aip.enforcerContext" . | fromYaml -}}
{{- $e := $ctx.Values.enforcer -}}
- name: aip-enforcer-config
  configMap:
    name: {{ .config }}
- name: aip-enforcer-policies
  configMap:
    name: {{ .policies }}
- name: aip-enforcer-audit
  emptyDir:
    sizeLimit: 1Gi
{{ include "aip.spiffeSocketVolume" (dict "values" $ctx.Values "name" "aip-spiffe-workload-api") }}
{{- if $e.issuerCA.configMap }}
- name: aip-enforcer-issuer-ca
  configMap:
    name: {{ $e.issuerCA.configMap }}
    items:
      - key: {{ $e.issuerCA.key }}
        path: {{ $e.issuerCA.key }}
{{- else if $e.issuerCA.secret }}
- name: aip-enforcer-issuer-ca
  secret:
    secretName: {{ $e.issuerCA.secret }}
    items:
      - key: {{ $e.issuerCA.key }}
        path: {{ $e.issuerCA.key }}
{{- end }}
{{- if and $e.useRedis $ctx.Values.redis.passwordSecret.name }}
- name: aip-enforcer-redis-password
  secret:
    secretName: {{ $ctx.Values.redis.passwordSecret.name }}
    defaultMode: 0400
    items:
      - key: {{ $ctx.Values.redis.passwordSecret.key }}
        path: {{ $ctx.Values.redis.passwordSecret.key }}
{{- end }}
{{- with include "aip.enforcerFederationSources" . }}
- name: aip-enforcer-federation
  projected:
    sources:
      {{- . | trim | nindent 6 }}
{{- end }}
{{- end }}
