//! The layering of docs/architecture.md, checked on the code: crates depend on each
//! other only downwards (tags <- uhub <- uhub-emulator; the operator on tags and uhub;
//! testkit on the first three), the operator's modules import only from their own layer
//! or below (api, secrets <- notify <- controller <- runtime <- cli <- testing), and no
//! two modules of one parent import each other, directly or in a cycle. Test code
//! (`#[cfg(test)]` and `*_tests.rs`) is left out: tests may reach anywhere.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use syn::visit::Visit;

/// The operator crate's top-level modules, lowest layer first.
const LAYERS: &[&[&str]] = &[
    &["api", "secrets"],
    &["notify"],
    &["controller"],
    &["runtime"],
    &["cli"],
    &["testing"],
];

/// Which workspace crates each crate may depend on (normal dependencies).
const CRATES: &[(&str, &[&str])] = &[
    ("tagwatch-tags", &[]),
    ("uhub", &["tagwatch-tags"]),
    ("uhub-emulator", &["tagwatch-tags", "uhub"]),
    ("tagwatch", &["tagwatch-tags", "uhub", "tagwatch-testkit"]),
    (
        "tagwatch-testkit",
        &["tagwatch-tags", "uhub", "uhub-emulator"],
    ),
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every module of a crate's `src/` with the modules its non-test code refers to.
struct Modules(BTreeMap<Vec<String>, BTreeSet<Vec<String>>>);

impl Modules {
    fn of(src: &Path) -> Modules {
        let mut modules = BTreeMap::new();
        for file in rust_files(src) {
            let relative = file.strip_prefix(src).unwrap();
            let name = relative.to_str().unwrap();
            if name.ends_with("_tests.rs") || name == "main.rs" {
                continue;
            }
            let module = module_path(relative);
            let text = std::fs::read_to_string(&file).unwrap();
            let syntax =
                syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let mut refs = References {
                module: module.clone(),
                found: BTreeSet::new(),
            };
            refs.visit_file(&syntax);
            modules.insert(module, refs.found);
        }
        Modules(modules)
    }

    /// Every pair (a, b) of sibling modules where a refers into b.
    fn sibling_edges(&self) -> BTreeSet<(Vec<String>, Vec<String>)> {
        let mut edges = BTreeSet::new();
        for (from, refs) in &self.0 {
            for to in refs {
                let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
                if common < from.len() && common < to.len() {
                    edges.insert((from[..=common].to_vec(), to[..=common].to_vec()));
                }
            }
        }
        edges
    }
}

/// Collects the module paths a file's non-test code names through `crate::` and
/// `super::`.
struct References {
    module: Vec<String>,
    found: BTreeSet<Vec<String>>,
}

impl References {
    fn record(&mut self, segments: &[String]) {
        let mut path = match segments.first().map(String::as_str) {
            Some("crate") => Vec::new(),
            Some("super") => self.module.clone(),
            _ => return,
        };
        let mut rest = &segments[1..];
        if segments[0] == "super" {
            path.pop();
            while rest.first().map(String::as_str) == Some("super") {
                path.pop();
                rest = &rest[1..];
            }
        }
        // Module names are lower case; the first other segment ends the module path.
        for segment in rest {
            if !segment
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase())
            {
                break;
            }
            path.push(segment.clone());
        }
        if !path.is_empty() {
            self.found.insert(path);
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                self.record(&prefix.clone());
                prefix.pop();
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                self.record(&prefix.clone());
                prefix.pop();
            }
            syn::UseTree::Glob(_) => self.record(&prefix.clone()),
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.use_tree(prefix, tree);
                }
            }
        }
    }
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.meta
                .require_list()
                .is_ok_and(|l| l.tokens.to_string().contains("test"))
    })
}

impl<'ast> Visit<'ast> for References {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        if !is_test_only(&item.attrs) {
            self.use_tree(&mut Vec::new(), &item.tree);
        }
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if !is_test_only(&item.attrs) {
            syn::visit::visit_item_mod(self, item);
        }
    }

    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        if !is_test_only(&item.attrs) {
            syn::visit::visit_item_fn(self, item);
        }
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        if !is_test_only(&item.attrs) {
            syn::visit::visit_item_impl(self, item);
        }
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        self.record(&segments);
        syn::visit::visit_path(self, path);
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// `controller/reconcile.rs` is `[controller, reconcile]`; `mod.rs` and `lib.rs` are
/// their directory's module.
fn module_path(relative: &Path) -> Vec<String> {
    let mut path: Vec<String> = relative
        .with_extension("")
        .iter()
        .map(|c| c.to_str().unwrap().to_string())
        .collect();
    if matches!(path.last().map(String::as_str), Some("mod" | "lib")) {
        path.pop();
    }
    path
}

fn layer(module: &str) -> usize {
    LAYERS
        .iter()
        .position(|layer| layer.contains(&module))
        .unwrap_or_else(|| panic!("module {module} has no layer in this test's LAYERS"))
}

#[test]
fn operator_modules_import_only_from_their_layer_or_below() {
    let modules = Modules::of(&root().join("src"));
    let mut upward = Vec::new();
    for (from, to) in modules.sibling_edges() {
        if from.len() == 1 && layer(&from[0]) < layer(&to[0]) {
            upward.push(format!("{} imports {}", from[0], to[0]));
        }
    }
    assert!(upward.is_empty(), "imports from a layer above: {upward:?}");
}

#[test]
fn no_modules_of_a_crate_import_each_other() {
    let crates = [
        "src",
        "crates/tags/src",
        "crates/uhub/src",
        "crates/uhub-emulator/src",
    ];
    let mut cycles = Vec::new();
    for src in crates {
        let edges = Modules::of(&root().join(src)).sibling_edges();
        let mut graph: BTreeMap<&Vec<String>, Vec<&Vec<String>>> = BTreeMap::new();
        for (from, to) in &edges {
            graph.entry(from).or_default().push(to);
        }
        for start in graph.keys() {
            if let Some(cycle) = cycle_through(&graph, start) {
                cycles.push(format!("{src}: {}", cycle.join(" -> ")));
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles: {cycles:#?}");
}

/// A cycle from `start` back to it, as module names, if there is one.
fn cycle_through(
    graph: &BTreeMap<&Vec<String>, Vec<&Vec<String>>>,
    start: &Vec<String>,
) -> Option<Vec<String>> {
    let mut stack = vec![(start, vec![start.join("::")])];
    let mut seen = BTreeSet::new();
    while let Some((node, trail)) = stack.pop() {
        for &next in graph.get(node).into_iter().flatten() {
            let mut trail = trail.clone();
            trail.push(next.join("::"));
            if next == start {
                return Some(trail);
            }
            if seen.insert(next) {
                stack.push((next, trail));
            }
        }
    }
    None
}

#[test]
fn the_detector_sees_upward_imports_and_cycles() {
    // The rule would not catch anything if the parser missed paths: check it on code
    // that breaks it.
    let parse = |module: &[&str], code: &str| {
        let mut refs = References {
            module: module.iter().map(|s| s.to_string()).collect(),
            found: BTreeSet::new(),
        };
        refs.visit_file(&syn::parse_file(code).unwrap());
        refs.found
    };
    let found = parse(
        &["notify", "review"],
        "use crate::controller::{context::Context, reconcile};\n\
         fn f() { super::pending::merge(); crate::runtime::metrics::Metrics::new(); }\n\
         #[cfg(test)] mod tests { use crate::cli::Cli; }",
    );
    let names: Vec<String> = found.iter().map(|p| p.join("::")).collect();
    assert!(
        names.contains(&"controller::context".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"controller::reconcile".to_string()),
        "{names:?}"
    );
    // A function's path names its module and then the function: both lower case.
    assert!(
        names.iter().any(|n| n.starts_with("notify::pending")),
        "{names:?}"
    );
    assert!(names.contains(&"runtime::metrics".to_string()), "{names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with("cli")),
        "test code counted: {names:?}"
    );
    let mut graph = BTreeMap::new();
    let (a, b) = (vec!["a".to_string()], vec!["b".to_string()]);
    graph.insert(&a, vec![&b]);
    graph.insert(&b, vec![&a]);
    assert!(cycle_through(&graph, &a).is_some());
    assert!(layer("notify") < layer("controller"));
}

#[test]
fn crates_depend_only_downwards() {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root())
        .output()
        .expect("cargo metadata");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let members: BTreeSet<&str> = metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for package in metadata["packages"].as_array().unwrap() {
        let name = package["name"].as_str().unwrap();
        let allowed = CRATES
            .iter()
            .find(|(crate_name, _)| *crate_name == name)
            .unwrap_or_else(|| panic!("crate {name} has no place in this test's CRATES"))
            .1;
        for dependency in package["dependencies"].as_array().unwrap() {
            let dep = dependency["name"].as_str().unwrap();
            let normal = dependency["kind"].is_null();
            if normal && members.contains(dep) && dep != name {
                assert!(allowed.contains(&dep), "{name} depends on {dep}");
            }
        }
    }
}
