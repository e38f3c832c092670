{{/* Chart name, overridable. */}}
{{- define "mca.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Prefix of object names: the release name, with the chart name appended unless it is already
part of it. Release "mca" gives mca-webhook and mca-hub, the names the mca commands default to.
*/}}
{{- define "mca.fullname" -}}
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

{{/* Labels of every object. */}}
{{- define "mca.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "mca.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mca
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component: (dict "root" $ "component" "webhook"). */}}
{{- define "mca.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mca.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Labels of one component's objects: (dict "root" $ "component" "webhook"). */}}
{{- define "mca.componentLabels" -}}
{{ include "mca.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* The mca image: repository, then the digest or the tag (default "v" + appVersion). */}}
{{- define "mca.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default (printf "v%s" .Chart.AppVersion) .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Names of the webhook's objects. */}}
{{- define "mca.webhook.name" -}}
{{- printf "%s-webhook" (include "mca.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "mca.webhook.configurationName" -}}
{{- default (include "mca.fullname" .) .Values.webhook.configurationName }}
{{- end }}

{{/* Names of the hub's objects. */}}
{{- define "mca.hub.name" -}}
{{- printf "%s-hub" (include "mca.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
DNS names of the hub's serving certificate: the Service's in-cluster names, the Ingress host,
and the extra names of the values.
*/}}
{{- define "mca.hub.dnsNames" -}}
{{- $service := include "mca.hub.name" . }}
{{- $names := list $service (printf "%s.%s" $service .Release.Namespace) (printf "%s.%s.svc" $service .Release.Namespace) (printf "%s.%s.svc.%s" $service .Release.Namespace .Values.clusterDomain) }}
{{- if .Values.hub.ingress.enabled }}
{{- $names = append $names .Values.hub.ingress.host }}
{{- end }}
{{- concat $names .Values.hub.dnsNames | uniq | join "," }}
{{- end }}

{{/*
Pod and container security shared by the webhook and the hub: non-root, no privilege
escalation, no capabilities, read-only root file system, the runtime's default seccomp profile.
*/}}
{{- define "mca.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "mca.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Scheduling of one component: (dict "root" $ "component" "hub" "values" .Values.hub). */}}
{{- define "mca.scheduling" -}}
{{- with .values.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- if or .values.spreadAcrossNodes .values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- if .values.spreadAcrossNodes }}
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    # Counts only the pods of the same rollout, so an update does not skew the spread.
    matchLabelKeys: ["pod-template-hash"]
    labelSelector:
      matchLabels:
        {{- include "mca.selectorLabels" . | nindent 8 }}
  {{- end }}
  {{- with .values.topologySpreadConstraints }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- with .root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* The ServiceAccount (and its ClusterRole) whose token scrapes the hub's /metrics. */}}
{{- define "mca.scrapeToken.name" -}}
{{- printf "%s-metrics-reader" (include "mca.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The Secret holding the token the hub's ServiceMonitor sends. */}}
{{- define "mca.scrapeToken.secretName" -}}
{{- default (printf "%s-token" (include "mca.scrapeToken.name" .) | trunc 63 | trimSuffix "-") .Values.monitoring.scrapeToken.existingSecret }}
{{- end }}
