//! A minimal `tracing` subscriber printing events to stderr (the crate has no subscriber
//! dependency): what a failing seed did, with `NOVATION_SIM_LOG=debug`.

use tracing::{field, span, subscriber, Event, Level, Metadata, Subscriber};

/// Installs the stderr subscriber for this thread if `NOVATION_SIM_LOG` names a level.
pub fn from_env() -> Option<subscriber::DefaultGuard> {
    let level = match std::env::var("NOVATION_SIM_LOG").ok()?.to_ascii_lowercase().as_str() {
        "error" => Level::ERROR,
        "warn" => Level::WARN,
        "info" => Level::INFO,
        "debug" => Level::DEBUG,
        "trace" => Level::TRACE,
        _ => return None,
    };
    Some(subscriber::set_default(Stderr { level }))
}

struct Stderr {
    level: Level,
}

struct Fields(String);

impl field::Visit for Fields {
    fn record_debug(&mut self, f: &field::Field, v: &dyn std::fmt::Debug) {
        self.0.push_str(&format!(" {}={v:?}", f.name()));
    }
}

impl Subscriber for Stderr {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        *m.level() <= self.level
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, e: &Event<'_>) {
        let mut fields = Fields(String::new());
        e.record(&mut fields);
        eprintln!("{} {}{}", e.metadata().level(), e.metadata().target(), fields.0);
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}
