{{/* Base name of every object: the release name, or release-chart when the release name does not say portcullis. */}}
{{- define "portcullis.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The operator's Deployment, Service and ServiceAccount. */}}
{{- define "portcullis.operatorName" -}}
{{- printf "%s-operator" (include "portcullis.fullname" .) -}}
{{- end -}}

{{- define "portcullis.labels" -}}
app.kubernetes.io/name: portcullis
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "portcullis.selectorLabels" -}}
app.kubernetes.io/name: portcullis
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "portcullis.operatorImage" -}}
{{- printf "%s:%s" .Values.operator.image.repository (default .Chart.AppVersion .Values.operator.image.tag) -}}
{{- end -}}

{{- define "portcullis.sidecarImage" -}}
{{- printf "%s:%s" .Values.sidecar.image.repository (default .Chart.AppVersion .Values.sidecar.image.tag) -}}
{{- end -}}

{{/* The cert-manager Certificate that issues the serving certificate (cert-manager mode). */}}
{{- define "portcullis.certificateName" -}}
{{- printf "%s-webhook" (include "portcullis.fullname" .) -}}
{{- end -}}

{{/*
caBundle for the webhook configurations in self-managed mode: the one the operator already patched in, so that
`helm upgrade` does not blank it (the operator re-patches within a minute anyway). Empty on first install.
*/}}
{{- define "portcullis.caBundle" -}}
{{- $existing := lookup "admissionregistration.k8s.io/v1" "ValidatingWebhookConfiguration" "" (include "portcullis.fullname" .) -}}
{{- if and $existing $existing.webhooks -}}
{{- (index $existing.webhooks 0).clientConfig.caBundle | default "" -}}
{{- end -}}
{{- end -}}

{{/*
clientConfig of one webhook. Arguments: (dict "root" $ "path" "/mutate-pods").
*/}}
{{- define "portcullis.clientConfig" -}}
{{- $root := .root -}}
service:
  name: {{ include "portcullis.operatorName" $root }}
  namespace: {{ $root.Release.Namespace }}
  port: 443
  path: {{ .path }}
{{- if ne $root.Values.certificates.mode "cert-manager" }}
{{- with include "portcullis.caBundle" $root }}
caBundle: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Every webhook's namespace scope: the watched namespaces when the chart is scoped (empty otherwise). */}}
{{- define "portcullis.namespaceScope" -}}
{{- if .Values.namespaces -}}
- key: kubernetes.io/metadata.name
  operator: In
  values: {{ toJson .Values.namespaces }}
{{- end -}}
{{- end -}}

{{/* Pod webhooks: injection-enabled namespaces, never the operator's own (matched on its immutable name). */}}
{{- define "portcullis.podNamespaceSelector" -}}
namespaceSelector:
  matchExpressions:
    - key: portcullis.dev/injection
      operator: In
      values: [enabled]
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: [{{ .Release.Namespace | quote }}]
{{- with include "portcullis.namespaceScope" . }}
{{- . | nindent 4 }}
{{- end }}
{{- end -}}

{{/* The other webhooks: only the namespace scope, when there is one. */}}
{{- define "portcullis.scopedNamespaceSelector" -}}
{{- with include "portcullis.namespaceScope" . -}}
namespaceSelector:
  matchExpressions:
{{- . | nindent 4 }}
{{- end -}}
{{- end -}}

{{- define "portcullis.webhookCommon" -}}
failurePolicy: Fail
matchPolicy: Equivalent
sideEffects: None
admissionReviewVersions: [v1]
timeoutSeconds: {{ .Values.webhooks.timeoutSeconds }}
{{- end -}}
