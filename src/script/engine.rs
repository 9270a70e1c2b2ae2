//! `build_engine`: the one Rhai engine setup that `run`, `eval` and the
//! REPL share.

use std::io::Write;
use std::path::Path;
use std::rc::Rc;

use rhai::{exported_module, Dynamic, Engine};

use super::cli_spec::script_args;
use super::helpers::helpers_module;
use super::hub_api::{hub_module, Hub};
use super::resolver::Resolver;
use super::runtime::Context;
use super::terminal_text::escape_controls;

/// An engine with every primitive registered: the `hub` object, the
/// `roster::` and `cluster::` modules and the helpers, all reading
/// `context` (the engine carries it as its default tag; `hub` holds it).
/// `hub` and `args` resolve everywhere, also inside functions and imported
/// modules (unless a local variable of the same name shadows them).
/// Imports resolve from the bundled stdlib, then from `base`.
pub fn build_engine(base: &Path, context: &Rc<Context>) -> Engine {
    let mut engine = Engine::new();
    engine.set_default_tag(Dynamic::from(Rc::clone(context)));
    engine.set_max_expr_depths(256, 256);
    engine.register_type_with_name::<Hub>("Hub");
    engine.register_global_module(exported_module!(hub_module).into());
    engine.register_global_module(exported_module!(super::hub_admin_api::hub_admin_module).into());
    engine.register_global_module(exported_module!(super::hub_sync_api::hub_sync_module).into());
    engine.register_global_module(exported_module!(super::hub_term_api::hub_term_module).into());
    engine.register_global_module(exported_module!(super::hub_lease_api::hub_lease_module).into());
    engine.register_global_module(exported_module!(super::hub_journal_api::hub_journal_module).into());
    engine.register_global_module(exported_module!(helpers_module).into());
    engine.register_global_module(exported_module!(super::cli_module::cli_module).into());
    engine.register_global_module(exported_module!(super::user_table::user_table_module).into());
    engine.register_static_module("roster", exported_module!(super::roster_api::roster_module).into());
    engine.register_static_module("cluster", exported_module!(super::cluster_api::cluster_module).into());
    engine.set_module_resolver(Resolver::new(base));
    let printing = Rc::clone(context);
    engine.on_print(move |text| {
        printing.note_printed();
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", escape_controls(text));
    });
    engine.on_debug(|text, source, pos| {
        let place = source.map(|s| format!("{s}:{pos}")).unwrap_or_else(|| pos.to_string());
        let _ = writeln!(std::io::stderr(), "[{}] {}", escape_controls(&place), escape_controls(text));
    });
    let hub = Hub::new(Rc::clone(context));
    #[allow(deprecated)] // volatile, not deprecated: the one way to reach `hub` inside functions
    engine.on_var(move |name, _, context| {
        if context.scope().contains(name) {
            return Ok(None);
        }
        Ok(match name {
            "hub" => Some(Dynamic::from(hub.clone())),
            "args" => Some(script_args().into_iter().map(Dynamic::from).collect::<rhai::Array>().into()),
            _ => None,
        })
    });
    engine
}
