//! The runtime's modules form layers that point one way (the module map at
//! the top of `src/lib.rs`): a module may use only modules of its own layer
//! or the layers below it, and no two modules use each other, directly or
//! through others. This test reads every `crate::…` path in the sources and
//! checks both, so a new import against the grain fails here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module and its layer (1 is the bottom). `http` sits
/// beside the layers and may use only the first.
const LAYERS: &[(&str, u8)] = &[
    ("action", 1),
    ("config", 1),
    ("context", 1),
    ("error", 1),
    ("json", 1),
    ("model", 1),
    ("record", 1),
    ("registry", 1),
    ("restore", 1),
    ("event", 2),
    ("outcome", 2),
    ("backend", 3),
    ("db", 3),
    ("sink", 4),
    ("transport", 5),
    ("auditor", 6),
    ("build", 6),
    ("history", 6),
    ("partition", 6),
    ("retention", 6),
    ("schema", 6),
    ("transaction", 6),
    ("triggers", 6),
    // The guide's chapters: documentation only, about every layer.
    ("guide", 6),
    ("http", 1),
    ("context::scope", 1),
];

/// Files counted as a module of their own: the context's scope (`capture`
/// reads the configuration's CAPTURE_* keys) sits above the configuration,
/// which names the context's `EntryPoint`.
const SPLIT: &[(&str, &str)] = &[("context/scope.rs", "context::scope")];

/// The crate root's re-exports, by the module that defines them.
const ROOT_ITEMS: &[(&str, &str)] = &[
    ("Action", "action"),
    ("UnknownAction", "action"),
    ("AuditConfig", "config"),
    ("ConfigError", "config"),
    ("Error", "error"),
    ("SnapshotError", "error"),
    ("REDACTED", "json"),
    ("AuditField", "model"),
    ("AuditKey", "model"),
    ("AuditValue", "model"),
    ("Audited", "model"),
    ("FieldInfo", "model"),
    ("ModelInfo", "model"),
    ("LogRecord", "record"),
    ("LogRow", "record"),
    ("BatchOutcome", "outcome"),
    ("LogOutcome", "outcome"),
    ("Database", "db"),
    ("UnsupportedScheme", "db"),
    ("AuditDatabase", "backend"),
    ("AuditStats", "sink"),
    ("outbox", "transport"),
    ("broker", "transport"),
    ("Auditor", "auditor"),
    ("AuditorBuilder", "auditor"),
    ("AuditTransaction", "transaction"),
];

/// Items of the crate root that belong to no module of ours.
const EXTERNAL: &[&str] = &["Dialect", "chrono", "serde_json", "__private"];

fn layer_of(module: &str) -> u8 {
    LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .unwrap_or_else(|| panic!("module `{module}` is not in LAYERS; give it a layer"))
        .1
}

/// The module a `crate::<first>` path lands in; `None` for external items.
fn module_of(first: &str) -> Option<&'static str> {
    if let Some((name, _)) = LAYERS.iter().find(|(name, _)| *name == first) {
        return Some(name);
    }
    if let Some((_, module)) = ROOT_ITEMS.iter().find(|(item, _)| *item == first) {
        return Some(module);
    }
    assert!(
        EXTERNAL.contains(&first),
        "`crate::{first}` names an item this test does not know; add it to ROOT_ITEMS or EXTERNAL"
    );
    None
}

/// The first path segments after each `crate::` in `source` (the items of
/// a `crate::{a, b::c}` group each count), comment lines left out.
fn crate_paths(source: &str) -> Vec<String> {
    let code: String = source
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            let mut items = Vec::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => items.push(std::mem::take(&mut item)),
                    _ => item.push(c),
                }
            }
            items.push(item);
            for item in items {
                let first: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !first.is_empty() && first != "self" {
                    found.push(first);
                }
            }
        } else {
            let first: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !first.is_empty() {
                found.push(first);
            }
        }
    }
    found
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// module -> the modules it uses (itself left out).
fn uses() -> BTreeMap<String, BTreeSet<&'static str>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap();
        let module = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        if module == "lib" {
            continue;
        }
        let path = relative.to_string_lossy().replace('\\', "/");
        let module = SPLIT
            .iter()
            .find(|(file, _)| *file == path)
            .map_or(module, |(_, name)| (*name).to_owned());
        let source = std::fs::read_to_string(&file).unwrap();
        let used = graph.entry(module.clone()).or_default();
        for first in crate_paths(&source) {
            if let Some(target) = module_of(&first).filter(|target| *target != module) {
                used.insert(target);
            }
        }
    }
    graph
}

#[test]
fn modules_use_only_their_layer_and_the_ones_below() {
    let graph = uses();
    let mut wrong = Vec::new();
    for (module, used) in &graph {
        let layer = layer_of(module);
        for target in used {
            let allowed = if *module == "http" {
                layer_of(target) == 1
            } else {
                layer_of(target) <= layer && *target != "http"
            };
            if !allowed {
                wrong.push(format!(
                    "{module} (layer {layer}) uses {target} (layer {})",
                    layer_of(target)
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
    assert!(graph.len() >= 15, "too few modules read: {graph:?}");
}

#[test]
fn no_two_modules_use_each_other() {
    let graph = uses();
    // Depth-first search for a cycle, reporting its path.
    fn visit<'a>(
        module: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<&'static str>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<&'a str>> {
        if let Some(at) = path.iter().position(|m| *m == module) {
            let mut cycle = path[at..].to_vec();
            cycle.push(module);
            return Some(cycle);
        }
        if !done.insert(module) {
            return None;
        }
        path.push(module);
        for next in graph.get(module).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for module in graph.keys() {
        let mut path = Vec::new();
        if let Some(cycle) = visit(module, &graph, &mut path, &mut done) {
            panic!("modules use each other: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn the_scanner_reads_groups_and_inline_paths() {
    let source = "use crate::{Action, backend::{Pool, TableSql}, self};\n\
                  // use crate::auditor::Auditor;\n\
                  let x = crate::sink::Target::Log; $crate::event::LogEvent";
    assert_eq!(
        crate_paths(source),
        ["Action", "backend", "sink", "event"].map(String::from)
    );
}
