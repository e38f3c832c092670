{{/*
The labels of every object: exactly those of `mca agent manifest` (what `mca agent uninstall`
selects by); no Helm labels, so that both render the same objects.
*/}}
{{- define "mcaAgent.labels" -}}
app.kubernetes.io/name: mca-agent
app.kubernetes.io/part-of: mca
{{- end }}

{{/* The mca image: repository, then the digest or the tag (default "v" + appVersion). */}}
{{- define "mcaAgent.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default (printf "v%s" .Chart.AppVersion) .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* The Secret the agent reads its token, the hub CA and its pin from. */}}
{{- define "mcaAgent.secretName" -}}
{{- default "mca-agent" .Values.existingSecret }}
{{- end }}

{{/* "true" when the proxy URL carries credentials: then it lives in the Secret. */}}
{{- define "mcaAgent.proxyInSecret" -}}
{{- if and .Values.egress.httpsProxy (urlParse .Values.egress.httpsProxy).userinfo }}true{{ end }}
{{- end }}

{{/* Fails with what to set when a required value is missing. */}}
{{- define "mcaAgent.checkValues" -}}
{{- if not .Values.cluster }}{{ fail "Set cluster: the member's name on the hub" }}{{ end }}
{{- if not .Values.hub.url }}{{ fail "Set hub.url: the hub as the agents reach it, e.g. https://mca-hub.example.com" }}{{ end }}
{{- if not .Values.hub.caPin }}{{ fail "Set hub.caPin: the pin of the hub's CA key (sha256:...), as mca agent manifest prints it" }}{{ end }}
{{- if and (not .Values.existingSecret) (not .Values.token) (not .Values.joinToken) }}{{ fail "Set token (the agent token), joinToken (from mca agent token create) or existingSecret (a Secret holding either)" }}{{ end }}
{{- if and (not .Values.existingSecret) (not .Values.hub.ca) }}{{ fail "Set hub.ca: the hub's CA certificate (PEM)" }}{{ end }}
{{- end }}
