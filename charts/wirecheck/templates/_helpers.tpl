{{/*
Object names: "wirecheck" for a release named wirecheck (the names
deploy/ uses), else "<release>-wirecheck", cut to 63 characters.
*/}}
{{- define "wirecheck.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "wirecheck.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "wirecheck.labels" -}}
{{ include "wirecheck.selectorLabels" . }}
app.kubernetes.io/part-of: wirecheck
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "wirecheck.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "wirecheck.servingSecret" -}}
{{- if eq .Values.certificates.source "existing" -}}
{{- required "certificates.existing.secretName is required with certificates.source=existing" .Values.certificates.existing.secretName -}}
{{- else -}}
{{- printf "%s-serving-cert" (include "wirecheck.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* The background audit runs only over the cluster view's cache. */}}
{{- define "wirecheck.audit" -}}
{{- if and .Values.clusterView .Values.backgroundAudit.enabled }}true{{ end -}}
{{- end -}}

{{/*
One webhook entry's common fields. Argument: (list $ key name
failInEnforce). The entry's mode is webhooks.<key>.mode or the global one;
its failurePolicy webhooks.<key>.failurePolicy, else Fail only when the
mode is enforce and a deny there protects the cluster as a whole.
*/}}
{{- define "wirecheck.webhookCommon" -}}
{{- $root := index . 0 -}}
{{- $key := index . 1 -}}
{{- $failInEnforce := index . 2 -}}
{{- $entry := index $root.Values.webhooks $key | default dict -}}
{{- $mode := $entry.mode | default $root.Values.mode -}}
{{- $policy := "Ignore" -}}
{{- if and $failInEnforce (eq $mode "enforce") }}{{ $policy = "Fail" }}{{ end -}}
{{- $policy = $entry.failurePolicy | default $policy -}}
admissionReviewVersions: ["v1", "v1beta1"]
sideEffects: None
failurePolicy: {{ $policy }}
timeoutSeconds: {{ $root.Values.webhooks.timeoutSeconds }}
matchPolicy: Equivalent
clientConfig:
  service:
    name: {{ include "wirecheck.fullname" $root }}
    namespace: {{ $root.Release.Namespace }}
    path: /validate/{{ $mode }}
    port: 443
  {{- with (include "wirecheck.caBundle" $root) }}
  caBundle: {{ . }}
  {{- end }}
{{- end -}}

{{/* The namespaced entries' selector: never the excluded namespaces. */}}
{{- define "wirecheck.namespaceSelector" -}}
namespaceSelector:
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values:
        {{- $names := concat (list .Release.Namespace) .Values.excludedNamespaces (list .Values.certManagerNamespace) }}
        {{- range $names | uniq }}
        - {{ . | quote }}
        {{- end }}
    - key: wirecheck.dev/skip
      operator: DoesNotExist
{{- end -}}

{{/*
The CA bundle for clientConfig.caBundle (base64 of PEM): none with
cert-manager (its injector sets it); the generated or stored CA when
self-managed; the given one for an existing Secret.
*/}}
{{- define "wirecheck.caBundle" -}}
{{- if eq .Values.certificates.source "self-managed" -}}
{{- (include "wirecheck.selfManagedPem" . | fromYaml).ca | b64enc -}}
{{- else if eq .Values.certificates.source "existing" -}}
{{- $ca := required "certificates.existing.caBundle is required with certificates.source=existing" .Values.certificates.existing.caBundle -}}
{{- if contains "-----BEGIN" $ca }}{{ $ca | b64enc }}{{ else }}{{ $ca | nospace }}{{ end -}}
{{- end -}}
{{- end -}}

{{/*
Self-managed certificate: the Secret as stored in the cluster if there is
one (so `helm upgrade` keeps the CA and the caBundle the API server
trusts), else a new CA and a serving certificate it signs, made once per
render and kept in a cache on the root context (the Secret and the webhook
configuration must hold the same CA). Returns YAML {ca, cert, key} (PEM).
*/}}
{{- define "wirecheck.selfManagedPem" -}}
{{- if not (hasKey .Values "__wirecheckPem") -}}
{{- $name := include "wirecheck.servingSecret" . -}}
{{- $stored := lookup "v1" "Secret" .Release.Namespace $name -}}
{{- $pem := dict -}}
{{- if and $stored $stored.data (index $stored.data "ca.crt") (index $stored.data "tls.crt") (index $stored.data "tls.key") -}}
{{- $pem = dict "ca" (index $stored.data "ca.crt" | b64dec) "cert" (index $stored.data "tls.crt" | b64dec) "key" (index $stored.data "tls.key" | b64dec) -}}
{{- else -}}
{{- $svc := include "wirecheck.fullname" . -}}
{{- $ns := .Release.Namespace -}}
{{- $ca := genCA "wirecheck webhook CA" (int .Values.certificates.selfManaged.caDays) -}}
{{- $sans := list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) -}}
{{- $cert := genSignedCert (printf "%s.%s.svc" $svc $ns) nil $sans (int .Values.certificates.selfManaged.days) $ca -}}
{{- $pem = dict "ca" $ca.Cert "cert" $cert.Cert "key" $cert.Key -}}
{{- end -}}
{{- $_ := set .Values "__wirecheckPem" $pem -}}
{{- end -}}
{{- toYaml (index .Values "__wirecheckPem") -}}
{{- end -}}
