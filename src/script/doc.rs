//! `jhctl doc`: every primitive's signature and doc text, read from the
//! engine's metadata (the `///` comments of the binding modules).

use rhai::Engine;
use serde::Deserialize;

/// One documented function.
#[derive(Debug, Clone)]
pub struct Entry {
    /// How scripts call it: `hub.create_users`, `roster::read`, `password`.
    pub name: String,
    /// `hub.create_users(list: Array, options: Map) -> Array`.
    pub signature: String,
    /// The doc text without `///`.
    pub text: String,
}

impl Entry {
    /// The first sentence of the doc text.
    pub fn summary(&self) -> String {
        let paragraph: Vec<&str> = self.text.lines().take_while(|l| !l.trim().is_empty()).map(str::trim).collect();
        let paragraph = paragraph.join(" ");
        match paragraph.find(". ") {
            Some(end) => paragraph[..=end].to_string(),
            None => paragraph,
        }
    }
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    modules: std::collections::BTreeMap<String, ModuleMeta>,
    #[serde(default)]
    functions: Vec<FnMeta>,
}

#[derive(Deserialize)]
struct ModuleMeta {
    #[serde(default)]
    functions: Vec<FnMeta>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FnMeta {
    name: String,
    #[serde(default)]
    params: Vec<Param>,
    #[serde(default)]
    return_type: Option<String>,
    #[serde(default)]
    doc_comments: Vec<String>,
}

#[derive(Deserialize)]
struct Param {
    name: Option<String>,
    #[serde(rename = "type")]
    ty: Option<String>,
}

/// Every primitive registered in `engine`, sorted by name.
pub fn entries(engine: &Engine) -> Vec<Entry> {
    let json = engine.gen_fn_metadata_to_json(false).unwrap_or_default();
    let meta: Metadata =
        serde_json::from_str(&json).unwrap_or(Metadata { modules: Default::default(), functions: vec![] });
    let mut out: Vec<Entry> = Vec::new();
    for f in &meta.functions {
        out.push(entry(None, f));
    }
    for (module, m) in &meta.modules {
        for f in &m.functions {
            out.push(entry(Some(module), f));
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.signature.len().cmp(&b.signature.len())));
    out
}

fn entry(module: Option<&str>, f: &FnMeta) -> Entry {
    let text = f
        .doc_comments
        .iter()
        .flat_map(|c| c.lines())
        .map(|l| l.trim_start().strip_prefix("///").map(|t| t.strip_prefix(' ').unwrap_or(t)).unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let is_method = f.params.first().and_then(|p| p.ty.as_deref()).is_some_and(|t| t.contains("Hub"));
    let params: Vec<String> = f
        .params
        .iter()
        .skip(usize::from(is_method))
        .map(|p| match (&p.name, &p.ty) {
            (Some(n), Some(t)) => format!("{n}: {}", short_type(t)),
            (Some(n), None) => n.clone(),
            (None, Some(t)) => short_type(t),
            (None, None) => "_".into(),
        })
        .collect();
    let ret = f.return_type.as_deref().map(short_type).filter(|r| r != "()" && !r.is_empty());
    let (name, signature) = if let Some(prop) = f.name.strip_prefix("get$") {
        let name = format!("hub.{prop}");
        (name.clone(), format!("{name} -> {}", ret.clone().unwrap_or_default()))
    } else {
        let name = match (module, is_method) {
            (Some(m), _) => format!("{m}::{}", f.name),
            (None, true) => format!("hub.{}", f.name),
            (None, false) => f.name.clone(),
        };
        let sig = format!("{name}({})", params.join(", "));
        (name, ret.map(|r| format!("{sig} -> {r}")).unwrap_or(sig))
    };
    Entry { name, signature, text }
}

fn short_type(t: &str) -> String {
    let t = t.trim().trim_start_matches("&mut ").trim_start_matches('&');
    let t = t.rsplit("::").next().unwrap_or(t);
    match t {
        "ImmutableString" | "String" | "str" => "String".into(),
        "Dynamic" => "?".into(),
        "RhaiResult" => "?".into(),
        other => other.trim_start_matches("Result<").trim_end_matches(", Box<EvalAltResult>>").to_string(),
    }
}

/// The text `jhctl doc` prints: one line per primitive, or the full text
/// of the primitives called `name` (`create_users`, `hub.create_users`,
/// `roster::read`). `None` when nothing matches.
pub fn render(engine: &Engine, name: Option<&str>) -> Option<String> {
    let all = entries(engine);
    match name {
        None => {
            let width = all.iter().map(|e| e.signature.chars().count()).max().unwrap_or(0).min(60);
            Some(all.iter().map(|e| format!("{:width$}  {}\n", e.signature, e.summary())).collect())
        }
        Some(wanted) => {
            let hits: Vec<&Entry> = all
                .iter()
                .filter(|e| {
                    e.name == wanted
                        || e.name.rsplit(['.', ':']).next() == Some(wanted.trim_start_matches("hub."))
                            && !wanted.contains("::")
                })
                .collect();
            if hits.is_empty() {
                return None;
            }
            Some(
                hits.iter().map(|e| format!("{}\n\n{}\n", e.signature, indent(&e.text))).collect::<Vec<_>>().join("\n"),
            )
        }
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| if l.is_empty() { String::new() } else { format!("    {l}") }).collect::<Vec<_>>().join("\n")
}

/// Names that have no doc text (the test that every primitive is documented uses it).
pub fn undocumented(engine: &Engine) -> Vec<String> {
    entries(engine).into_iter().filter(|e| e.text.trim().is_empty()).map(|e| e.signature).collect()
}

/// Names close to `wanted`, for "did you mean".
pub fn suggest(engine: &Engine, wanted: &str) -> Vec<String> {
    let mut names: Vec<String> = entries(engine)
        .into_iter()
        .map(|e| e.name)
        .filter(|n| n.contains(wanted) || wanted.contains(n.rsplit(['.', ':']).next().unwrap_or(n)))
        .collect();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_primitive_is_documented_with_an_example() {
        let engine = crate::script::build_engine(std::path::Path::new("."), &Default::default());
        assert_eq!(undocumented(&engine), Vec::<String>::new());
        for entry in entries(&engine) {
            assert!(entry.text.contains("```rhai"), "`{}` has no rhai example", entry.signature);
        }
    }

    #[test]
    fn one_name_finds_every_overload() {
        let engine = crate::script::build_engine(std::path::Path::new("."), &Default::default());
        let text = render(&engine, Some("create_users")).unwrap();
        assert_eq!(text.matches("hub.create_users(").count(), 4, "{text}");
        assert!(render(&engine, Some("roster::read")).unwrap().starts_with("roster::read(path: String) -> Array"));
        assert!(render(&engine, Some("no_such_thing")).is_none());
    }
}
