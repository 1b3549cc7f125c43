{{/* Name of the chart, overridable. */}}
{{- define "dayclose.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: release-name[-chart-name], at most 63 characters. */}}
{{- define "dayclose.fullname" -}}
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

{{- define "dayclose.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "dayclose.labels" -}}
helm.sh/chart: {{ include "dayclose.chart" . }}
{{ include "dayclose.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "dayclose.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dayclose.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Selector labels of one component: consumer | api | migrate. Call with (list $ "consumer"). */}}
{{- define "dayclose.componentSelectorLabels" -}}
{{ include "dayclose.selectorLabels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "dayclose.componentLabels" -}}
{{ include "dayclose.labels" (index . 0) }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "dayclose.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "dayclose.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "dayclose.secretName" -}}
{{- default (printf "%s-secret" (include "dayclose.fullname" .)) .Values.existingSecret }}
{{- end }}

{{- define "dayclose.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/*
The ConfigMap and the chart-managed Secret are pre-install/pre-upgrade hooks when the migration Job
is on, so that the Job (itself a hook) finds the release's new configuration; pre-rollback restores
the old one on `helm rollback`. Hook resources are not deleted by `helm uninstall` (see the runbook).
*/}}
{{- define "dayclose.configHookAnnotations" -}}
{{- if .Values.migrations.enabled }}
helm.sh/hook: pre-install,pre-upgrade,pre-rollback
helm.sh/hook-weight: "-10"
helm.sh/hook-delete-policy: before-hook-creation
{{- end }}
{{- end }}

{{/* Pod-level securityContext shared by every pod of the chart. */}}
{{- define "dayclose.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext }}
{{- end }}

{{/* Environment of every dayclose container: the settings object, 1:1 (dayclose/config.py). */}}
{{- define "dayclose.envFrom" -}}
- configMapRef:
    name: {{ include "dayclose.fullname" . }}-config
- secretRef:
    name: {{ include "dayclose.secretName" . }}
{{- end }}

{{/* Checksums roll the pods when configuration changes. */}}
{{- define "dayclose.configChecksums" -}}
checksum/config: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum }}
{{- if not .Values.existingSecret }}
checksum/secret: {{ include (print $.Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end }}
{{- end }}

{{/* Replicas beyond the sales topic's partition count never get a partition: refuse them. */}}
{{- define "dayclose.consumerProcesses" -}}
{{- int (default "1" (toString (default "" .Values.config.DAYCLOSE_CONSUMER_PROCESSES))) }}
{{- end }}

{{- define "dayclose.checkConsumerReplicas" -}}
{{- $partitions := int .Values.kafka.salesTopicPartitions }}
{{- $processes := int (include "dayclose.consumerProcesses" .) }}
{{- if lt $processes 1 }}
{{- fail (printf "config.DAYCLOSE_CONSUMER_PROCESSES (%d) must be at least 1" $processes) }}
{{- end }}
{{- if gt (mul (int .Values.consumer.replicas) $processes) $partitions }}
{{- fail (printf "consumer.replicas (%d) x config.DAYCLOSE_CONSUMER_PROCESSES (%d) > kafka.salesTopicPartitions (%d): the extra consumers would sit idle" (int .Values.consumer.replicas) $processes $partitions) }}
{{- end }}
{{- if and .Values.consumer.keda.enabled (gt (mul (int .Values.consumer.keda.maxReplicas) $processes) $partitions) }}
{{- fail (printf "consumer.keda.maxReplicas (%d) x config.DAYCLOSE_CONSUMER_PROCESSES (%d) > kafka.salesTopicPartitions (%d): the extra consumers would sit idle" (int .Values.consumer.keda.maxReplicas) $processes $partitions) }}
{{- end }}
{{- end }}

{{/* A pod killed before its own shutdown deadline loses the orderly part of the shutdown: refuse it. */}}
{{- define "dayclose.checkGracePeriod" -}}
{{- $deadline := float64 (default "30" (toString (default "" .Values.config.DAYCLOSE_SHUTDOWN_TIMEOUT_SECONDS))) }}
{{- range $component := list "consumer" "api" }}
{{- $grace := float64 (index $.Values $component "terminationGracePeriodSeconds") }}
{{- if le $grace $deadline }}
{{- fail (printf "%s.terminationGracePeriodSeconds (%v) must exceed config.DAYCLOSE_SHUTDOWN_TIMEOUT_SECONDS (%v)" $component $grace $deadline) }}
{{- end }}
{{- end }}
{{- $preStop := float64 (default 0 .Values.api.preStopSleepSeconds) }}
{{- if le (float64 .Values.api.terminationGracePeriodSeconds) (addf $deadline $preStop) }}
{{- fail (printf "api.terminationGracePeriodSeconds (%v) must exceed config.DAYCLOSE_SHUTDOWN_TIMEOUT_SECONDS (%v) plus api.preStopSleepSeconds (%v)" .Values.api.terminationGracePeriodSeconds $deadline $preStop) }}
{{- end }}
{{- end }}

{{/*
Values without a usable default: the render fails naming every one missing, so an install never starts pods that
crash-loop on a missing setting. Secrets are checked only when the chart makes the Secret (no existingSecret).
*/}}
{{- define "dayclose.checkRequired" -}}
{{- $missing := list }}
{{- range $name := list "KAFKA_BOOTSTRAP_SERVERS" "BL_CLIENT_ID" }}
{{- if not (index $.Values.config $name) }}
{{- $missing = append $missing (printf "config.%s" $name) }}
{{- end }}
{{- end }}
{{- if not .Values.existingSecret }}
{{- $secrets := list "DATABASE_URL" "BL_CLIENT_SECRET" "DAYCLOSE_KEY_ENCRYPTION_KEY" }}
{{- if .Values.api.enabled }}
{{- $secrets = append $secrets "DAYCLOSE_API_TOKENS" }}
{{- end }}
{{- range $name := $secrets }}
{{- if not (index $.Values.secrets $name) }}
{{- $missing = append $missing (printf "secrets.%s" $name) }}
{{- end }}
{{- end }}
{{- end }}
{{- if $missing }}
{{- fail (printf "required values missing: %s (set them, or existingSecret for the secrets; see values.yaml)" (join ", " $missing)) }}
{{- end }}
{{- end }}

{{/* Spread API pods over nodes and zones where the scheduler can (the default when none are given). */}}
{{- define "dayclose.apiTopologySpread" -}}
{{- if .Values.api.topologySpreadConstraints }}
{{- toYaml .Values.api.topologySpreadConstraints }}
{{- else }}
{{- range $key := list "kubernetes.io/hostname" "topology.kubernetes.io/zone" }}
- maxSkew: 1
  topologyKey: {{ $key }}
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "dayclose.componentSelectorLabels" (list $ "api") | nindent 6 }}
  matchLabelKeys: [pod-template-hash]
{{- end }}
{{- end }}
{{- end }}

{{/* The SASL mode KEDA's Kafka scaler takes for a librdkafka sasl.mechanism; empty when it has none. */}}
{{- define "dayclose.kedaSasl" -}}
{{- $mechanism := upper (toString (default "" .Values.config.KAFKA_SASL_MECHANISM)) }}
{{- $modes := dict "PLAIN" "plaintext" "SCRAM-SHA-256" "scram_sha256" "SCRAM-SHA-512" "scram_sha512" }}
{{- if $mechanism }}
{{- if hasKey $modes $mechanism }}
{{- index $modes $mechanism }}
{{- else if and .Values.consumer.keda.enabled (not .Values.consumer.keda.triggerAuthenticationName) }}
{{- fail (printf "config.KAFKA_SASL_MECHANISM %s: the chart's KEDA TriggerAuthentication supports PLAIN and SCRAM; name your own in consumer.keda.triggerAuthenticationName" $mechanism) }}
{{- end }}
{{- end }}
{{- end }}
