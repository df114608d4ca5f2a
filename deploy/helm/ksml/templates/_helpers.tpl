{{/* The chart's name, at most 63 characters (a DNS label). */}}
{{- define "ksml.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's resource name: the release name, prefixed to the chart name unless it contains it. */}}
{{- define "ksml.fullname" -}}
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

{{- define "ksml.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ksml.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "ksml.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "ksml.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "ksml.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "ksml.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Python module directory: pythonContext.modulePath if set, else /ksml-python when pythonModules has files. */}}
{{- define "ksml.modulePath" -}}
{{- $pc := .Values.ksmlRunnerConfig.pythonContext | default dict }}
{{- if $pc.modulePath }}{{ $pc.modulePath }}{{ else if .Values.pythonModules }}/ksml-python{{ end }}
{{- end }}

{{- define "ksml.errorHandler" -}}
log: {{ .log }}
logPayload: {{ .logPayload }}
loggerName: {{ .loggerName }}
handler: {{ .handler | default (ternary "stopOnFail" "continueOnFail" .stopOnError) }}
{{- with .deadLetterTopic }}
deadLetterTopic: {{ . | quote }}
{{- end }}
{{- end }}

{{/*
The pod template of the StatefulSet and the Job. The runner configuration and the
definitions come from the -runner ConfigMap at /ksml (the working directory), state
lives on the ksml-store volume at /ksml-store.
*/}}
{{- define "ksml.podTemplate" -}}
metadata:
  annotations:
    checksum/config: {{ include (print .Template.BasePath "/configmap-runner.yaml") . | sha256sum }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  labels:
    {{- include "ksml.labels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- if eq "job" (lower .Values.deploymentMode) }}
  {{- with .Values.job.pod.finalizers }}
  finalizers:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- end }}
spec:
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  serviceAccountName: {{ include "ksml.serviceAccountName" . }}
  {{- with .Values.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- if eq "job" (lower .Values.deploymentMode) }}
  restartPolicy: Never
  {{- end }}
  containers:
    - name: {{ .Chart.Name }}
      {{- with .Values.securityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args: ["run", "-c", "/ksml/ksml-runner.yaml"]
      workingDir: /ksml
      ports:
        - name: http
          containerPort: {{ .Values.applicationServer.port }}
          protocol: TCP
        {{- if .Values.prometheus.enabled }}
        - name: metrics
          containerPort: {{ .Values.prometheus.port }}
          protocol: TCP
        {{- end }}
      {{- if .Values.applicationServer.enabled }}
      {{- with .Values.startupProbe }}
      startupProbe:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.readinessProbe }}
      readinessProbe:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.livenessProbe }}
      livenessProbe:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- end }}
      env:
        - name: KSML_K8S_POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        - name: KSML_GROUP_INSTANCE_ID
          value: "$(KSML_K8S_POD_NAME)"
        - name: KSML_LOG_FORMAT
          value: {{ ternary "json" "text" .Values.logging.jsonEnabled | quote }}
        - name: KSML_LOG_LEVEL
          value: {{ .Values.logging.rootLogLevel | lower | quote }}
        {{- with .Values.env }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with .Values.envFrom }}
      envFrom:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      volumeMounts:
        - name: ksml-config
          mountPath: /ksml
        - name: ksml-store
          mountPath: /ksml-store
        {{- if .Values.pythonModules }}
        - name: ksml-python
          mountPath: {{ include "ksml.modulePath" . }}
        {{- end }}
        {{- with .Values.volumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: ksml-config
      configMap:
        name: {{ include "ksml.fullname" . }}-runner
    {{- if .Values.pythonModules }}
    - name: ksml-python
      configMap:
        name: {{ include "ksml.fullname" . }}-python
    {{- end }}
    {{- if or (eq "job" (lower .Values.deploymentMode)) (not .Values.store.spec) }}
    - name: ksml-store
      emptyDir:
        {{- with .Values.store.emptyDirSizeLimit }}
        sizeLimit: {{ . }}
        {{- end }}
    {{- end }}
    {{- with .Values.volumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .Values.runtimeClassName }}
  runtimeClassName: {{ . | quote }}
  {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- range . }}
    - {{- if not .labelSelector }}
      labelSelector:
        matchLabels:
          {{- include "ksml.selectorLabels" $ | nindent 10 }}
      {{- end }}
      {{- toYaml . | nindent 6 }}
    {{- end }}
  {{- end }}
{{- end }}
