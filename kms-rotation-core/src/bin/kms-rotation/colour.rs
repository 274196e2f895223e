//! Whether to colour, decided once for each stream: the table on stdout, progress bars and
//! messages on stderr. `--color always` and `never` are obeyed as typed; `auto` colours a
//! stream only when it is a terminal and `NO_COLOR` is unset or empty (no-color.org: an explicit
//! flag wins over the variable).

use std::io::IsTerminal;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour a stream that is a terminal, unless NO_COLOR is set.
    #[default]
    Auto,
    /// Colour, even into a pipe or a file.
    Always,
    /// Never colour.
    Never,
}

static CHOICE: OnceLock<ColorChoice> = OnceLock::new();

/// Records the choice, and hands the decision for each stream to `console`, which styles the
/// progress bars and the lines for people.
pub fn init(choice: ColorChoice) {
    let _ = CHOICE.set(choice);
    console::set_colors_enabled(on_stdout());
    console::set_colors_enabled_stderr(on_stderr());
}

pub fn on_stdout() -> bool {
    decide(std::io::stdout().is_terminal())
}

pub fn on_stderr() -> bool {
    decide(std::io::stderr().is_terminal())
}

/// For a file (`--output`): only with `--color always`.
pub fn in_file() -> bool {
    decide(false)
}

fn decide(is_terminal: bool) -> bool {
    let choice = CHOICE.get().copied().unwrap_or_default();
    colour(choice, is_terminal, std::env::var_os("NO_COLOR"))
}

fn colour(choice: ColorChoice, is_terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_terminal && no_color.is_none_or(|v| v.is_empty()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_colours_a_terminal_unless_no_color_is_set() {
        let set = || Some("1".into());
        assert!(colour(ColorChoice::Auto, true, None));
        assert!(colour(ColorChoice::Auto, true, Some("".into())));
        assert!(!colour(ColorChoice::Auto, true, set()));
        assert!(!colour(ColorChoice::Auto, false, None));
    }

    #[test]
    fn always_and_never_are_obeyed_whatever_the_stream_and_no_color() {
        for (terminal, no_color) in [(true, None), (false, Some("1".into()))] {
            assert!(colour(ColorChoice::Always, terminal, no_color.clone()));
            assert!(!colour(ColorChoice::Never, terminal, no_color));
        }
    }
}
