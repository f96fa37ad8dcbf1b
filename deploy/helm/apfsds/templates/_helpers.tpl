{{/*
Names, labels and the rendered role configs of the apfsds chart.
Helpers that need more than the root context take a dict: (dict "ctx" $ ...).
*/}}

{{/* Chart name, at most 63 characters (a DNS label). */}}
{{- define "apfsds.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Release-qualified name; the release name alone when it already contains the chart name. */}}
{{- define "apfsds.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* chart-version label value. */}}
{{- define "apfsds.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Selector labels: (dict "ctx" $ "component" "handler"), plus "exit" <id> for an exit. */}}
{{- define "apfsds.selectorLabels" -}}
app.kubernetes.io/name: {{ include "apfsds.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- if .exit }}
apfsds.io/exit: {{ .exit | quote }}
{{- end }}
{{- end -}}

{{/* Every label of an object: selector labels plus chart, version and manager. */}}
{{- define "apfsds.labels" -}}
helm.sh/chart: {{ include "apfsds.chart" .ctx }}
{{ include "apfsds.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
{{- end -}}

{{/* image reference; the tag defaults to the chart's appVersion. */}}
{{- define "apfsds.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/* The Secret with the private keys and the admin token. */}}
{{- define "apfsds.secretName" -}}
{{- required "secrets.existingSecret is required: create a Secret with the keys and the admin token (values.yaml)" .Values.secrets.existingSecret -}}
{{- end -}}

{{/* Handler StatefulSet name; pods are <this>-0, -1, ... and use the pod name as nodeId. */}}
{{- define "apfsds.handlerName" -}}
{{- printf "%s-handler" (include "apfsds.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Headless service giving handler pods stable DNS names (raft peers, reverse exits). */}}
{{- define "apfsds.peersService" -}}
{{- printf "%s-handler-peers" (include "apfsds.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Stable DNS name of handler pod .index: (dict "ctx" $ "index" 0). */}}
{{- define "apfsds.handlerHost" -}}
{{- printf "%s-%d.%s.%s.svc.%s" (include "apfsds.handlerName" .ctx) (int .index) (include "apfsds.peersService" .ctx) .ctx.Release.Namespace .ctx.Values.clusterDomain -}}
{{- end -}}

{{/* Object name of one exit: (dict "ctx" $ "exit" $e). Exit ids may hold "." and "_". */}}
{{- define "apfsds.exitName" -}}
{{- printf "%s-%s" (include "apfsds.fullname" .ctx) (.exit.id | lower | replace "_" "-" | replace "." "-") | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* True ("true") when the chart runs this exit; entries with deploy: false are registered only. */}}
{{- define "apfsds.exitDeployed" -}}
{{- if or (not (hasKey . "deploy")) .deploy -}}true{{- end -}}
{{- end -}}

{{/* Where handlers dial a dial-mode exit: its url, else its Service at linkPath. */}}
{{- define "apfsds.exitLinkUrl" -}}
{{- $e := .exit -}}
{{- if $e.url -}}
{{- $e.url -}}
{{- else -}}
{{- $path := required (printf "exits: %s (mode dial) needs linkPath, the exit's secret link path" $e.id) $e.linkPath -}}
{{- printf "ws://%s.%s.svc.%s:%d%s" (include "apfsds.exitName" .) .ctx.Release.Namespace .ctx.Values.clusterDomain (int .ctx.Values.exitDefaults.ports.link) $path -}}
{{- end -}}
{{- end -}}

{{/*
handler.yaml (docs/configuration.md). nodeId comes from the pod name (APFSDS_HANDLER__NODE_ID),
so one ConfigMap serves every replica. Keys are files from the Secret; handler.config merges
over the result.
*/}}
{{- define "apfsds.handlerConfig" -}}
{{- $h := .Values.handler -}}
{{- $peers := list -}}
{{- range $i := until (int $h.replicas) -}}
{{- $host := include "apfsds.handlerHost" (dict "ctx" $ "index" $i) -}}
{{- $peers = append $peers (dict "id" (printf "%s-%d" (include "apfsds.handlerName" $) $i) "url" (printf "ws://%s:%d/raft" $host (int $h.ports.raft))) -}}
{{- end -}}
{{- $exits := list -}}
{{- range $e := .Values.exits -}}
{{- $mode := default "dial" $e.mode -}}
{{- $publicKey := required (printf "exits: %s needs publicKey (apfsds keygen --public-of its key file)" $e.id) $e.publicKey -}}
{{- $entry := dict "id" $e.id "region" $e.region "weight" (int (default 1 $e.weight)) "mode" $mode "publicKey" $publicKey -}}
{{- if eq $mode "dial" -}}
{{- $_ := set $entry "url" (include "apfsds.exitLinkUrl" (dict "ctx" $ "exit" $e)) -}}
{{- else if not $h.linksPath -}}
{{- fail (printf "exits: %s is in mode reverse, so handler.linksPath is required" $e.id) -}}
{{- end -}}
{{- if $e.state -}}
{{- $_ := set $entry "state" $e.state -}}
{{- end -}}
{{- $exits = append $exits $entry -}}
{{- end -}}
{{- $path := required "handler.path is required: the secret session path, e.g. /<24 random hex digits>" $h.path -}}
{{- $cfg := dict "listen" (dict "host" "0.0.0.0" "port" (int $h.ports.public)) "path" $path "trustProxy" $h.trustProxy -}}
{{- $_ := set $cfg "clusterKey" (dict "privateKey" (dict "file" "/etc/apfsds/secrets/cluster.key")) -}}
{{- $_ = set $cfg "exits" $exits -}}
{{- $_ = set $cfg "admin" (dict "enabled" true "host" "0.0.0.0" "port" (int $h.ports.admin) "token" (dict "file" "/etc/apfsds/secrets/admin.token")) -}}
{{- $_ = set $cfg "raft" (dict "dataDir" "/var/lib/apfsds/raft" "listen" (dict "host" "0.0.0.0" "port" (int $h.ports.raft)) "peers" $peers) -}}
{{- $_ = set $cfg "log" (dict "format" "json") -}}
{{- if $h.linksPath -}}
{{- $_ = set $cfg "links" (dict "path" $h.linksPath) -}}
{{- end -}}
{{- if $h.tls.secretName -}}
{{- $_ = set $cfg "tls" (dict "certFile" "/etc/apfsds/tls/tls.crt" "keyFile" "/etc/apfsds/tls/tls.key") -}}
{{- end -}}
{{- $cfg = mergeOverwrite $cfg (deepCopy (default (dict) $h.config)) -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/*
exit.yaml of one exit: (dict "ctx" $ "exit" $e). exitDefaults.config, then the exit's own
config, merge over the result.
*/}}
{{- define "apfsds.exitConfig" -}}
{{- $ctx := .ctx -}}
{{- $e := .exit -}}
{{- $mode := default "dial" $e.mode -}}
{{- $ports := $ctx.Values.exitDefaults.ports -}}
{{- $clusterPublicKey := required "clusterPublicKey is required: apfsds keygen --public-of cluster.key" $ctx.Values.clusterPublicKey -}}
{{- $cfg := dict "id" $e.id "region" $e.region "clusterPublicKey" $clusterPublicKey -}}
{{- $_ := set $cfg "key" (dict "privateKey" (dict "file" "/etc/apfsds/secrets/exit.key")) -}}
{{- $_ = set $cfg "status" (dict "enabled" true "host" "0.0.0.0" "port" (int $ports.status)) -}}
{{- $_ = set $cfg "log" (dict "format" "json") -}}
{{- if eq $mode "reverse" -}}
{{- $urls := $e.handlerUrls -}}
{{- if not $urls -}}
{{- $linksPath := required "handler.linksPath is required for reverse-mode exits" $ctx.Values.handler.linksPath -}}
{{- $scheme := ternary "wss" "ws" (not (empty $ctx.Values.handler.tls.secretName)) -}}
{{- $urls = list -}}
{{- range $i := until (int $ctx.Values.handler.replicas) -}}
{{- $urls = append $urls (printf "%s://%s:%d%s" $scheme (include "apfsds.handlerHost" (dict "ctx" $ctx "index" $i)) (int $ctx.Values.handler.ports.public) $linksPath) -}}
{{- end -}}
{{- end -}}
{{- $_ = set $cfg "handlers" $urls -}}
{{- else -}}
{{- $linkPath := required (printf "exits: %s (mode dial) needs linkPath, the exit's secret link path" $e.id) $e.linkPath -}}
{{- $_ = set $cfg "listen" (dict "host" "0.0.0.0" "port" (int $ports.link) "path" $linkPath) -}}
{{- end -}}
{{- $cfg = mergeOverwrite $cfg (deepCopy (default (dict) $ctx.Values.exitDefaults.config)) (deepCopy (default (dict) $e.config)) -}}
{{- toYaml $cfg -}}
{{- end -}}
