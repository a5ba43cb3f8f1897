package functions

import (
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/ordercare/ordercare/infra/dynamostore"
	"github.com/ordercare/ordercare/infra/localruntime"
	"github.com/ordercare/ordercare/internal/router"
	"github.com/ordercare/ordercare/internal/steps"
	"github.com/ordercare/ordercare/workflows"
)

// ---- template.yaml as a generic tree ----

type obj = map[string]any

// loadTemplate parses template.yaml into maps and slices, with
// CloudFormation's short tags in their long form: !Ref X → {"Ref": X},
// !GetAtt A.B → {"Fn::GetAtt": [A, B]}, !Name v → {"Fn::Name": v}.
func loadTemplate(t *testing.T) obj {
	t.Helper()
	b, err := os.ReadFile("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	v, err := cfnValue(&doc)
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	m, ok := v.(obj)
	if !ok {
		t.Fatal("template.yaml is not a mapping")
	}
	return m
}

func cfnValue(n *yaml.Node) (any, error) {
	var v any
	switch n.Kind {
	case yaml.DocumentNode:
		return cfnValue(n.Content[0])
	case yaml.AliasNode:
		return cfnValue(n.Alias)
	case yaml.MappingNode:
		m := obj{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			val, err := cfnValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = val
		}
		v = m
	case yaml.SequenceNode:
		l := []any{}
		for _, c := range n.Content {
			val, err := cfnValue(c)
			if err != nil {
				return nil, err
			}
			l = append(l, val)
		}
		v = l
	case yaml.ScalarNode:
		if isShortTag(n.Tag) {
			v = n.Value
		} else if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
	}
	if !isShortTag(n.Tag) {
		return v, nil
	}
	switch name := strings.TrimPrefix(n.Tag, "!"); name {
	case "Ref", "Condition":
		return obj{name: v}, nil
	case "GetAtt":
		if s, ok := v.(string); ok {
			res, attr, _ := strings.Cut(s, ".")
			v = []any{res, attr}
		}
		return obj{"Fn::GetAtt": v}, nil
	default:
		return obj{"Fn::" + name: v}, nil
	}
}

func isShortTag(tag string) bool { return strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!") }

func ref(id string) obj          { return obj{"Ref": id} }
func getAtt(id, attr string) obj { return obj{"Fn::GetAtt": []any{id, attr}} }

// path walks keys through nested maps; nil when any is missing.
func path(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(obj)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func resources(tpl obj) obj { m, _ := tpl["Resources"].(obj); return m }

// prop is a function's property, or the Globals' when it sets none.
func prop(tpl obj, id, key string) any {
	if v := path(resources(tpl), id, "Properties", key); v != nil {
		return v
	}
	return path(tpl, "Globals", "Function", key)
}

// env is a function's environment: the Globals' variables merged with its own.
func env(tpl obj, id string) obj {
	out := obj{}
	for _, v := range []any{path(tpl, "Globals", "Function", "Environment", "Variables"),
		path(resources(tpl), id, "Properties", "Environment", "Variables")} {
		if m, ok := v.(obj); ok {
			for k, x := range m {
				out[k] = x
			}
		}
	}
	return out
}

func byType(tpl obj, typ string) []string {
	var ids []string
	for id, r := range resources(tpl) {
		if path(r, "Type") == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// ---- the functions ----

func TestRegistryMatchesTemplate(t *testing.T) {
	tpl := loadTemplate(t)
	makefile, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	var ids, dirs []string
	for _, f := range Registry {
		ids, dirs = append(ids, f.LogicalID), append(dirs, f.Dir)
		t.Run(f.LogicalID, func(t *testing.T) {
			r, _ := resources(tpl)[f.LogicalID].(obj)
			if r == nil || r["Type"] != "AWS::Serverless::Function" {
				t.Fatalf("template.yaml has no AWS::Serverless::Function %s", f.LogicalID)
			}
			checks := []struct {
				what      string
				got, want any
			}{
				{"Metadata.BuildMethod", path(r, "Metadata", "BuildMethod"), "makefile"},
				{"Runtime", prop(tpl, f.LogicalID, "Runtime"), "provided.al2023"},
				{"Architectures", prop(tpl, f.LogicalID, "Architectures"), []any{"arm64"}},
				{"Handler", prop(tpl, f.LogicalID, "Handler"), "bootstrap"},
				{"CodeUri", prop(tpl, f.LogicalID, "CodeUri"), "."},
			}
			for _, c := range checks {
				if diff := cmp.Diff(c.want, c.got); diff != "" {
					t.Errorf("%s (-want +got):\n%s", c.what, diff)
				}
			}
			if err := checkBuildTarget(string(makefile), f); err != nil {
				t.Error(err)
			}
			checkEnv(t, tpl, f)
		})
	}
	// Nothing deployed or built outside the registry.
	var lambdas []string
	for _, typ := range []string{"AWS::Serverless::Function", "AWS::Lambda::Function"} {
		lambdas = append(lambdas, byType(tpl, typ)...)
	}
	sort.Strings(ids)
	if diff := cmp.Diff(ids, lambdas); diff != "" {
		t.Errorf("functions in template.yaml vs functions.Registry (-registry +template):\n%s", diff)
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	var onDisk []string
	for _, e := range entries {
		if e.IsDir() {
			onDisk = append(onDisk, e.Name())
		}
	}
	sort.Strings(dirs)
	if diff := cmp.Diff(dirs, onDisk); diff != "" {
		t.Errorf("directories in functions/ vs functions.Registry (-registry +disk):\n%s", diff)
	}
}

// checkBuildTarget finds `build-<LogicalID>:` in the Makefile and checks its
// recipe builds functions/<Dir> for Lambda on arm64 into $(ARTIFACTS_DIR).
func checkBuildTarget(makefile string, f Function) error {
	vars := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^(\w+)\s*[:?]?=\s*(.*)$`).FindAllStringSubmatch(makefile, -1) {
		vars[m[1]] = m[2]
	}
	lines := strings.Split(makefile, "\n")
	i := slices.Index(lines, "build-"+f.LogicalID+":")
	if i < 0 {
		return fmt.Errorf("Makefile has no target build-%s (sam build calls it)", f.LogicalID)
	}
	var recipe string
	for _, l := range lines[i+1:] {
		if !strings.HasPrefix(l, "\t") {
			break
		}
		recipe += l
	}
	recipe = regexp.MustCompile(`\$\((\w+)\)`).ReplaceAllStringFunc(recipe, func(s string) string {
		if v, ok := vars[s[2:len(s)-1]]; ok && s != "$(ARTIFACTS_DIR)" && s != "$(GO)" {
			return v
		}
		return s
	})
	for _, want := range []string{"GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0", "lambda.norpc",
		"-o $(ARTIFACTS_DIR)/bootstrap", "./functions/" + f.Dir} {
		if !strings.Contains(recipe, want) {
			return fmt.Errorf("Makefile build-%s: recipe lacks %q: %s", f.LogicalID, want, recipe)
		}
	}
	return nil
}

// checkEnv: every variable the function's main reads is set in the
// template, and the template gives it nothing it does not read.
func checkEnv(t *testing.T, tpl obj, f Function) {
	src, err := os.ReadFile(filepath.Join(f.Dir, "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{}
	for _, m := range regexp.MustCompile(`os\.Getenv\("(\w+)"\)`).FindAllStringSubmatch(string(src), -1) {
		want[m[1]] = nil
	}
	if _, ok := want[StateMachinePrefixEnv]; ok {
		want[StateMachinePrefixEnv] = obj{"Fn::Sub": stateMachinePrefix}
	}
	got := env(tpl, f.LogicalID)
	for name, v := range want {
		if _, ok := got[name]; !ok {
			t.Errorf("functions/%s/main.go reads %s; template.yaml does not set it", f.Dir, name)
		} else if v != nil && !cmp.Equal(v, got[name]) {
			t.Errorf("%s = %v, want %v", name, got[name], v)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("template.yaml gives %s %s, which functions/%s/main.go never reads", f.LogicalID, name, f.Dir)
		}
	}
}

// ---- the state machines ----

func TestStateMachines(t *testing.T) {
	tpl := loadTemplate(t)
	var ids []string
	for _, wf := range workflows.All().Names() {
		id := StateMachineID(wf)
		ids = append(ids, id)
		t.Run(string(wf), func(t *testing.T) {
			r, _ := resources(tpl)[id].(obj)
			if r == nil || r["Type"] != "AWS::Serverless::StateMachine" {
				t.Fatalf("template.yaml has no AWS::Serverless::StateMachine %s for %s", id, wf)
			}
			p, _ := r["Properties"].(obj)
			if p["Type"] != "STANDARD" {
				t.Errorf("Type = %v, want STANDARD", p["Type"])
			}
			if uri := "workflows/" + string(wf) + "/" + string(wf) + ".asl.json"; p["DefinitionUri"] != uri {
				t.Errorf("DefinitionUri = %v, want %s", p["DefinitionUri"], uri)
			}
			if diff := cmp.Diff(obj{"Fn::Sub": "${AWS::StackName}-" + string(wf)}, p["Name"]); diff != "" {
				t.Errorf("Name: the router finds it by STATE_MACHINE_PREFIX + name (-want +got):\n%s", diff)
			}
			names, err := workflows.Substitutions(wf)
			if err != nil {
				t.Fatal(err)
			}
			wantSubs, wantPolicies := obj{}, []any{}
			for _, name := range names {
				f, ok := bySubstitution(name)
				if !ok {
					t.Errorf("${%s} in workflows/%s.asl.json names no function of functions.Registry", name, wf)
					continue
				}
				wantSubs[name] = getAtt(f.LogicalID, "Arn")
				wantPolicies = append(wantPolicies, obj{"LambdaInvokePolicy": obj{"FunctionName": ref(f.LogicalID)}})
				if name != localruntime.StepFunction {
					t.Errorf("${%s}: the local runtime registers the step handler as %q", name, localruntime.StepFunction)
				}
			}
			if diff := cmp.Diff(wantSubs, p["DefinitionSubstitutions"]); diff != "" {
				t.Errorf("DefinitionSubstitutions (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantPolicies, p["Policies"]); diff != "" {
				t.Errorf("Policies: invoke exactly the substituted functions (-want +got):\n%s", diff)
			}
		})
	}
	files, err := filepath.Glob("../workflows/*/*.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	var defined, known []string
	for _, f := range files {
		defined = append(defined, strings.TrimSuffix(filepath.Base(f), ".asl.json"))
	}
	for _, wf := range workflows.All().Names() {
		known = append(known, string(wf))
	}
	sort.Strings(known)
	if diff := cmp.Diff(known, defined); diff != "" {
		t.Errorf("workflows/*/*.asl.json vs workflows.All (-workflows +files):\n%s", diff)
	}
	sort.Strings(ids)
	if diff := cmp.Diff(ids, byType(tpl, "AWS::Serverless::StateMachine")); diff != "" {
		t.Errorf("state machines: workflows.All vs template.yaml (-workflows +template):\n%s", diff)
	}
}

func bySubstitution(name string) (Function, bool) {
	for _, f := range Registry {
		if f.Substitution == name {
			return f, true
		}
	}
	return Function{}, false
}

// TestErrorNames: every ErrorEquals of every state machine names an error
// Step Functions or Lambda raises, or a named error type the step handler
// returns (Lambda reports a Go error by its type name).
func TestErrorNames(t *testing.T) {
	declared := errorTypes(t, "../internal/steps")
	for _, name := range steps.ErrorNames {
		if !declared[name] {
			t.Errorf("steps.ErrorNames lists %s, but internal/steps declares no type %s with an Error method", name, name)
		}
	}
	files, err := filepath.Glob("../workflows/*/*.asl.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no state machines in workflows/ (%v)", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var def any
		if err := json.Unmarshal(b, &def); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		walkErrorEquals(def, func(name string) {
			// Sandbox.Timedout is what Lambda reports when the function runs out of time.
			if !strings.HasPrefix(name, "States.") && !strings.HasPrefix(name, "Lambda.") && name != "Sandbox.Timedout" && !slices.Contains(steps.ErrorNames, name) {
				t.Errorf("%s: ErrorEquals %q is neither States.*, Lambda.*, Sandbox.Timedout nor one of steps.ErrorNames %v", filepath.Base(file), name, steps.ErrorNames)
			}
		})
	}
}

func walkErrorEquals(v any, fn func(string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if l, ok := x.([]any); ok && k == "ErrorEquals" {
				for _, e := range l {
					s, _ := e.(string)
					fn(s)
				}
				continue
			}
			walkErrorEquals(x, fn)
		}
	case []any:
		for _, x := range v {
			walkErrorEquals(x, fn)
		}
	}
}

// errorTypes lists the types of a package's non-test files that have an
// Error() string method.
func errorTypes(t *testing.T, dir string) map[string]bool {
	out := map[string]bool{}
	for _, f := range parseDir(t, dir) {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || fd.Name.Name != "Error" || len(fd.Recv.List) != 1 {
				continue
			}
			typ := fd.Recv.List[0].Type
			if st, ok := typ.(*ast.StarExpr); ok {
				typ = st.X
			}
			if id, ok := typ.(*ast.Ident); ok {
				out[id.Name] = true
			}
		}
	}
	return out
}

func parseDir(t *testing.T, dir string) []*ast.File {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	fset := token.NewFileSet()
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

// ---- the table ----

// admin captures what dynamostore.CreateTable asks for.
type admin struct{ in *dynamodb.CreateTableInput }

func (a *admin) CreateTable(_ context.Context, in *dynamodb.CreateTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	a.in = in
	return &dynamodb.CreateTableOutput{}, nil
}

func (a *admin) DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return &dynamodb.DescribeTableOutput{Table: &types.TableDescription{TableStatus: types.TableStatusActive}}, nil
}

func (a *admin) DeleteTable(context.Context, *dynamodb.DeleteTableInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error) {
	return &dynamodb.DeleteTableOutput{}, nil
}

// TestTableMatchesStore: the table template.yaml declares is the one
// dynamostore.CreateTable creates (keys, both GSIs, billing, stream).
func TestTableMatchesStore(t *testing.T) {
	a := &admin{}
	if err := dynamostore.CreateTable(context.Background(), a, "t"); err != nil {
		t.Fatal(err)
	}
	in := a.in
	keys := func(ks []types.KeySchemaElement) []any {
		var out []any
		for _, k := range ks {
			out = append(out, obj{"AttributeName": aws.ToString(k.AttributeName), "KeyType": string(k.KeyType)})
		}
		return out
	}
	var attrs, gsis []any
	for _, d := range in.AttributeDefinitions {
		attrs = append(attrs, obj{"AttributeName": aws.ToString(d.AttributeName), "AttributeType": string(d.AttributeType)})
	}
	for _, g := range in.GlobalSecondaryIndexes {
		gsis = append(gsis, obj{"IndexName": aws.ToString(g.IndexName), "KeySchema": keys(g.KeySchema),
			"Projection": obj{"ProjectionType": string(g.Projection.ProjectionType)}})
	}
	want := obj{
		"BillingMode":            string(in.BillingMode),
		"AttributeDefinitions":   attrs,
		"KeySchema":              keys(in.KeySchema),
		"GlobalSecondaryIndexes": gsis,
		"StreamSpecification":    obj{"StreamViewType": string(in.StreamSpecification.StreamViewType)},
	}
	p, _ := path(resources(loadTemplate(t)), "Table", "Properties").(obj)
	got := obj{}
	for k := range want {
		got[k] = p[k]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("template.yaml Table vs dynamostore.CreateTable (-store +template):\n%s", diff)
	}
}

// ---- IAM ----

// storeActions lists the DynamoDB IAM actions the store's code can call:
// each s.db.<Operation>, and for transactions the action of each item type
// they build (types.Put → PutItem, …). DescribeTable is left out: only
// ReadFeed calls it, which no Lambda function uses (the router gets the
// stream from Lambda).
func storeActions(t *testing.T) []string {
	set := map[string]bool{}
	txItem := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
		"ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}
	for _, f := range parseDir(t, "../infra/dynamostore") {
		typesName := ""
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "github.com/aws/aws-sdk-go-v2/service/dynamodb/types" {
				typesName = "types"
				if imp.Name != nil {
					typesName = imp.Name.Name
				}
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.SelectorExpr); ok && x.Sel.Name == "db" {
						switch op := sel.Sel.Name; op {
						case "DescribeTable", "TransactWriteItems", "TransactGetItems":
						default:
							set["dynamodb:"+op] = true
						}
					}
				}
			case *ast.CompositeLit:
				if sel, ok := n.Type.(*ast.SelectorExpr); ok && typesName != "" {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == typesName && txItem[sel.Sel.Name] != "" {
						set["dynamodb:"+txItem[sel.Sel.Name]] = true
					}
				}
			}
			return true
		})
	}
	var out []string
	for a := range set {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// statements returns a function's inline policy statements.
func statements(tpl obj, id string) []obj {
	var out []obj
	pols, _ := path(resources(tpl), id, "Properties", "Policies").([]any)
	for _, p := range pols {
		sts, _ := path(p, "Statement").([]any)
		for _, s := range sts {
			if m, ok := s.(obj); ok {
				out = append(out, m)
			}
		}
	}
	return out
}

func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// allowed collects a function's allowed actions with a prefix and the
// resources they are granted on.
func allowed(tpl obj, id, prefix string) (actions []string, res map[string][]any) {
	res = map[string][]any{}
	for _, s := range statements(tpl, id) {
		if s["Effect"] != "Allow" {
			continue
		}
		for _, a := range list(s["Action"]) {
			if a, _ := a.(string); strings.HasPrefix(a, prefix) {
				if !slices.Contains(actions, a) {
					actions = append(actions, a)
				}
				res[a] = append(res[a], list(s["Resource"])...)
			}
		}
	}
	sort.Strings(actions)
	return actions, res
}

// TestPermissions: each function may do what its code does, and no more.
func TestPermissions(t *testing.T) {
	tpl := loadTemplate(t)
	store := storeActions(t)
	tableResources := []any{getAtt("Table", "Arn"), obj{"Fn::Sub": "${Table.Arn}/index/*"}}
	for _, id := range []string{"ApiFunction", "RouterFunction", "StepFunction"} {
		t.Run(id, func(t *testing.T) {
			actions, res := allowed(tpl, id, "dynamodb:")
			if diff := cmp.Diff(store, actions); diff != "" {
				t.Errorf("DynamoDB actions: exactly those the store calls (-store +template):\n%s", diff)
			}
			for a, r := range res {
				if diff := cmp.Diff(tableResources, r); diff != "" {
					t.Errorf("%s granted on (-want +got):\n%s", a, diff)
				}
			}
			states, _ := allowed(tpl, id, "states:")
			want := []string{"states:SendTaskSuccess"} // every one resumes executions (router.Router.ResumeTask)
			if id == "RouterFunction" {
				want = nil // the router may call what router.StepFunctions declares
				sfnAPI := reflect.TypeFor[router.StepFunctions]()
				for i := range sfnAPI.NumMethod() {
					want = append(want, "states:"+sfnAPI.Method(i).Name)
				}
				sort.Strings(want)
			}
			if diff := cmp.Diff(want, states); diff != "" {
				t.Errorf("Step Functions actions (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("IngestFunction", func(t *testing.T) {
		actions, res := allowed(tpl, "IngestFunction", "dynamodb:")
		if diff := cmp.Diff([]string{"dynamodb:GetItem", "dynamodb:PutItem"}, actions); diff != "" {
			t.Errorf("DynamoDB actions (-want +got):\n%s", diff)
		}
		for a, r := range res {
			if diff := cmp.Diff([]any{getAtt("Table", "Arn")}, r); diff != "" {
				t.Errorf("%s granted on (-want +got):\n%s", a, diff)
			}
		}
		if states, _ := allowed(tpl, "IngestFunction", "states:"); len(states) > 0 {
			t.Errorf("ingest may call Step Functions: %v", states)
		}
	})
	t.Run("RouterFunction/resources", func(t *testing.T) {
		_, res := allowed(tpl, "RouterFunction", "states:")
		// One rule for every workflow: scoped by the stack's name prefix.
		start := []any{obj{"Fn::Sub": stateMachinePrefix + "*"}}
		stop := []any{obj{"Fn::Sub": "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:${AWS::StackName}-*:*"}}
		if diff := cmp.Diff(start, res["states:StartExecution"]); diff != "" {
			t.Errorf("StartExecution on (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(stop, res["states:StopExecution"]); diff != "" {
			t.Errorf("StopExecution on (-want +got):\n%s", diff)
		}
	})
	t.Run("RouterFunction/stream", func(t *testing.T) {
		var ev obj
		for _, e := range path(resources(tpl), "RouterFunction", "Properties", "Events").(obj) {
			if path(e, "Type") == "DynamoDB" {
				ev, _ = path(e, "Properties").(obj)
			}
		}
		if ev == nil {
			t.Fatal("RouterFunction has no DynamoDB stream event")
		}
		checks := map[string]any{
			"Stream":                     getAtt("Table", "StreamArn"),
			"StartingPosition":           "TRIM_HORIZON",
			"FunctionResponseTypes":      []any{"ReportBatchItemFailures"},
			"BisectBatchOnFunctionError": false,
			"ParallelizationFactor":      1,
		}
		for k, want := range checks {
			if diff := cmp.Diff(want, ev[k]); diff != "" {
				t.Errorf("%s (-want +got):\n%s", k, diff)
			}
		}
	})
}

// ---- HTTP routes ----

type route struct {
	fn, method, path string
}

// covers reports whether the API Gateway route serves requests of the
// ServeMux pattern (method and path): {x} takes one segment, {x+} the rest.
func (r route) covers(method, path string) bool {
	if r.method != "ANY" && r.method != method {
		return false
	}
	rs, ps := strings.Split(strings.Trim(r.path, "/"), "/"), strings.Split(strings.Trim(path, "/"), "/")
	for i, seg := range rs {
		if strings.HasSuffix(seg, "+}") {
			return i < len(ps)
		}
		if i >= len(ps) {
			return false
		}
		if !strings.HasPrefix(seg, "{") && seg != ps[i] {
			return false
		}
	}
	return len(rs) == len(ps)
}

// TestRoutes: every route internal/httpapi serves reaches a function on API
// Gateway, webhooks only the ingest function and the rest only the api
// function, and no API Gateway route leads nowhere. Overlapping routes are
// refused, so where a request goes never rests on API Gateway's precedence.
func TestRoutes(t *testing.T) {
	tpl := loadTemplate(t)
	var routes []route
	for _, id := range byType(tpl, "AWS::Serverless::Function") {
		evs, _ := path(resources(tpl), id, "Properties", "Events").(obj)
		for _, e := range evs {
			if path(e, "Type") == "HttpApi" {
				m, _ := path(e, "Properties", "Method").(string)
				p, _ := path(e, "Properties", "Path").(string)
				routes = append(routes, route{fn: id, method: strings.ToUpper(m), path: p})
			}
		}
	}
	var served [][2]string
	// The console (internal/console) serves / and the files under /console/
	// through the api function too.
	for _, name := range append(mustGlob(t, "../internal/httpapi/*.go"), mustGlob(t, "../internal/console/*.go")...) {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range regexp.MustCompile(`\.HandleFunc\("([A-Z]+) (/[^"]*)"`).FindAllStringSubmatch(string(b), -1) {
			p := strings.Replace(m[2], "{$}", "", 1) // "/{$}": exactly /
			if strings.HasSuffix(p, "/") && p != "/" {
				p += "file" // a subtree pattern: any file under it
			}
			served = append(served, [2]string{m[1], p})
		}
	}
	if len(served) == 0 {
		t.Fatal("found no routes in internal/httpapi")
	}
	used := map[route]bool{}
	for _, s := range served {
		want := "ApiFunction"
		if strings.HasPrefix(s[1], "/webhooks/") {
			want = "IngestFunction"
		}
		var fns []string
		for _, r := range routes {
			if r.covers(s[0], s[1]) {
				fns = append(fns, r.fn)
				used[r] = true
			}
		}
		if diff := cmp.Diff([]string{want}, fns); diff != "" {
			t.Errorf("%s %s: functions it reaches on API Gateway (-want +got):\n%s", s[0], s[1], diff)
		}
	}
	for _, r := range routes {
		if !used[r] {
			t.Errorf("API Gateway route %s %s (%s) serves nothing internal/httpapi serves", r.method, r.path, r.fn)
		}
	}
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	names, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// stateMachinePrefix is what STATE_MACHINE_PREFIX is set to (a Fn::Sub).
const stateMachinePrefix = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:${AWS::StackName}-"

// TestTableTTL: the table's TTL attribute is the one the store writes
// (dynamostore.TTLAttribute), enabled.
func TestTableTTL(t *testing.T) {
	tpl := loadTemplate(t)
	spec := path(resources(tpl), "Table", "Properties", "TimeToLiveSpecification")
	want := obj{"AttributeName": dynamostore.TTLAttribute, "Enabled": true}
	if diff := cmp.Diff(want, spec); diff != "" {
		t.Errorf("Table TimeToLiveSpecification (-want +got):\n%s", diff)
	}
}
