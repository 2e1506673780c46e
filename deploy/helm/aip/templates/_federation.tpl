{{/*
Federation peers (issuer.federation.federatesWith,
enforcer.federation.federatesWith) and their files. A peer's bootstrap
bundle and CA roots come inline (rendered into the chart's ConfigMap, keys
<trustDomain>.bundle.json and <trustDomain>.ca.crt) or from an existing
ConfigMap; one projected volume puts them all in <dir>/<trustDomain>/.
Every template takes (dict "peers" <list> "path" <values key path> ...).
*/}}

{{/* aip.federationFile: the file of one peer's bundle or roots, or nothing. */}}
{{- define "aip.federationFile" -}}
{{- $f := .file | default dict -}}
{{- if and $f.inline $f.configMap }}
{{- fail (printf "%s: set inline or configMap, not both" .path) }}
{{- end }}
{{- if or $f.inline $f.configMap }}
{{- printf "%s/%s/%s" .dir .td .name }}
{{- end }}
{{- end }}

{{/* aip.federationPeers: federates_with entries of a configuration; pass "dir". */}}
{{- define "aip.federationPeers" -}}
{{- range $i, $p := .peers }}
{{- $at := printf "%s[%d]" $.path $i }}
{{- $td := required (printf "%s.trustDomain is required" $at) $p.trustDomain }}
- trust_domain: {{ $td | quote }}
  bundle_endpoint_url: {{ required (printf "%s.bundleEndpointURL is required" $at) $p.bundleEndpointURL | quote }}
  profile: {{ required (printf "%s.profile is required (https_spiffe or https_web)" $at) $p.profile | quote }}
  {{- with $p.endpointSPIFFEID }}
  endpoint_spiffe_id: {{ . | quote }}
  {{- end }}
  {{- with include "aip.federationFile" (dict "file" $p.bootstrapBundle "path" (printf "%s.bootstrapBundle" $at) "dir" $.dir "td" $td "name" "bundle.json") }}
  bootstrap_bundle: {{ . }}
  {{- end }}
  {{- with include "aip.federationFile" (dict "file" $p.caBundle "path" (printf "%s.caBundle" $at) "dir" $.dir "td" $td "name" "ca.crt") }}
  ca_file: {{ . }}
  {{- end }}
{{- end }}
{{- end }}

{{/*
aip.federationSources: the projected volume's sources; pass "configMap",
the chart ConfigMap's name. Empty when no peer has a file.
*/}}
{{- define "aip.federationSources" -}}
{{- $inline := list }}
{{- range .peers }}
{{- $td := .trustDomain }}
{{- range $name, $f := dict "bundle.json" .bootstrapBundle "ca.crt" .caBundle }}
{{- $f = $f | default dict }}
{{- if $f.inline }}
{{- $inline = append $inline (dict "key" (printf "%s.%s" $td $name) "path" (printf "%s/%s" $td $name)) }}
{{- else if $f.configMap }}
- configMap:
    name: {{ $f.configMap }}
    items:
      - key: {{ $f.key | default $name }}
        path: {{ $td }}/{{ $name }}
{{- end }}
{{- end }}
{{- end }}
{{- with $inline }}
- configMap:
    name: {{ $.configMap }}
    items:
      {{- toYaml . | nindent 6 }}
{{- end }}
{{- end }}

{{/* aip.federationConfigMapData: the inline files as ConfigMap data. */}}
{{- define "aip.federationConfigMapData" -}}
{{- range .peers }}
{{- $td := .trustDomain }}
{{- range $name, $f := dict "bundle.json" .bootstrapBundle "ca.crt" .caBundle }}
{{- with ($f | default dict).inline }}
{{ printf "%s.%s" $td $name }}: |
  {{- . | trim | nindent 2 }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
aip.enforcerPeers: the enforcer's peers as JSON: enforcer.federation.federatesWith
and, with enforcer.issuer.keys bundle, the chart's issuer's bundle endpoint.
Pass the enforcer context.
*/}}
{{- define "aip.enforcerPeers" -}}
{{- $v := .Values -}}
{{- $peers := $v.enforcer.federation.federatesWith | default list -}}
{{- $keys := $v.enforcer.issuer.keys | default "jwks" -}}
{{- if eq $keys "bundle" }}
{{- $be := $v.issuer.federation.bundleEndpoint }}
{{- if not $be.enabled }}
{{- fail "enforcer.issuer.keys bundle needs issuer.federation.bundleEndpoint.enabled" }}
{{- end }}
{{- $peer := dict "trustDomain" $v.spiffe.trustDomain "profile" $be.profile "bundleEndpointURL" (printf "https://%s-issuer.%s.svc:%v" (include "aip.fullname" .) .Release.Namespace $be.servicePort) }}
{{- if eq $be.profile "https_spiffe" }}
{{- $_ := set $peer "endpointSPIFFEID" (required "enforcer.issuer.spiffeID is required with enforcer.issuer.keys bundle and an https_spiffe bundle endpoint (the issuer's SPIFFE ID)" $v.enforcer.issuer.spiffeID) }}
{{- end }}
{{- $peers = append $peers $peer }}
{{- else if ne $keys "jwks" }}
{{- fail (printf "enforcer.issuer.keys: must be jwks or bundle, not %q" $keys) }}
{{- end }}
{{- toJson $peers }}
{{- end }}
