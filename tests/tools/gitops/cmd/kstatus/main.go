// Command kstatus prints, for each Kubernetes object read as JSON on stdin (one
// object, a List, or several objects one after another), one JSON line with the
// status that sigs.k8s.io/cli-utils/pkg/kstatus/status computes for it: the status
// Flux health checks and `kubectl wait`-like tools built on kstatus see.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type result struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

func main() {
	decoder := json.NewDecoder(os.Stdin)
	encoder := json.NewEncoder(os.Stdout)
	for {
		var raw json.RawMessage
		err := decoder.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return
		}
		// Decoded as clients decode objects: integers become int64.
		var object unstructured.Unstructured
		if err == nil {
			err = object.UnmarshalJSON(raw)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "kstatus: reading JSON:", err)
			os.Exit(2)
		}
		items := []unstructured.Unstructured{object}
		if object.IsList() {
			list, err := object.ToList()
			if err != nil {
				fmt.Fprintln(os.Stderr, "kstatus: reading a List:", err)
				os.Exit(2)
			}
			items = list.Items
		}
		for i := range items {
			out := result{Name: items[i].GetName()}
			computed, err := status.Compute(&items[i])
			if err != nil {
				out.Status, out.Message = string(status.UnknownStatus), err.Error()
			} else {
				out.Status, out.Message = string(computed.Status), computed.Message
			}
			if err := encoder.Encode(out); err != nil {
				fmt.Fprintln(os.Stderr, "kstatus:", err)
				os.Exit(2)
			}
		}
	}
}
