// Package helm_test renders the ksml chart with helm for each values file
// of deploy/helm/ksml/ci and checks what the cluster would get: the runner
// configuration, definitions and Python modules of the ConfigMaps are loaded
// by the runner exactly as a pod would load them (runner.New: configuration,
// definitions, Python, Kafka properties; it connects to nothing), and the
// workload, services and monitoring objects have the ports, probes, volumes
// and settings the values ask for. Schema validation of the manifests is
// deploy/helm/test's (kubeconform).
//
// helm is taken from $KSML_HELM, else PATH; without it the tests skip
// (.ci/deploy installs helm and runs them).
package helm_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ksml-dev/ksml/internal/runner"
)

func helmBinary(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("KSML_HELM"); h != "" {
		return h
	}
	h, err := exec.LookPath("helm")
	if err != nil {
		t.Skip("helm is not installed (set KSML_HELM; .ci/deploy installs it)")
	}
	return h
}

// render runs helm template with the chart's ci values file and returns
// the objects by "Kind/name".
func render(t *testing.T, valuesFile string, set ...string) map[string]map[string]any {
	t.Helper()
	out, err := helmTemplate(t, valuesFile, set...)
	if err != nil {
		t.Fatalf("helm template %s: %v", valuesFile, err)
	}
	objs := map[string]map[string]any{}
	dec := yaml.NewDecoder(bytes.NewReader(out))
	for {
		var o map[string]any
		if err := dec.Decode(&o); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("rendered manifests of %s: %v\n%s", valuesFile, err, out)
		}
		if o == nil {
			continue
		}
		key := fmt.Sprintf("%s/%s", o["kind"], dig(o, "metadata", "name"))
		if _, dup := objs[key]; dup {
			t.Fatalf("%s rendered twice", key)
		}
		objs[key] = o
	}
	return objs
}

func helmTemplate(t *testing.T, valuesFile string, set ...string) ([]byte, error) {
	args := []string{"template", "rel", "ksml", "--namespace", "streams"}
	if valuesFile != "" {
		args = append(args, "-f", filepath.Join("ksml", "ci", valuesFile))
	}
	for _, s := range set {
		args = append(args, "--set", s)
	}
	cmd := exec.Command(helmBinary(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, stderr.String())
	}
	return out, nil
}

// dig follows map keys and list indexes.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func mustGet(t *testing.T, objs map[string]map[string]any, key string) map[string]any {
	t.Helper()
	o, ok := objs[key]
	if !ok {
		var keys []string
		for k := range objs {
			keys = append(keys, k)
		}
		t.Fatalf("%s not rendered; rendered: %v", key, keys)
	}
	return o
}

func yamlOf(t *testing.T, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func expect(t *testing.T, what string, got, want any) {
	t.Helper()
	if g, w := yamlOf(t, got), yamlOf(t, want); g != w {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

// pathRef matches the chart's absolute directories inside the runner configuration.
var pathRef = regexp.MustCompile(`(["' ])/(ksml-store|ksml-python|ksml)\b`)

// loadInRunner writes the ConfigMaps' files where a pod would see them,
// under dir instead of /, and builds the runner from them.
func loadInRunner(t *testing.T, objs map[string]map[string]any, env map[string]string) {
	t.Helper()
	root := t.TempDir()
	write := func(sub string, cm map[string]any) {
		for name, content := range cm["data"].(map[string]any) {
			text := content.(string)
			if name == "ksml-runner.yaml" {
				text = pathRef.ReplaceAllString(text, "${1}"+root+"/${2}")
			}
			p := filepath.Join(root, sub, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	write("ksml", mustGet(t, objs, "ConfigMap/rel-ksml-runner"))
	if cm, ok := objs["ConfigMap/rel-ksml-python"]; ok {
		write("ksml-python", cm)
	}
	t.Setenv("KSML_GROUP_INSTANCE_ID", "rel-ksml-0")
	for k, v := range env {
		t.Setenv(k, v)
	}
	r, err := runner.New(runner.Options{
		ConfigFile: filepath.Join(root, "ksml", "ksml-runner.yaml"),
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		cfg, _ := os.ReadFile(filepath.Join(root, "ksml", "ksml-runner.yaml"))
		t.Fatalf("the runner rejects the rendered configuration: %v\n%s", err, cfg)
	}
	_ = r
}

func TestMinimalValues(t *testing.T) {
	objs := render(t, "minimal-values.yaml")
	for _, k := range []string{"ServiceMonitor/rel-ksml", "PrometheusRule/rel-ksml", "NetworkPolicy/rel-ksml-network-policy", "Ingress/rel-ksml", "Job/rel-ksml", "ConfigMap/rel-ksml-python"} {
		if _, ok := objs[k]; ok {
			t.Errorf("%s rendered although not enabled", k)
		}
	}
	sts := mustGet(t, objs, "StatefulSet/rel-ksml")
	expect(t, "replicas", dig(sts, "spec", "replicas"), 1)
	expect(t, "serviceName", dig(sts, "spec", "serviceName"), "rel-ksml-headless")
	c := dig(sts, "spec", "template", "spec", "containers", 0)
	expect(t, "image", dig(c, "image"), "ghcr.io/ksml-dev/ksml:0.1.0")
	expect(t, "args", dig(c, "args"), []string{"run", "-c", "/ksml/ksml-runner.yaml"})
	expect(t, "ports", dig(c, "ports"), []map[string]any{{"name": "http", "containerPort": 8080, "protocol": "TCP"}})
	for probe, path := range map[string]string{"startupProbe": "/startup", "readinessProbe": "/ready", "livenessProbe": "/live"} {
		expect(t, probe, dig(c, probe, "httpGet"), map[string]any{"path": path, "port": "http"})
	}
	expect(t, "volumeMounts", dig(c, "volumeMounts"), []map[string]any{
		{"name": "ksml-config", "mountPath": "/ksml"}, {"name": "ksml-store", "mountPath": "/ksml-store"}})
	expect(t, "volumes", dig(sts, "spec", "template", "spec", "volumes"), []map[string]any{
		{"name": "ksml-config", "configMap": map[string]any{"name": "rel-ksml-runner"}},
		{"name": "ksml-store", "emptyDir": map[string]any{"sizeLimit": "1Gi"}}})
	expect(t, "volumeClaimTemplates", dig(sts, "spec", "volumeClaimTemplates"), nil)
	expect(t, "env", dig(c, "env"), []map[string]any{
		{"name": "KSML_K8S_POD_NAME", "valueFrom": map[string]any{"fieldRef": map[string]any{"fieldPath": "metadata.name"}}},
		{"name": "KSML_GROUP_INSTANCE_ID", "value": "$(KSML_K8S_POD_NAME)"},
		{"name": "KSML_LOG_FORMAT", "value": "text"},
		{"name": "KSML_LOG_LEVEL", "value": "info"}})
	expect(t, "securityContext", dig(c, "securityContext", "runAsUser"), 1024)
	expect(t, "headless service", dig(mustGet(t, objs, "Service/rel-ksml-headless"), "spec"), map[string]any{
		"clusterIP": "None", "publishNotReadyAddresses": true,
		"ports":    []map[string]any{{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}},
		"selector": map[string]any{"app.kubernetes.io/name": "ksml", "app.kubernetes.io/instance": "rel"}})

	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(dig(mustGet(t, objs, "ConfigMap/rel-ksml-runner"), "data", "ksml-runner.yaml").(string)), &cfg); err != nil {
		t.Fatal(err)
	}
	expect(t, "kafka", cfg["kafka"], map[string]any{"application.id": "orders", "bootstrap.servers": "kafka:9092", "group.instance.id": "${KSML_GROUP_INSTANCE_ID}"})
	expect(t, "applicationServer", dig(cfg, "ksml", "applicationServer"), map[string]any{"enabled": true, "host": "0.0.0.0", "port": 8080})
	expect(t, "storageDirectory", dig(cfg, "ksml", "storageDirectory"), "/ksml-store/data")
	expect(t, "process errors", dig(cfg, "ksml", "errorHandling", "process"), map[string]any{"log": true, "logPayload": false, "loggerName": "ProcessError", "handler": "stopOnFail"})
	loadInRunner(t, objs, nil)
}

func TestFullValues(t *testing.T) {
	objs := render(t, "full-values.yaml")
	sts := mustGet(t, objs, "StatefulSet/rel-ksml")
	expect(t, "replicas", dig(sts, "spec", "replicas"), 3)
	expect(t, "volumeClaimTemplates", dig(sts, "spec", "volumeClaimTemplates"), []map[string]any{{
		"metadata": map[string]any{"name": "ksml-store"},
		"spec": map[string]any{"accessModes": []string{"ReadWriteOnce"}, "storageClassName": "fast",
			"resources": map[string]any{"requests": map[string]any{"storage": "5Gi"}}}}})
	pod := dig(sts, "spec", "template", "spec")
	for _, v := range dig(pod, "volumes").([]any) {
		if dig(v, "name") == "ksml-store" {
			t.Errorf("ksml-store is both a volume and a volumeClaimTemplate: %v", v)
		}
	}
	c := dig(pod, "containers", 0)
	expect(t, "image", dig(c, "image"), "registry.example.com/ksml:v0.1.0")
	expect(t, "ports", dig(c, "ports"), []map[string]any{
		{"name": "http", "containerPort": 8080, "protocol": "TCP"}, {"name": "metrics", "containerPort": 9999, "protocol": "TCP"}})
	expect(t, "python mount", dig(c, "volumeMounts", 2), map[string]any{"name": "ksml-python", "mountPath": "/ksml-python"})
	expect(t, "log format", dig(c, "env", 2, "value"), "json")
	expect(t, "log level", dig(c, "env", 3, "value"), "debug")
	expect(t, "secret env", dig(c, "env", 4, "valueFrom", "secretKeyRef"), map[string]any{"name": "kafka-orders", "key": "password"})
	expect(t, "spread", dig(pod, "topologySpreadConstraints", 0, "labelSelector"), map[string]any{
		"matchLabels": map[string]any{"app.kubernetes.io/name": "ksml", "app.kubernetes.io/instance": "rel"}})

	sm := mustGet(t, objs, "ServiceMonitor/rel-ksml")
	expect(t, "ServiceMonitor endpoints", dig(sm, "spec", "endpoints"), []map[string]any{{"port": "metrics", "path": "/metrics", "interval": "15s", "scrapeTimeout": "10s"}})
	expect(t, "ServiceMonitor release label", dig(sm, "metadata", "labels", "release"), "prometheus")
	expect(t, "metrics service port", dig(mustGet(t, objs, "Service/rel-ksml"), "spec", "ports", 1),
		map[string]any{"name": "metrics", "port": 9999, "targetPort": "metrics", "protocol": "TCP"})
	pr := mustGet(t, objs, "PrometheusRule/rel-ksml")
	var alerts []string
	for _, g := range dig(pr, "spec", "groups").([]any) {
		for _, r := range dig(g, "rules").([]any) {
			alerts = append(alerts, dig(r, "alert").(string))
		}
	}
	expect(t, "alerts", alerts, []string{"RelKsmlDown", "RelKsmlRestartingTooMuch", "RelKsmlOutOfMemory", "RelKsmlLagging"})
	expect(t, "templated extra rule", dig(pr, "spec", "groups", 1, "rules", 0, "expr"), `sum(ksml_consumer_records_lag{namespace="streams"}) > 10000`)
	expect(t, "network policy egress", dig(mustGet(t, objs, "NetworkPolicy/rel-ksml-network-policy"), "spec", "egress", 0, "ports", 0), map[string]any{"port": 9093, "protocol": "TCP"})
	expect(t, "ingress backend", dig(mustGet(t, objs, "Ingress/rel-ksml"), "spec", "rules", 0, "http", "paths", 0, "backend"),
		map[string]any{"service": map[string]any{"name": "rel-ksml", "port": map[string]any{"name": "http"}}})

	var cfg map[string]any
	if err := yaml.Unmarshal([]byte(dig(mustGet(t, objs, "ConfigMap/rel-ksml-runner"), "data", "ksml-runner.yaml").(string)), &cfg); err != nil {
		t.Fatal(err)
	}
	expect(t, "pythonContext", dig(cfg, "ksml", "pythonContext"), map[string]any{"allowHostFileAccess": false, "modulePath": "/ksml-python"})
	expect(t, "process errors", dig(cfg, "ksml", "errorHandling", "process"), map[string]any{
		"log": true, "logPayload": true, "loggerName": "ProcessError", "handler": "continueOnFail", "deadLetterTopic": "orders-dlt"})
	expect(t, "prometheus", dig(cfg, "ksml", "prometheus"), map[string]any{"enabled": true, "host": "0.0.0.0", "port": 9999})
	// The runner imports discounts from the Python module ConfigMap and
	// substitutes the Secret's variable into sasl.jaas.config.
	loadInRunner(t, objs, map[string]string{"KAFKA_PASSWORD": "s3cret"})
}

func TestJobValues(t *testing.T) {
	objs := render(t, "job-values.yaml")
	if _, ok := objs["StatefulSet/rel-ksml"]; ok {
		t.Error("a StatefulSet is rendered in Job mode")
	}
	job := mustGet(t, objs, "Job/rel-ksml")
	expect(t, "ttl", dig(job, "spec", "ttlSecondsAfterFinished"), 600)
	expect(t, "restartPolicy", dig(job, "spec", "template", "spec", "restartPolicy"), "Never")
	loadInRunner(t, objs, nil)
}

func TestUpstreamValues(t *testing.T) {
	objs := render(t, "upstream-values.yaml")
	sts := mustGet(t, objs, "StatefulSet/rel-ksml")
	expect(t, "replicas", dig(sts, "spec", "replicas"), 2)
	c := dig(sts, "spec", "template", "spec", "containers", 0)
	expect(t, "ports from strings", dig(c, "ports"), []map[string]any{
		{"name": "http", "containerPort": 8080, "protocol": "TCP"}, {"name": "metrics", "containerPort": 9999, "protocol": "TCP"}})
	expect(t, "securityContext", dig(c, "securityContext"), nil)
	expect(t, "readiness delay", dig(c, "readinessProbe", "initialDelaySeconds"), 20)
	loadInRunner(t, objs, nil)
}

func TestValuesErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  []string
		want string
	}{
		{"no definitions", []string{"ksmlRunnerConfig.kafka.application\\.id=a", "ksmlRunnerConfig.kafka.bootstrap\\.servers=k:9092"},
			"ksmlRunnerConfig.definitions must name at least one definition"},
		{"no application.id", []string{"ksmlRunnerConfig.kafka.bootstrap\\.servers=k:9092", "ksmlRunnerConfig.definitions.a=a.yaml"},
			"ksmlRunnerConfig.kafka must set application.id"},
		{"no bootstrap.servers", []string{"ksmlRunnerConfig.kafka.application\\.id=a", "ksmlRunnerConfig.definitions.a=a.yaml"},
			"without it ksml would start its embedded broker inside the pod"},
		{"bad deploymentMode", []string{"deploymentMode=Deployment", "ksmlRunnerConfig.kafka.application\\.id=a", "ksmlRunnerConfig.kafka.bootstrap\\.servers=k:9092", "ksmlRunnerConfig.definitions.a=a.yaml"},
			`deploymentMode must be StatefulSet or Job, not "Deployment"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := helmTemplate(t, "", tc.set...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("helm template: want an error containing %q, got %v", tc.want, err)
			}
		})
	}
}
