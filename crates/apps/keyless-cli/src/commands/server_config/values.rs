//! A TOML value as the command-line words of its flag, checked with the
//! flag's own value parser (so `batch-size = 0` fails as `--batch-size 0`
//! does, before anything starts).

use std::ffi::OsString;

use clap::error::{ContextKind, ErrorKind};
use clap::{Arg, ArgAction, Command};

/// Most values one repeatable key may list.
const MAX_VALUES: usize = 256;

/// The words for `value` given to `arg` (`--listen=127.0.0.1:3000`, or
/// `--dev` for `dev = true`) and the values as text.
pub(super) fn words(
    arg: &Arg,
    value: &toml::Value,
) -> Result<(Vec<OsString>, Vec<String>), String> {
    let long = arg
        .get_long()
        .ok_or_else(|| "a flag without a long name cannot be set in a file".to_owned())?;
    match arg.get_action() {
        ArgAction::SetTrue | ArgAction::SetFalse => {
            let toml::Value::Boolean(b) = value else {
                return Err(format!("expects true or false, not {}", kind(value)));
            };
            let present = matches!(arg.get_action(), ArgAction::SetTrue) == *b;
            let words = if present {
                vec![OsString::from(format!("--{long}"))]
            } else {
                Vec::new()
            };
            Ok((words, vec![b.to_string()]))
        }
        ArgAction::Set => {
            let text = scalar(value)?;
            check(arg, &text)?;
            Ok((vec![OsString::from(format!("--{long}={text}"))], vec![text]))
        }
        ArgAction::Append => {
            let items: Vec<&toml::Value> = match value {
                toml::Value::Array(items) => items.iter().collect(),
                one => vec![one],
            };
            if items.len() > MAX_VALUES {
                return Err(format!("more than {MAX_VALUES} values"));
            }
            let mut words = Vec::new();
            let mut texts = Vec::new();
            for item in items {
                let text = scalar(item)?;
                check(arg, &text)?;
                words.push(OsString::from(format!("--{long}={text}")));
                texts.push(text);
            }
            Ok((words, texts))
        }
        _ => Err("this flag cannot be set in a configuration file".to_owned()),
    }
}

/// One value as the text a flag takes.
fn scalar(value: &toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        toml::Value::Datetime(d) => Ok(d.to_string()),
        toml::Value::Array(_) => Err("takes one value, not a list".to_owned()),
        toml::Value::Table(_) => Err("takes a value, not a table".to_owned()),
    }
}

fn kind(value: &toml::Value) -> &'static str {
    value.type_str()
}

/// Parse `text` with `arg`'s value parser, as clap would on the command
/// line.
fn check(arg: &Arg, text: &str) -> Result<(), String> {
    // A positional copy of the flag's parser: the value is taken as is,
    // even when it starts with a dash.
    let probe = Arg::new(arg.get_id().clone())
        .action(ArgAction::Set)
        .allow_hyphen_values(true)
        .value_parser(arg.get_value_parser().clone());
    match Command::new("config")
        .no_binary_name(true)
        .arg(probe)
        .try_get_matches_from([text])
    {
        Ok(_) => Ok(()),
        Err(e) => Err(explain(&e, text)),
    }
}

/// A clap error about one value as one line.
fn explain(e: &clap::Error, text: &str) -> String {
    if let Some(source) = std::error::Error::source(e) {
        return format!("invalid value '{text}': {source}");
    }
    if e.kind() == ErrorKind::InvalidValue {
        if let Some(valid) = e.get(ContextKind::ValidValue) {
            return format!("invalid value '{text}': expected one of {valid}");
        }
    }
    let rendered = e.to_string();
    let first = rendered.lines().next().unwrap_or("invalid value");
    first.trim_start_matches("error: ").to_owned()
}
