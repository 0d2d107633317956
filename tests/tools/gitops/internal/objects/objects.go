// Package objects reads Kubernetes objects as JSON on stdin (one object, a List, or
// several objects one after another) and writes one JSON line per object: the loop the
// project's object-assessing CLIs (kstatus, luahealth) share.
package objects

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Each calls assess for every object on stdin, in order, and prints what it returns
// as one JSON line; on unreadable input it exits with status 2, naming tool.
func Each(tool string, assess func(object *unstructured.Unstructured) any) {
	decoder := json.NewDecoder(os.Stdin)
	encoder := json.NewEncoder(os.Stdout)
	fail := func(what string, err error) {
		fmt.Fprintln(os.Stderr, tool+":", what, err)
		os.Exit(2)
	}
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
			fail("reading JSON:", err)
		}
		items := []unstructured.Unstructured{object}
		if object.IsList() {
			list, err := object.ToList()
			if err != nil {
				fail("reading a List:", err)
			}
			items = list.Items
		}
		for i := range items {
			if err := encoder.Encode(assess(&items[i])); err != nil {
				fail("writing:", err)
			}
		}
	}
}
