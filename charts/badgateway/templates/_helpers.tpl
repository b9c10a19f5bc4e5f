{{- define "badgateway.fullname" -}}
{{- if contains "badgateway" .Release.Name -}}{{ .Release.Name | trunc 50 | trimSuffix "-" }}{{- else -}}{{ printf "%s-badgateway" .Release.Name | trunc 50 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "badgateway.labels" -}}
app.kubernetes.io/name: badgateway
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "badgateway.selectorLabels" -}}
app.kubernetes.io/name: badgateway
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "badgateway.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "badgateway.webhookService" -}}{{ include "badgateway.fullname" . }}-webhook{{- end -}}
{{- define "badgateway.webhookSecret" -}}{{ include "badgateway.fullname" . }}-webhook-tls{{- end -}}
{{- define "badgateway.webhookConfig" -}}{{ include "badgateway.fullname" . }}{{- end -}}
{{- define "badgateway.lease" -}}{{ include "badgateway.fullname" . }}-leader{{- end -}}
