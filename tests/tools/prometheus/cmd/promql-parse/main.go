// promql-parse parses PromQL expressions with Prometheus' own parser, with the
// options a Prometheus server has without --enable-feature flags.
//
// It reads a JSON array of {"name": "...", "expr": "..."} from stdin and prints one
// line per expression ("ok NAME" or "FAIL NAME: message"), then "N passed, N failed".
// Exit status: 0 when every expression parses, 1 when one does not, 2 on bad input.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/prometheus/prometheus/promql/parser"
)

type query struct {
	Name string `json:"name"`
	Expr string `json:"expr"`
}

func main() {
	var queries []query
	if err := json.NewDecoder(os.Stdin).Decode(&queries); err != nil {
		fmt.Fprintf(os.Stderr, "promql-parse: stdin is not a JSON array of {name, expr}: %v\n", err)
		os.Exit(2)
	}
	if len(queries) == 0 {
		fmt.Fprintln(os.Stderr, "promql-parse: no expressions")
		os.Exit(2)
	}
	p := parser.NewParser(parser.Options{})
	failed := 0
	for _, q := range queries {
		if _, err := p.ParseExpr(q.Expr); err != nil {
			failed++
			fmt.Printf("FAIL %s: %v\n", q.Name, err)
			continue
		}
		fmt.Printf("ok %s\n", q.Name)
	}
	fmt.Printf("%d passed, %d failed\n", len(queries)-failed, failed)
	if failed > 0 {
		os.Exit(1)
	}
}
