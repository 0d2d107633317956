// Command luahealth runs an Argo CD resource health check (a health.lua) over
// Kubernetes objects read as JSON on stdin (one object, a List, or several objects
// one after another) in gopher-lua, the interpreter Argo CD embeds, set up as Argo CD
// sets it up for a check from argocd-cm: only the base, package and table libraries
// and an `os` with `time` and `date`, unless -open-libs (Argo CD's
// `resource.customizations.useOpenLibs.<group>_<kind>: "true"`); the object as the
// global `obj`; one second to run. It prints one JSON line per object:
// {"name", "status", "message"}, the status being Unknown with the error as message
// when the script fails or returns a status Argo CD does not know, as Argo CD does.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	luajson "layeh.com/gopher-json"

	"tagwatch.dev/tests/tools/gitops/internal/objects"
)

type health struct {
	Name    string `json:"name"`
	Status  string `json:"status"`
	Message string `json:"message"`
}

var known = map[string]bool{
	"Healthy": true, "Progressing": true, "Degraded": true,
	"Suspended": true, "Missing": true, "Unknown": true,
}

func main() {
	openLibs := flag.Bool("open-libs", false, "open every gopher-lua library (useOpenLibs)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: luahealth [-open-libs] health.lua < objects.json")
		os.Exit(2)
	}
	script, err := os.ReadFile(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "luahealth:", err)
		os.Exit(2)
	}
	objects.Each("luahealth", func(object *unstructured.Unstructured) any {
		out := assess(string(script), object.Object, *openLibs)
		out.Name = object.GetName()
		return out
	})
}

func assess(script string, object map[string]any, openLibs bool) health {
	state := lua.NewState(lua.Options{SkipOpenLibs: !openLibs})
	defer state.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	state.SetContext(ctx)
	for name, open := range map[string]lua.LGFunction{
		lua.LoadLibName: lua.OpenPackage, lua.BaseLibName: lua.OpenBase, lua.TabLibName: lua.OpenTable,
	} {
		if err := state.CallByParam(lua.P{Fn: state.NewFunction(open), NRet: 0, Protect: true}, lua.LString(name)); err != nil {
			return health{Status: "Unknown", Message: err.Error()}
		}
	}
	if state.GetGlobal("os") == lua.LNil {
		restricted := state.NewTable()
		state.SetField(restricted, "time", state.NewFunction(func(l *lua.LState) int {
			l.Push(lua.LNumber(time.Now().Unix()))
			return 1
		}))
		state.SetField(restricted, "date", state.NewFunction(func(l *lua.LState) int {
			l.Push(lua.LString(time.Now().UTC().Format(time.RFC3339)))
			return 1
		}))
		state.SetGlobal("os", restricted)
	}
	state.SetGlobal("obj", toLua(state, object))
	state.SetGlobal("actionParams", state.NewTable())
	if err := state.DoString(script); err != nil {
		return health{Status: "Unknown", Message: err.Error()}
	}
	returned := state.Get(-1)
	if returned == lua.LNil {
		return health{}
	}
	table, ok := returned.(*lua.LTable)
	if !ok {
		return health{Status: "Unknown", Message: fmt.Sprintf("expect table output from Lua script, not %s", returned.Type())}
	}
	encoded, err := luajson.Encode(table)
	if err != nil {
		return health{Status: "Unknown", Message: err.Error()}
	}
	var out health
	if string(encoded) != "[]" {
		if err := json.Unmarshal(encoded, &out); err != nil {
			return health{Status: "Unknown", Message: err.Error()}
		}
	}
	if out.Status != "" && !known[out.Status] {
		return health{Status: "Unknown", Message: "Lua returned an invalid health status"}
	}
	return out
}

// toLua converts a decoded JSON value as Argo CD does: objects and arrays become
// tables (arrays 1-based), numbers numbers, null nothing.
func toLua(state *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case map[string]any:
		table := state.NewTable()
		for key, item := range v {
			table.RawSetH(lua.LString(key), toLua(state, item))
		}
		return table
	case []any:
		table := state.NewTable()
		for _, item := range v {
			table.Append(toLua(state, item))
		}
		return table
	case bool:
		return lua.LBool(v)
	case json.Number:
		if f, err := v.Float64(); err == nil {
			return lua.LNumber(f)
		}
		return lua.LString(v.String())
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	case string:
		return lua.LString(v)
	default:
		return lua.LNil
	}
}
