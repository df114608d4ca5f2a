// Command crdcheck checks the Prometheus Operator objects of rendered
// manifests (ServiceMonitor, PrometheusRule) against the operator's own Go
// types, which its CRD schemas are generated from: every field must exist in
// the type with a value of the right type (unknown fields are errors, as
// `kubectl apply` with strict field validation reports them), and the fields
// the operator needs must be set. kubeconform checks the built-in kinds;
// these two kinds have no schema in its offline schema set.
//
//	crdcheck MANIFESTS.yaml...
//
// It prints one line per checked object and exits 1 on the first problem
// found in any file.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	"sigs.k8s.io/yaml"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: crdcheck MANIFESTS.yaml...")
		os.Exit(2)
	}
	failed := false
	for _, f := range os.Args[1:] {
		if err := checkFile(f, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", f, err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

func checkFile(path string, out io.Writer) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var errs []error
	for i, doc := range splitDocs(b) {
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			errs = append(errs, fmt.Errorf("document %d: %v", i, err))
			continue
		}
		var meta struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(j, &meta); err != nil || meta.Kind == "" {
			continue
		}
		var check func([]byte) error
		switch meta.Kind {
		case "ServiceMonitor":
			check = checkServiceMonitor
		case "PrometheusRule":
			check = checkPrometheusRule
		default:
			continue
		}
		if meta.APIVersion != "monitoring.coreos.com/v1" {
			errs = append(errs, fmt.Errorf("%s/%s: apiVersion %q, want monitoring.coreos.com/v1", meta.Kind, meta.Metadata.Name, meta.APIVersion))
			continue
		}
		if err := check(j); err != nil {
			errs = append(errs, fmt.Errorf("%s/%s: %v", meta.Kind, meta.Metadata.Name, err))
			continue
		}
		fmt.Fprintf(out, "%s - %s %s is valid\n", path, meta.Kind, meta.Metadata.Name)
	}
	return errors.Join(errs...)
}

func splitDocs(b []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(append([]byte("\n"), b...), []byte("\n---")) {
		if len(bytes.TrimSpace(d)) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

func strict(j []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func checkServiceMonitor(j []byte) error {
	var sm monitoringv1.ServiceMonitor
	if err := strict(j, &sm); err != nil {
		return err
	}
	if len(sm.Spec.Selector.MatchLabels) == 0 && len(sm.Spec.Selector.MatchExpressions) == 0 {
		return errors.New("spec.selector selects nothing")
	}
	if len(sm.Spec.Endpoints) == 0 {
		return errors.New("spec.endpoints is empty")
	}
	for i, e := range sm.Spec.Endpoints {
		if e.Port == "" && e.TargetPort == nil {
			return fmt.Errorf("spec.endpoints[%d] names no port", i)
		}
	}
	return nil
}

func checkPrometheusRule(j []byte) error {
	var pr monitoringv1.PrometheusRule
	if err := strict(j, &pr); err != nil {
		return err
	}
	if len(pr.Spec.Groups) == 0 {
		return errors.New("spec.groups is empty")
	}
	names := map[string]bool{}
	for i, g := range pr.Spec.Groups {
		if g.Name == "" || names[g.Name] {
			return fmt.Errorf("spec.groups[%d]: the name %q is empty or not unique", i, g.Name)
		}
		names[g.Name] = true
		for k, r := range g.Rules {
			if strings.TrimSpace(r.Expr.String()) == "" {
				return fmt.Errorf("spec.groups[%d].rules[%d]: expr is empty", i, k)
			}
			if (r.Alert == "") == (r.Record == "") {
				return fmt.Errorf("spec.groups[%d].rules[%d]: a rule has either alert or record", i, k)
			}
		}
	}
	return nil
}
