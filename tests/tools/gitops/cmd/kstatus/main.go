// Command kstatus prints, for each Kubernetes object read as JSON on stdin (one
// object, a List, or several objects one after another), one JSON line with the
// status that sigs.k8s.io/cli-utils/pkg/kstatus/status computes for it: the status
// Flux health checks and `kubectl wait`-like tools built on kstatus see.
package main

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"tagwatch.dev/tests/tools/gitops/internal/objects"
)

type result struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	objects.Each("kstatus", func(object *unstructured.Unstructured) any {
		out := result{Name: object.GetName()}
		computed, err := status.Compute(object)
		if err != nil {
			out.Status, out.Message = string(status.UnknownStatus), err.Error()
		} else {
			out.Status, out.Message = string(computed.Status), computed.Message
		}
		return out
	})
}
